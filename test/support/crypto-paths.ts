/**
 * The two paths an asynchronous key-sharing call can take, for tests that run each case on both
 * with `describe.each([nodePath, webCryptoPath])`:
 *
 * - "node:crypto": Node as it is;
 * - "WebCrypto (as in a browser)": node:crypto hidden from the SDK and Node's own WebCrypto offered
 *   in its place, behind call counters (and a hook) that prove the curves really ran there.
 *
 * Vitest resolves "@domvia/e2ee-crypto" to packages/crypto/src, so the switch below reaches the
 * module instance the packages use.
 */
import { expect } from "vitest";
import { getNativeCrypto, nativeCurves, setNativeBackendsForTesting, setNativeCrypto, type WebCryptoCurves } from "../../packages/crypto/src/native";

export const CURVE_METHODS = ["importKey", "deriveBits", "sign", "verify"] as const;
export type CurveMethod = (typeof CURVE_METHODS)[number];
export type CurveCalls = Record<CurveMethod, number>;

let beforeWebCall: ((method: CurveMethod) => void) | undefined;
let afterWebCall: ((method: CurveMethod) => void) | undefined;
let webCalls: CurveCalls | undefined;

/** Runs `hook` before each forwarded WebCrypto call (`undefined` stops it; so does the path's tearDown). */
export function onWebCall(hook: ((method: CurveMethod) => void) | undefined): void {
  beforeWebCall = hook;
}

/**
 * Runs `hook` when a forwarded WebCrypto call has its result, just before the promise the SDK
 * awaits for it resolves (`undefined` stops it; so does the path's tearDown).
 */
export function onWebResult(hook: ((method: CurveMethod) => void) | undefined): void {
  afterWebCall = hook;
}

/** The WebCrypto calls counted since the WebCrypto path's setUp. */
export function webCallCounts(): CurveCalls {
  if (webCalls === undefined) throw new Error("the WebCrypto path is not set up");
  return webCalls;
}

/**
 * The real `crypto.subtle` behind an object that counts each call of the curve methods (and runs
 * the {@link onWebCall} hook first, {@link onWebResult} last), with optional replacements for some
 * of them. Every method is async: a hook that throws makes the call reject.
 */
export function countingCurves(replace: Partial<WebCryptoCurves> = {}): { curves: WebCryptoCurves; calls: CurveCalls } {
  const subtle = globalThis.crypto.subtle as unknown as Record<CurveMethod, (...args: unknown[]) => unknown>;
  const calls: CurveCalls = { importKey: 0, deriveBits: 0, sign: 0, verify: 0 };
  const curves: Record<string, unknown> = {};
  for (const name of CURVE_METHODS) {
    // WebCrypto methods need `this` to be the SubtleCrypto.
    const run = (replace[name] ?? subtle[name].bind(subtle)) as (...args: unknown[]) => unknown;
    curves[name] = async (...args: unknown[]) => {
      calls[name]++;
      beforeWebCall?.(name);
      const result = await run(...args);
      afterWebCall?.(name);
      return result;
    };
  }
  return { curves: curves as unknown as WebCryptoCurves, calls };
}

export interface CryptoPath {
  readonly name: string;
  setUp(): Promise<void>;
  tearDown(): void;
  /** Checks, after a share, that the path's curves did the work (`verifiedFreshBundles`: a bundle was verified, not cached). */
  expectCurvesUsed(options?: { readonly verifiedFreshBundles: boolean }): void;
}

export const nodePath: CryptoPath = {
  name: "node:crypto",
  async setUp() {
    setNativeCrypto("auto"); // whatever mode an earlier file or setup left
  },
  tearDown() {},
  expectCurvesUsed() {
    expect(getNativeCrypto().asyncCurves).toBe("node:crypto");
  },
};

export const webCryptoPath: CryptoPath = {
  name: "WebCrypto (as in a browser)",
  async setUp() {
    setNativeCrypto("auto");
    const { curves, calls } = countingCurves();
    setNativeBackendsForTesting({ node: undefined, curves });
    // The known-answer self-test runs on the counted object too: let it finish, then count from 0.
    expect(await nativeCurves(), "WebCrypto's X25519/Ed25519 self-test failed in this Node").toBe(curves);
    for (const name of CURVE_METHODS) calls[name] = 0;
    webCalls = calls;
  },
  tearDown() {
    setNativeBackendsForTesting({ node: null, subtle: null, curves: null });
    webCalls = undefined;
    beforeWebCall = undefined;
    afterWebCall = undefined;
  },
  expectCurvesUsed({ verifiedFreshBundles } = { verifiedFreshBundles: true }) {
    expect(getNativeCrypto().asyncCurves).toBe("webcrypto");
    const calls = webCallCounts();
    expect(calls.importKey, "importKey").toBeGreaterThan(0);
    expect(calls.deriveBits, "deriveBits (X25519: the agreement and the ephemeral public key)").toBeGreaterThan(1);
    expect(calls.sign, "sign (Ed25519)").toBeGreaterThan(0);
    // Bundles verified before come from the verification cache, without a signature check.
    if (verifiedFreshBundles) expect(calls.verify, "verify (Ed25519)").toBeGreaterThan(0);
  },
};
