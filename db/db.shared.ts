/**
 * The history database's behaviour, written once and run against every driver (drizzle's
 * `pg-common` habit): `postgres.test.ts` and `pglite.test.ts` call `databaseSuite`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  appendAudit,
  findOrder,
  findOrderByShopOrderId,
  insertOrderEvents,
  insertTemperatureReadings,
  lastOrderEventSequence,
  lastReadingSequence,
  listAudit,
  listOrderEvents,
  migrate,
  queryRows,
  schema,
  type DatabaseHandle,
  type DriverName,
  type NewOrder,
} from "./index.ts";
import { DEFAULT_MIGRATIONS_FOLDER } from "./options.ts";

export interface SuiteTarget {
  /** Opens a fresh, empty database; the suite migrates it and closes it. */
  open(): Promise<DatabaseHandle>;
  /** Runs after the handle is closed (drop the test database). */
  cleanup?(): Promise<void>;
}

const journal = JSON.parse(
  readFileSync(join(DEFAULT_MIGRATIONS_FOLDER, "meta", "_journal.json"), "utf8"),
) as { entries: unknown[] };

function order(overrides: Partial<NewOrder> & Pick<NewOrder, "id">): NewOrder {
  return {
    shopOrderId: `shop-${overrides.id}`,
    storeId: "store-1",
    marketId: "hangzhou",
    status: "placed",
    temperatureClass: "chilled",
    shopperNameEnc: "enc:name",
    shopperPhoneEnc: "enc:phone",
    shopperAddressEnc: "enc:address",
    dropoffLat: 30.2741,
    dropoffLng: 120.1551,
    goodsFen: 12_345,
    deliveryFeeFen: 500,
    discountFen: 0,
    totalFen: 12_845,
    placedAt: new Date("2025-03-01T02:00:00.000Z"),
    ...overrides,
  };
}

