import { createRecoveryKey } from "@domvia/realtime-e2ee";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestWorld } from "./helpers";

/** Every column of every row of every table, as text. */
function dumpDatabase(db: Awaited<ReturnType<typeof createTestWorld>>["relay"]["db"]): string {
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[];
  const cells: string[] = [];
  for (const { name } of tables) {
    for (const row of db.prepare(`SELECT * FROM "${name}"`).all() as Record<string, unknown>[]) {
      for (const value of Object.values(row)) cells.push(Buffer.isBuffer(value) ? value.toString("latin1") : String(value));
    }
  }
  return cells.join("\n");
}

describe("what the relay stores", () => {
  let world: Awaited<ReturnType<typeof createTestWorld>>;
  beforeAll(async () => {
    world = await createTestWorld();
  });
  afterAll(async () => {
    await world.close();
  });

  it("holds no message body, no room key and no recovery code after a conversation", async () => {
    const alice = await world.connect("alice", "laptop");
    const bob = await world.connect("bob", "phone");
    await alice.createRoom("room-9");
    await alice.addMember("room-9", "bob");
    await alice.shareKey("room-9");
    await bob.receiveShares();
    const aliceRoom = await alice.join("room-9");
    const bobRoom = await bob.join("room-9");
    const bodies = ["meet at the north gate", "bring the blue folder", "the code word is heliotrope"];
    const received: unknown[] = [];
    const allReceived = new Promise<void>((resolve) =>
      bobRoom.subscribe("chat.message", (event) => {
        received.push(event);
        if (received.length === 2) resolve();
      }),
    );
    await aliceRoom.publish("chat.message", { body: bodies[0] });
    await aliceRoom.publish("chat.message", { body: bodies[1] });
    await allReceived;
    await bobRoom.publish("chat.message", { body: bodies[2] });
    // Rotate once so the store has seen more than one version travel.
    alice.keyring("room-9").requireRotation("manual");
    await alice.rotateAndShare("room-9");
    await bob.receiveShares();
    const recoveryKey = await createRecoveryKey();
    await alice.backUp(recoveryKey);
    await bob.backUp(recoveryKey);

    const dump = dumpDatabase(world.relay.db);
    expect(dump).toContain("room-9");
    for (const body of bodies) expect(dump).not.toContain(body);
    for (const word of ["north gate", "blue folder", "heliotrope"]) expect(dump).not.toContain(word);
    expect(dump).not.toContain(recoveryKey.code);
    expect(dump).not.toContain(recoveryKey.code.split(" ").slice(0, 4).join(" "));
    const secrets: string[] = [];
    for (const client of [alice, bob]) {
      for (const { key } of client.keyring("room-9").exportState().versions) secrets.push(key);
      const identity = client.device.exportState();
      secrets.push(identity.agreementSecretKey, identity.signingSecretKey);
    }
    expect(secrets.length).toBe(8);
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(40);
      expect(dump).not.toContain(secret);
      expect(dump).not.toContain(Buffer.from(secret, "base64url").toString("base64"));
      expect(dump).not.toContain(Buffer.from(secret, "base64url").toString("hex"));
    }
  });
});
