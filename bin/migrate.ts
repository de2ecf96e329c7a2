/** `npm run db:migrate`: applies db/migrations to DATABASE_URL, or to PGlite under DATA_DIR. */
import { join } from "node:path";
import { migrate, openDatabase } from "../db/index.ts";
import { loadConfig } from "./config.ts";

const config = loadConfig();
const handle = await openDatabase(
  config.DATABASE_URL ? { url: config.DATABASE_URL } : { dataDir: join(config.DATA_DIR, "pglite") },
);
await migrate(handle);
console.log(
  `migrated ${handle.driver === "postgres" ? "PostgreSQL" : `PGlite in ${join(config.DATA_DIR, "pglite")}`}`,
);
await handle.close();
