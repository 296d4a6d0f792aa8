// A KeyStore (see @domvia/realtime-e2ee) over IndexedDB: one database per user and device, one
// object store of JSON-safe values (the SDK's exportState() results) keyed by string.
//
// Demo-grade: the values hold secret keys and IndexedDB keeps them as they are. A real app would
// wrap them with a non-extractable WebCrypto key, or keep them in the platform's secure storage.

const STORE = "keys";

/** The result of a request. @param {IDBRequest} request */
function result(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/** Resolves when a transaction has committed. @param {IDBTransaction} transaction */
function committed(transaction) {
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve(undefined);
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error ?? new Error("IndexedDB transaction aborted"));
  });
}

/** @implements {import("@domvia/realtime-e2ee").KeyStore} */
export class IndexedDbKeyStore {
  /** @type {IDBDatabase} */
  #db;

  /** @param {IDBDatabase} db */
  constructor(db) {
    this.#db = db;
  }

  /** Opens (or creates) the database `name`. */
  static async open(name) {
    const request = indexedDB.open(name, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    return new IndexedDbKeyStore(await result(request));
  }

  async get(key) {
    return result(this.#db.transaction(STORE, "readonly").objectStore(STORE).get(key));
  }

  async set(key, value) {
    const transaction = this.#db.transaction(STORE, "readwrite");
    transaction.objectStore(STORE).put(JSON.parse(JSON.stringify(value)), key);
    await committed(transaction);
  }

  async delete(key) {
    const transaction = this.#db.transaction(STORE, "readwrite");
    transaction.objectStore(STORE).delete(key);
    await committed(transaction);
  }

  async keys(prefix) {
    const all = await result(this.#db.transaction(STORE, "readonly").objectStore(STORE).getAllKeys());
    return all.filter((key) => typeof key === "string" && key.startsWith(prefix));
  }

  /** Never shows stored values. */
  toJSON() {
    return { indexedDb: this.#db.name };
  }
}
