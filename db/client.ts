import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import type { SQL } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { DatabaseClosedError, DatabaseConnectError, MigrationError } from "./errors.ts";
import {
  DEFAULT_MIGRATIONS_FOLDER,
  MIGRATION_LOCK_KEY,
  databaseOptions,
  type DatabaseOptions,
  type MigrateOptions,
  type ResolvedDatabaseOptions,
} from "./options.ts";
import * as schema from "./schema/index.ts";

export type Schema = typeof schema;

/**
 * The drizzle database, typed with the schema. Both drivers' databases are this type, so code
 * that takes a `Database` runs unchanged on PostgreSQL and on PGlite.
 */
export type Database = PgDatabase<PgQueryResultHKT, Schema>;

export type DriverName = "postgres" | "pglite";

export interface DatabaseHandle {
  readonly db: Database;
  readonly driver: DriverName;
  /** Closes the pool (postgres.js) or the embedded database (PGlite). Safe to call twice. */
  close(): Promise<void>;
}

/** What `migrate` and `close` need and callers must not touch. */
type Internals =
  | { driver: "postgres"; options: ResolvedDatabaseOptions; sql: postgres.Sql; closed: boolean }
  | { driver: "pglite"; pglite: PGlite; closed: boolean };

const internals = new WeakMap<DatabaseHandle, Internals>();

function postgresClient(options: ResolvedDatabaseOptions, url: string, max: number): postgres.Sql {
  return postgres(url, {
    max,
    idle_timeout: options.idleTimeoutSeconds,
    connect_timeout: options.connectTimeoutSeconds,
    connection: { application_name: options.applicationName },
    // NOTICEs ("relation already exists, skipping") are expected from idempotent DDL.
    onnotice: () => {},
  });
}

/**
 * Opens the history database: PostgreSQL through postgres.js when `url` is given, else PGlite
 * (in memory, or file-backed in `dataDir`). The connection is checked before this resolves.
 * @throws DatabaseConnectError when the database cannot be reached or opened.
 */
export async function openDatabase(options: DatabaseOptions = {}): Promise<DatabaseHandle> {
  const resolved = databaseOptions(options);
  if (resolved.url !== undefined) {
    const sql = postgresClient(resolved, resolved.url, resolved.maxConnections);
    try {
      await sql`select 1`;
    } catch (cause) {
      await sql.end({ timeout: 0 }).catch(() => {});
      throw new DatabaseConnectError(`cannot connect to PostgreSQL: ${describe(cause)}`, { cause });
    }
    const db: Database = drizzlePostgres({ client: sql, schema });
    return register(
      { db, driver: "postgres" },
      { driver: "postgres", options: resolved, sql, closed: false },
    );
  }

  let pglite: PGlite;
  try {
    // PGlite creates its own folder but not the ones above it.
    if (resolved.dataDir !== undefined) mkdirSync(dirname(resolved.dataDir), { recursive: true });
    pglite = await PGlite.create(
      resolved.dataDir === undefined ? {} : { dataDir: resolved.dataDir },
    );
  } catch (cause) {
    const where = resolved.dataDir ?? "memory";
    throw new DatabaseConnectError(`cannot open PGlite (${where}): ${describe(cause)}`, { cause });
  }
  const db: Database = drizzlePglite({ client: pglite, schema });
  return register({ db, driver: "pglite" }, { driver: "pglite", pglite, closed: false });
}

function register(base: Pick<DatabaseHandle, "db" | "driver">, state: Internals): DatabaseHandle {
  const handle: DatabaseHandle = {
    ...base,
    async close() {
      if (state.closed) return;
      state.closed = true;
      if (state.driver === "postgres") await state.sql.end({ timeout: 5 });
      else await state.pglite.close();
    },
  };
  internals.set(handle, state);
  return handle;
}

/**
 * Applies every migration not yet applied; applying them again is a no-op. On PostgreSQL the
 * migrations run on a connection of their own (pool of one) under an advisory lock, so several
 * processes starting together migrate once, one after the other.
 * @throws MigrationError when a migration fails (the failing migration is rolled back).
 * @throws DatabaseClosedError when the handle is closed.
 */
export async function migrate(handle: DatabaseHandle, options: MigrateOptions = {}): Promise<void> {
  const state = internals.get(handle);
  if (state === undefined) throw new TypeError("migrate() needs a handle from openDatabase()");
  if (state.closed) throw new DatabaseClosedError("migrate() on a closed database");
  const migrationsFolder = options.migrationsFolder ?? DEFAULT_MIGRATIONS_FOLDER;

  if (state.driver === "pglite") {
    try {
      await migratePglite(drizzlePglite({ client: state.pglite }), { migrationsFolder });
    } catch (cause) {
      throw new MigrationError(`migration failed on PGlite: ${describe(cause)}`, { cause });
    }
    return;
  }

  const url = state.options.url;
  if (url === undefined) throw new TypeError("a postgres handle always has a url");
  // max: 1 keeps the advisory lock and the migration on the same session.
  const sql = postgresClient(state.options, url, 1);
  try {
    await sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    try {
      await migratePostgres(drizzlePostgres({ client: sql }), { migrationsFolder });
    } finally {
      // Ending the session below releases the lock too, so a failed unlock is not an error.
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.catch(() => {});
    }
  } catch (cause) {
    throw new MigrationError(`migration failed on PostgreSQL: ${describe(cause)}`, { cause });
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * Runs raw SQL and returns its rows. `db.execute` returns an array of rows on postgres.js but
 * `{ rows }` on PGlite; this gives both drivers' callers the same shape. Rows are not
 * validated: `T` is the caller's statement of what the query selects.
 */
export async function queryRows<T extends Record<string, unknown>>(
  db: Database,
  query: SQL,
): Promise<T[]> {
  const result: unknown = await db.execute(query);
  if (Array.isArray(result)) return result as T[];
  if (typeof result === "object" && result !== null && "rows" in result) {
    const rows = (result as { rows: unknown }).rows;
    if (Array.isArray(rows)) return rows as T[];
  }
  throw new TypeError("queryRows: the driver returned neither rows nor { rows }");
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
