/**
 * Persistence: an async key-value interface that apps implement over their platform's secure
 * storage (IndexedDB, Keychain/Keystore, an encrypted file), an in-memory implementation, and
 * helpers that save and load keyrings and device identities through it.
 *
 * @module
 */
import { DeviceIdentity } from "@domvia/e2ee-crypto";
import { E2eeError, assertId } from "@domvia/e2ee-envelope";
import { RoomKeyring } from "./keyring";

/**
 * Where a device keeps its secret state. Values are JSON-safe objects (the `exportState()`
 * results); an implementation may serialise them however it likes, and must keep them secret:
 * they hold keys.
 */
export interface KeyStore {
  /** The value stored under `key`, or `undefined`. */
  get(key: string): Promise<unknown>;
  /** Stores `value` under `key`, replacing any earlier value. */
  set(key: string, value: unknown): Promise<void>;
  /** Removes `key`; no error when it is absent. */
  delete(key: string): Promise<void>;
  /** Every key that starts with `prefix`. */
  keys(prefix: string): Promise<string[]>;
}

function cloneJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(cloneJson);
  if (typeof value === "object" && value !== null) {
    // `Object.fromEntries` defines own members: assigning `copy["__proto__"]` would instead set
    // the copy's prototype, silently dropping a member the state's reader must see (and refuse).
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, cloneJson(item)]));
  }
  return value;
}

/**
 * A {@link KeyStore} in memory: for tests, servers-side bots with their own persistence, and as a
 * reference implementation. Stores copies, so later changes to a saved object do not leak in.
 *
 * @example
 * ```ts
 * const store = new MemoryKeyStore();
 * await saveKeyring(store, keyring);
 * const again = await loadKeyring(store, keyring.roomId);
 * ```
 */
export class MemoryKeyStore implements KeyStore {
  readonly #values = new Map<string, unknown>();

  async get(key: string): Promise<unknown> {
    return this.#values.has(key) ? cloneJson(this.#values.get(key)) : undefined;
  }

  async set(key: string, value: unknown): Promise<void> {
    this.#values.set(key, cloneJson(value));
  }

  async delete(key: string): Promise<void> {
    this.#values.delete(key);
  }

  async keys(prefix: string): Promise<string[]> {
    return [...this.#values.keys()].filter((key) => key.startsWith(prefix));
  }

  /** Never shows stored values. */
  toJSON(): { entries: number } {
    return { entries: this.#values.size };
  }
}

const KEYRING_PREFIX = "domvia-e2ee/keyring/";
const DEVICE_KEY = "domvia-e2ee/device";

/**
 * Saves a keyring's state under its room id.
 *
 * @example
 * ```ts
 * await saveKeyring(store, keyring);
 * ```
 */
export async function saveKeyring(store: KeyStore, keyring: RoomKeyring): Promise<void> {
  await store.set(KEYRING_PREFIX + keyring.roomId, keyring.exportState());
}

/**
 * Loads the keyring of a room, or `undefined` when none is saved.
 *
 * @throws E2eeError `INVALID_ENVELOPE` / `UNSUPPORTED_VERSION` / `PAYLOAD_TOO_LARGE` for a corrupt
 *   stored state, and `INVALID_ENVELOPE` when the state saved under this room is another room's
 *   keyring.
 * @throws TypeError when `roomId` is not a valid identifier.
 */
export async function loadKeyring(store: KeyStore, roomId: string): Promise<RoomKeyring | undefined> {
  assertId(roomId, "roomId");
  const state = await store.get(KEYRING_PREFIX + roomId);
  if (state === undefined) return undefined;
  const keyring = RoomKeyring.importState(state);
  if (keyring.roomId !== roomId) {
    keyring.destroy();
    throw new E2eeError("INVALID_ENVELOPE", `the keyring stored for room "${roomId}" belongs to another room`);
  }
  return keyring;
}

/**
 * Loads every saved keyring.
 *
 * @throws E2eeError `INVALID_ENVELOPE` / `UNSUPPORTED_VERSION` for a corrupt stored state, and
 *   `PAYLOAD_TOO_LARGE` for one over its size limits, as {@link RoomKeyring.importState}.
 */
export async function loadKeyrings(store: KeyStore): Promise<RoomKeyring[]> {
  const keyrings: RoomKeyring[] = [];
  for (const key of await store.keys(KEYRING_PREFIX)) {
    const state = await store.get(key);
    if (state !== undefined) keyrings.push(RoomKeyring.importState(state));
  }
  return keyrings;
}

/** Saves this device's identity (secret keys included). */
export async function saveDeviceIdentity(store: KeyStore, device: DeviceIdentity): Promise<void> {
  await store.set(DEVICE_KEY, device.exportState());
}

/**
 * Loads this device's identity, or `undefined` when none is saved.
 *
 * @throws E2eeError `INVALID_ENVELOPE` / `UNSUPPORTED_VERSION` for a corrupt stored state, and
 *   `PAYLOAD_TOO_LARGE` for JSON text over 4,096 characters, as {@link DeviceIdentity.importState}.
 */
export async function loadDeviceIdentity(store: KeyStore): Promise<DeviceIdentity | undefined> {
  const state = await store.get(DEVICE_KEY);
  return state === undefined ? undefined : DeviceIdentity.importState(state);
}
