/**
 * Lost and revoked devices across rooms.
 *
 * @module
 */
import type { RoomKeyring } from "./keyring";

/**
 * Revokes a device in every given keyring and returns those keyrings, which now require
 * rotation. Then, for each: `rotate`, and `shareRoomKey` with the remaining devices only. The
 * revoked device keeps what it already had and can open nothing encrypted after the rotation.
 *
 * @example
 * ```ts
 * for (const keyring of revokeDeviceEverywhere({ keyrings, userId: "user-1", deviceId: "old-phone" })) {
 *   keyring.rotate({ reason: "device-revoked" });
 *   await server.postShares(shareRoomKey({ keyring, from: device, to: await server.roomDevices(keyring.roomId) }));
 * }
 * ```
 */
export function revokeDeviceEverywhere(options: {
  readonly keyrings: Iterable<RoomKeyring>;
  readonly userId: string;
  readonly deviceId: string;
}): RoomKeyring[] {
  const affected: RoomKeyring[] = [];
  for (const keyring of options.keyrings) {
    keyring.revokeDevice({ userId: options.userId, deviceId: options.deviceId });
    affected.push(keyring);
  }
  return affected;
}
