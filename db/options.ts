import { fileURLToPath } from "node:url";

/** How to open the history database. Every field is optional; see `databaseOptions` for defaults. */
export interface DatabaseOptions {
  /**
   * A `postgres://` URL. When given, the database is PostgreSQL through postgres.js; when not,
   * an embedded PGlite. Default: none (PGlite).
   */
  url?: string;
  /** PGlite only: the directory of a file-backed store. Default: none (in memory). */
  dataDir?: string;
  /** postgres.js only: the size of the connection pool. Default: 10. */
  maxConnections?: number;
  /** postgres.js only: seconds before an idle pooled connection is closed. Default: 30. */
  idleTimeoutSeconds?: number;
  /** postgres.js only: seconds to wait for a connection to open. Default: 10. */
  connectTimeoutSeconds?: number;
  /** postgres.js only: `application_name`, shown in `pg_stat_activity`. Default: "xianda". */
  applicationName?: string;
}

export type ResolvedDatabaseOptions = Required<Omit<DatabaseOptions, "url" | "dataDir">> &
  Pick<DatabaseOptions, "url" | "dataDir">;

/** The one place where database options get their defaults. */
export function databaseOptions(options: DatabaseOptions = {}): ResolvedDatabaseOptions {
  return {
    url: options.url,
    dataDir: options.dataDir,
    maxConnections: options.maxConnections ?? 10,
    idleTimeoutSeconds: options.idleTimeoutSeconds ?? 30,
    connectTimeoutSeconds: options.connectTimeoutSeconds ?? 10,
    applicationName: options.applicationName ?? "xianda",
  };
}

/** How to migrate. */
export interface MigrateOptions {
  /** The folder drizzle-kit generated. Default: `db/migrations` beside this module. */
  migrationsFolder?: string;
}

export const DEFAULT_MIGRATIONS_FOLDER = fileURLToPath(new URL("./migrations", import.meta.url));

/**
 * The advisory lock key that serialises concurrent `migrate()` calls against one PostgreSQL
 * database (several hosts starting at once). Any constant works; this one spells "xianda".
 */
export const MIGRATION_LOCK_KEY = 0x7869616e6461;
