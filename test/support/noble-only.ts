/**
 * Setup of the "noble" test project: every crypto test runs a second time with native
 * acceleration switched off, so vectors, Wycheproof, C2SP and property tests prove both paths.
 */
import { setNativeCrypto } from "@domvia/e2ee-crypto";

setNativeCrypto("off");
