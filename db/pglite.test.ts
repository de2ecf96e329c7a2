import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { databaseSuite } from "./db.shared.ts";
import { findOrder, migrate, openDatabase, schema } from "./index.ts";

databaseSuite("pglite", { open: () => openDatabase() });

describe("file-backed PGlite", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it("keeps its data and its migrations across a close and a reopen", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "xianda-pglite-"));
    dirs.push(dataDir);

    const first = await openDatabase({ dataDir });
    await migrate(first);
    await first.db.insert(schema.orders).values({
      id: "o-persist",
      shopOrderId: "WX-9",
      storeId: "store-1",
      marketId: "hangzhou",
      status: "placed",
      temperatureClass: "frozen",
      pickupPointId: "pp-1",
      goodsFen: 8_800,
      deliveryFeeFen: 0,
      totalFen: 8_800,
      placedAt: new Date("2025-03-01T02:00:00Z"),
    });
    await first.close();
    await first.close();

    const second = await openDatabase({ dataDir });
    try {
      await migrate(second);
      const found = await findOrder(second.db, "o-persist");
      expect(found?.goodsFen).toBe(8_800);
      expect(found?.pickupPointId).toBe("pp-1");
    } finally {
      await second.close();
    }
  });
});
