import { readdirSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { databaseSuite } from "./db.shared.ts";
import {
  DatabaseClosedError,
  DatabaseConnectError,
  migrate,
  openDatabase,
  queryRows,
} from "./index.ts";

/** The loopback server the integration tests use (trust auth). */
const SERVER = "postgres://postgres@127.0.0.1:5432";

async function withAdmin<T>(run: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(`${SERVER}/postgres`, { max: 1, onnotice: () => {} });
  try {
    return await run(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `xianda_test_${randomBytes(6).toString("hex")}`;
  await withAdmin(async (sql) => {
    await sql.unsafe(`create database "${name}"`);
  });
  return {
    url: `${SERVER}/${name}`,
    drop: () =>
      withAdmin(async (sql) => {
        await sql.unsafe(`drop database if exists "${name}" with (force)`);
      }),
  };
}

let testDatabase: { url: string; drop(): Promise<void> } | undefined;

databaseSuite("postgres", {
  async open() {
    testDatabase = await createTestDatabase();
    return openDatabase({ url: testDatabase.url, maxConnections: 4 });
  },
  async cleanup() {
    await testDatabase?.drop();
  },
});

describe("PostgreSQL connection handling", () => {
  it("reports an unreachable server as DatabaseConnectError", async () => {
    const error = await openDatabase({
      url: "postgres://postgres@127.0.0.1:1/none",
      connectTimeoutSeconds: 2,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseConnectError);
    expect((error as DatabaseConnectError).cause).toBeDefined();
  });

  it("lets several processes migrate one database at the same time", async () => {
    const target = await createTestDatabase();
    const handles = await Promise.all(
      [1, 2, 3].map(() => openDatabase({ url: target.url, maxConnections: 1 })),
    );
    try {
      await Promise.all(handles.map((h) => migrate(h)));
      // One row per migration file, not one per caller.
      const [row] = await queryRows<{ n: number }>(
        handles[0]!.db,
        sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
      );
      const files = readdirSync(new URL("./migrations/", import.meta.url)).filter((f) =>
        f.endsWith(".sql"),
      );
      expect(row?.n).toBe(files.length);
    } finally {
      for (const h of handles) await h.close();
      await target.drop();
    }
  });

  it("refuses to migrate through a closed handle", async () => {
    const target = await createTestDatabase();
    try {
      const handle = await openDatabase({ url: target.url });
      await handle.close();
      await expect(migrate(handle)).rejects.toBeInstanceOf(DatabaseClosedError);
    } finally {
      await target.drop();
    }
  });
});
