/** The personal-data keyring, as every entry point opens it. */
import { join } from "node:path";
import { loadKeyring } from "../pii/index.ts";
import type { PiiKeyring } from "../pii/index.ts";
import type { Config } from "./config.ts";

/** XIANDA_PII_KEYS, else the keyring file (made on first use: demo and development). */
export function piiKeyring(config: Config): Promise<PiiKeyring> {
  return config.XIANDA_PII_KEYS
    ? loadKeyring({ keys: config.XIANDA_PII_KEYS })
    : loadKeyring({ file: config.PII_KEYS_FILE ?? join(config.DATA_DIR, "pii-keys") });
}
