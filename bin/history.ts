/** The history database and the certificate signer, as every entry point opens them. */
import { join } from "node:path";
import { loadSigner } from "../coldchain/index.ts";
import type { CertificateSigner } from "../coldchain/index.ts";
import { migrate, openDatabase } from "../db/index.ts";
import type { DatabaseHandle } from "../db/index.ts";
import type { Config } from "./config.ts";

/** Postgres at DATABASE_URL, else PGlite under DATA_DIR; migrated. */
export async function openHistory(config: Config): Promise<DatabaseHandle> {
  const handle = await openDatabase(
    config.DATABASE_URL
      ? { url: config.DATABASE_URL }
      : { dataDir: join(config.DATA_DIR, "pglite") },
  );
  await migrate(handle);
  return handle;
}

/** XIANDA_CERT_KEY, else the key file (made on first use). */
export function certificateSigner(config: Config): Promise<CertificateSigner> {
  return config.XIANDA_CERT_KEY
    ? loadSigner({ pem: config.XIANDA_CERT_KEY })
    : loadSigner({ file: config.CERT_KEY_FILE ?? join(config.DATA_DIR, "cert-key.pem") });
}
