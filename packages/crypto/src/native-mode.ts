/**
 * The native-acceleration switch, kept apart from native.ts so that modules native.ts depends on
 * (bytes.ts) can read it without an import cycle. `setNativeCrypto` in native.ts is the public way
 * to change it.
 *
 * @module
 */

/** Whether native implementations may be used: `"auto"` (default) or `"off"` (noble only). */
export type NativeCryptoMode = "auto" | "off";

let mode: NativeCryptoMode = "auto";

/** @internal The current mode. */
export function nativeMode(): NativeCryptoMode {
  return mode;
}

/** @internal Sets the mode; native.ts validates the value first. */
export function setNativeMode(newMode: NativeCryptoMode): void {
  mode = newMode;
}

/**
 * @internal A built-in module of the runtime (Node 20.16+, Bun, Deno) through
 * `process.getBuiltinModule`, never a static import, so browser bundles hold no reference to it.
 * `undefined` where there is none.
 */
export function builtinModule(id: string): unknown {
  try {
    const process = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    return typeof process?.getBuiltinModule === "function" ? process.getBuiltinModule(id) : undefined;
  } catch {
    return undefined;
  }
}