export function databaseSuite(driver: DriverName, target: SuiteTarget): void {
  describe(`history database on ${driver}`, () => {
    let handle: DatabaseHandle;

    beforeAll(async () => {
      handle = await target.open();
      expect(handle.driver).toBe(driver);
      await migrate(handle);
    });

    afterAll(async () => {
      await handle?.close();
      await target.cleanup?.();
    });

    async function count(query: ReturnType<typeof sql>): Promise<number> {
      const [row] = await queryRows<{ n: number }>(handle.db, query);
      return Number(row?.n);
    }

    it("records each migration once and does nothing when migrate runs again", async () => {
      const migrations = sql`select count(*)::int as n from drizzle.__drizzle_migrations`;
      expect(await count(migrations)).toBe(journal.entries.length);
      await migrate(handle);
      await migrate(handle);
      expect(await count(migrations)).toBe(journal.entries.length);
    });

    it("stores amounts as exact integer fen and reads an order back by id", async () => {
      await handle.db.insert(schema.orders).values(order({ id: "o-fen", goodsFen: 2_147_483_000 }));
      const found = await findOrder(handle.db, "o-fen");
      expect(found).not.toBeNull();
      expect(found?.goodsFen).toBe(2_147_483_000);
      expect(found?.totalFen).toBe(12_845);
      expect(Number.isInteger(found?.deliveryFeeFen)).toBe(true);
      expect(found?.temperatureClass).toBe("chilled");
    });

    it("returns null for an order that does not exist", async () => {
      expect(await findOrder(handle.db, "o-missing")).toBeNull();
      expect(await findOrderByShopOrderId(handle.db, "store-1", "nope")).toBeNull();
    });

    it("refuses negative fen and fractional fen", async () => {
      await expect(
        handle.db.insert(schema.orders).values(order({ id: "o-neg", totalFen: -1 })),
      ).rejects.toThrow();
      await expect(
        handle.db.insert(schema.orders).values(order({ id: "o-frac", totalFen: 10.5 })),
      ).rejects.toThrow();
      expect(await findOrder(handle.db, "o-neg")).toBeNull();
    });

    it("keeps a shop's order number unique per store so a resubmitted order is a no-op", async () => {
      await handle.db
        .insert(schema.orders)
        .values(order({ id: "o-shop-1", storeId: "store-a", shopOrderId: "WX-1001" }));
      const again = await handle.db
        .insert(schema.orders)
        .values(order({ id: "o-shop-2", storeId: "store-a", shopOrderId: "WX-1001" }))
        .onConflictDoNothing()
        .returning();
      expect(again).toHaveLength(0);
      // Another store may use the same number.
      await handle.db
        .insert(schema.orders)
        .values(order({ id: "o-shop-3", storeId: "store-b", shopOrderId: "WX-1001" }));
      expect((await findOrderByShopOrderId(handle.db, "store-a", "WX-1001"))?.id).toBe("o-shop-1");
      expect((await findOrderByShopOrderId(handle.db, "store-b", "WX-1001"))?.id).toBe("o-shop-3");
    });

    it("inserts order events once per event id however often the stream is replayed", async () => {
      const events = [
        {
          eventId: "ev-1",
          orderId: "o-ev",
          name: "placed",
          data: { by: "shop" },
          at: new Date(1_000),
          streamSeq: 11,
        },
        {
          eventId: "ev-2",
          orderId: "o-ev",
          name: "ready",
          data: {},
          at: new Date(2_000),
          streamSeq: 12,
        },
      ];
      expect(await insertOrderEvents(handle.db, events)).toBe(2);
      expect(await insertOrderEvents(handle.db, events)).toBe(0);
      const third = {
        eventId: "ev-3",
        orderId: "o-ev",
        name: "assigned",
        data: { courier: "c-1" },
        at: new Date(3_000),
        streamSeq: 13,
      };
      expect(await insertOrderEvents(handle.db, [...events, third])).toBe(1);
      const stored = await listOrderEvents(handle.db, "o-ev");
      expect(stored.map((e) => e.name)).toEqual(["placed", "ready", "assigned"]);
      expect(await lastOrderEventSequence(handle.db)).toBe(13);
    });

    it("inserts a batch larger than one statement's worth of rows", async () => {
      const events = Array.from({ length: 2_500 }, (_, i) => ({
        eventId: `bulk-${i}`,
        orderId: `o-bulk-${i % 10}`,
        name: "location",
        data: { i },
        at: new Date(10_000 + i),
        streamSeq: 100_000 + i,
      }));
      expect(await insertOrderEvents(handle.db, events)).toBe(2_500);
      expect(await insertOrderEvents(handle.db, events)).toBe(0);
    });

    it("projects a temperature reading once per stream sequence and keeps °C exact", async () => {
      const readings = [
        {
          vehicleId: "v-1",
          compartmentId: "A",
          readAt: new Date("2025-03-01T02:00:00Z"),
          celsius: -18.123456789,
          streamSeq: 501,
        },
        {
          vehicleId: "v-1",
          compartmentId: "A",
          readAt: new Date("2025-03-01T02:00:05Z"),
          celsius: 3.7,
          doorOpen: true,
          streamSeq: 502,
        },
      ];
      expect(await insertTemperatureReadings(handle.db, readings)).toBe(2);
      expect(await insertTemperatureReadings(handle.db, readings)).toBe(0);
      const stored = await handle.db
        .select()
        .from(schema.temperatureReadings)
        .where(eq(schema.temperatureReadings.vehicleId, "v-1"))
        .orderBy(schema.temperatureReadings.readAt);
      expect(stored.map((r) => r.celsius)).toEqual([-18.123456789, 3.7]);
      expect(stored.map((r) => r.doorOpen)).toEqual([false, true]);
      expect(stored[0]?.receivedAt).toBeInstanceOf(Date);
      expect(await lastReadingSequence(handle.db)).toBe(502);
    });

    it("appends audit entries and finds them by target and by actor", async () => {
      const reassign = await appendAudit(handle.db, {
        actorRole: "dispatcher",
        actorId: "d-7",
        action: "order.reassign",
        target: "order/o-42",
        reason: "骑手车坏了",
        data: { from: "c-1", to: "c-2" },
        at: new Date("2025-03-01T03:00:00Z"),
      });
      await appendAudit(handle.db, {
        actorRole: "dispatcher",
        actorId: "d-8",
        action: "order.lock",
        target: "order/o-42",
        at: new Date("2025-03-01T03:01:00Z"),
      });
      await appendAudit(handle.db, {
        actorRole: "admin",
        actorId: "a-1",
        action: "zone.update",
        target: "zone/z-1",
        at: new Date("2025-03-01T03:02:00Z"),
      });
      expect(reassign.id).toBeGreaterThan(0);
      const forOrder = await listAudit(handle.db, { target: "order/o-42" });
      expect(forOrder.map((e) => e.action)).toEqual(["order.reassign", "order.lock"]);
      expect(forOrder[0]?.reason).toBe("骑手车坏了");
      expect(forOrder[0]?.data).toEqual({ from: "c-1", to: "c-2" });
      expect((await listAudit(handle.db, { actorId: "d-8" })).map((e) => e.action)).toEqual([
        "order.lock",
      ]);
      const since = await listAudit(handle.db, { since: new Date("2025-03-01T03:01:00Z") });
      expect(since.map((e) => e.action)).toEqual(["order.lock", "zone.update"]);
    });

    it("adds an audit entry projected from an event only once", async () => {
      const entry = {
        actorRole: "system" as const,
        actorId: "dispatch",
        action: "order.assign",
        target: "order/o-audit-ev",
        eventId: "ev-audit-1",
      };
      const first = await appendAudit(handle.db, entry);
      const second = await appendAudit(handle.db, entry);
      expect(second.id).toBe(first.id);
      expect(await listAudit(handle.db, { target: "order/o-audit-ev" })).toHaveLength(1);
    });

    it("refuses to update or delete audit entries", async () => {
      const entry = await appendAudit(handle.db, {
        actorRole: "dispatcher",
        actorId: "d-9",
        action: "order.hold",
        target: "order/o-held",
      });
      await expect(
        handle.db
          .update(schema.auditLog)
          .set({ reason: "rewritten" })
          .where(eq(schema.auditLog.id, entry.id)),
      ).rejects.toThrow();
      await expect(
        handle.db.delete(schema.auditLog).where(eq(schema.auditLog.id, entry.id)),
      ).rejects.toThrow();
      const [still] = await listAudit(handle.db, { target: "order/o-held" });
      expect(still?.reason).toBeNull();
    });

    it("has the indexes the queries rely on", async () => {
      const rows = await queryRows<{ indexname: string }>(
        handle.db,
        sql`select indexname from pg_indexes where schemaname = 'public'`,
      );
      const names = new Set(rows.map((r) => r.indexname));
      for (const name of [
        "orders_store_status_idx",
        "orders_market_status_idx",
        "orders_store_shop_order_uq",
        "order_events_order_at_idx",
        "temperature_readings_vehicle_compartment_read_at_idx",
        "temperature_readings_stream_key_uq",
        "assignments_active_order_uq",
        "audit_log_target_at_idx",
        "zones_h3_cells_idx",
      ]) {
        expect(names, name).toContain(name);
      }
    });

    it("round-trips a timestamptz to the same instant whatever the session time zone", async () => {
      const placedAt = new Date("2025-06-30T23:59:59.123Z");
      await handle.db.transaction(async (tx) => {
        await tx.execute(sql`set local time zone 'Asia/Shanghai'`);
        await tx.insert(schema.orders).values(order({ id: "o-tz", placedAt }));
        const [row] = await tx
          .select({ placedAt: schema.orders.placedAt })
          .from(schema.orders)
          .where(eq(schema.orders.id, "o-tz"));
        expect(row?.placedAt.getTime()).toBe(placedAt.getTime());
        const [local] = await queryRows<{ local: string }>(
          tx,
          sql`select to_char(${schema.orders.placedAt}, 'YYYY-MM-DD HH24:MI:SS') as local from ${schema.orders} where ${schema.orders.id} = 'o-tz'`,
        );
        // 23:59:59 UTC is 07:59:59 the next day in Shanghai (UTC+8).
        expect(local?.local).toBe("2025-07-01 07:59:59");
      });
      const found = await findOrder(handle.db, "o-tz");
      expect(found?.placedAt.toISOString()).toBe("2025-06-30T23:59:59.123Z");
      expect(found?.deliveredAt).toBeNull();
    });

    it("round-trips jsonb documents and finds a zone by one of its H3 cells", async () => {
      const polygon = {
        type: "Polygon" as const,
        coordinates: [
          [
            [120.1, 30.2],
            [120.2, 30.2],
            [120.2, 30.3],
            [120.1, 30.2],
          ] as [number, number][],
        ],
      };
      await handle.db.insert(schema.zones).values({
        id: "z-westlake",
        marketId: "hangzhou",
        name: "西湖区",
        polygon,
        h3Resolution: 9,
        h3Cells: ["8930e1d8a53ffff", "8930e1d8a57ffff"],
        deliveryFeeFen: 600,
        promisedMinutes: 45,
      });
      const document = {
        order: "o-cert",
        trace: [
          { at: 1, c: -18.5 },
          { at: 2, c: -19 },
        ],
        excursions: [],
        note: "冷链 ✓",
        nested: { empty: null, flag: true, big: 9_007_199_254_740_991 },
      };
      await handle.db.insert(schema.certificates).values({
        orderId: "o-cert",
        vehicleId: "v-1",
        issuedAt: new Date(),
        finalHash: "ab".repeat(32),
        signature: "c2lnbmF0dXJl",
        document,
      });
      const [cert] = await handle.db
        .select()
        .from(schema.certificates)
        .where(eq(schema.certificates.orderId, "o-cert"));
      expect(cert?.document).toEqual(document);

      const [zone] = await handle.db
        .select()
        .from(schema.zones)
        .where(sql`${schema.zones.h3Cells} @> array['8930e1d8a57ffff']::text[]`);
      expect(zone?.id).toBe("z-westlake");
      expect(zone?.polygon).toEqual(polygon);
      expect(zone?.h3Cells).toEqual(["8930e1d8a53ffff", "8930e1d8a57ffff"]);
    });

    it("allows one live assignment per order and a new one after release", async () => {
      const base = { orderId: "o-as", assignedAt: new Date(), assignedBy: "system" };
      await handle.db.insert(schema.assignments).values({ id: "as-1", courierId: "c-1", ...base });
      await expect(
        handle.db.insert(schema.assignments).values({ id: "as-2", courierId: "c-2", ...base }),
      ).rejects.toThrow();
      await handle.db
        .update(schema.assignments)
        .set({ releasedAt: new Date() })
        .where(eq(schema.assignments.id, "as-1"));
      await handle.db.insert(schema.assignments).values({
        id: "as-2",
        courierId: "c-2",
        locked: true,
        assignedBy: "d-7",
        orderId: "o-as",
        assignedAt: new Date(),
      });
      const live = await handle.db
        .select()
        .from(schema.assignments)
        .where(
          sql`${schema.assignments.orderId} = 'o-as' and ${schema.assignments.releasedAt} is null`,
        );
      expect(live.map((a) => [a.courierId, a.locked])).toEqual([["c-2", true]]);
    });

    it("refuses a compartment whose range is upside down and one on an unknown vehicle", async () => {
      await handle.db
        .insert(schema.vehicles)
        .values({ id: "v-cc", marketId: "hangzhou", plate: "浙A12345" });
      await handle.db.insert(schema.compartments).values({
        vehicleId: "v-cc",
        compartmentId: "A",
        temperatureClass: "frozen",
        minC: -25,
        maxC: -18,
        capacityLitres: 800,
      });
      await expect(
        handle.db.insert(schema.compartments).values({
          vehicleId: "v-cc",
          compartmentId: "B",
          temperatureClass: "chilled",
          minC: 4,
          maxC: 0,
          capacityLitres: 400,
        }),
      ).rejects.toThrow();
      await expect(
        handle.db.insert(schema.compartments).values({
          vehicleId: "v-none",
          compartmentId: "A",
          temperatureClass: "chilled",
          minC: 0,
          maxC: 4,
          capacityLitres: 400,
        }),
      ).rejects.toThrow();
    });

    it("records a decline reason only on a declined offer", async () => {
      const offer = {
        orderId: "o-offer",
        courierId: "c-1",
        offeredAt: new Date("2025-03-01T02:00:00Z"),
        expiresAt: new Date("2025-03-01T02:00:30Z"),
      };
      await handle.db.insert(schema.offers).values({
        id: "of-1",
        ...offer,
        answeredAt: new Date("2025-03-01T02:00:10Z"),
        outcome: "declined",
        declineReason: "too_far",
      });
      await expect(
        handle.db.insert(schema.offers).values({ id: "of-2", ...offer, declineReason: "too_far" }),
      ).rejects.toThrow();
      await handle.db.insert(schema.offers).values({ id: "of-3", ...offer });
      const open = await handle.db.select().from(schema.offers).where(eq(schema.offers.id, "of-3"));
      expect(open[0]?.outcome).toBeNull();
    });

    it("keeps the pickup kind only on pickup points", async () => {
      const place = { marketId: "hangzhou", lat: 30.27, lng: 120.15, address: "文三路 1 号" };
      await handle.db.insert(schema.stores).values({
        id: "pp-1",
        name: "丰巢柜",
        isPickupPoint: true,
        pickupKind: "locker",
        ...place,
      });
      await expect(
        handle.db
          .insert(schema.stores)
          .values({ id: "s-bad", name: "门店", pickupKind: "locker", ...place }),
      ).rejects.toThrow();
      await expect(
        handle.db
          .insert(schema.stores)
          .values({ id: "pp-bad", name: "自提点", isPickupPoint: true, ...place }),
      ).rejects.toThrow();
    });
  });
}
