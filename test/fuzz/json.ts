/**
 * `JSON.stringify` from a separate realm, for the fuzz suites' own serialising of the inputs they
 * generate. The secret-hygiene setup wraps the global one to check what SDK code serialises; the
 * suites serialise hostile test inputs hundreds of thousands of times, which is not SDK output,
 * and that check's walk over an input trips over the inputs' throwing Proxies and getters.
 */
import { runInNewContext } from "node:vm";

const foreignJson = runInNewContext("JSON") as JSON;

/** `JSON.stringify`, unwrapped; `undefined` for a value JSON cannot represent (a function, `undefined`). */
export function stringify(value: unknown, replacer?: (this: unknown, key: string, value: unknown) => unknown, space?: number): string | undefined {
  return foreignJson.stringify(value, replacer, space) as string | undefined;
}
