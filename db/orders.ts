/**
 * The `orders` projection: the projector's idempotent writes of an order's row from its events,
 * and the batched reads and compare-and-set writes that re-encrypt the shopper's contact under
 * a new key (`npm run pii:rotate`). Everything takes a `Database` (PostgreSQL or PGlite).
 */
import { and, asc, desc, eq, gt, inArray, isNull, lte, or, sql } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import type { Database } from "./client.ts";
import { orderEvents, orders } from "./schema/index.ts";
import type { OrderStatus } from "./schema/orders.ts";
import type { NewOrder, OrderEvent } from "./types.ts";

/**
 * Inserts order rows (from `created` events), leaving an existing row as it is: a replayed
 * `created` must not undo later status changes, nor put back a contact `pii:rotate` re-encrypted.
 * @returns how many rows were new.
 */
export async function insertOrders(db: Database, rows: readonly NewOrder[]): Promise<number> {
  if (rows.length === 0) return 0;
  const inserted = await db
    .insert(orders)
    .values([...rows])
    // Any conflict, not only the id's: two orders under one shop order number (made by hand,
    // not through the store API) must not stop the projection; the first keeps the row.
    .onConflictDoNothing()
    .returning({ id: orders.id });
  return inserted.length;
}

/** The latest event (by stream sequence) of each order among `names`. */
export async function latestOrderEvents(
  db: Database,
  orderIds: readonly string[],
  names: readonly string[],
): Promise<OrderEvent[]> {
  if (orderIds.length === 0) return [];
  return db
    .selectDistinctOn([orderEvents.orderId])
    .from(orderEvents)
    .where(and(inArray(orderEvents.orderId, [...orderIds]), inArray(orderEvents.name, [...names])))
    .orderBy(asc(orderEvents.orderId), desc(orderEvents.streamSeq));
}

/**
 * Sets an order's status from the event at stream sequence `seq`, unless a later event already
 * set it. `pool` (back from a courier) is `ready` once the food is, else `confirmed`.
 * @returns whether the row changed.
 */
export async function setOrderStatus(
  db: Database,
  orderId: string,
  seq: number,
  status: OrderStatus | "pool",
): Promise<boolean> {
  const value =
    status === "pool"
      ? sql`case when ${orders.readyAt} is not null then 'ready' else 'confirmed' end`
      : status;
  const rows = await db
    .update(orders)
    .set({ status: value as OrderStatus, statusSeq: seq, updatedAt: new Date() })
    // At or after: the same event again recomputes `pool` once the food is ready.
    .where(and(eq(orders.id, orderId), lte(orders.statusSeq, seq)))
    .returning({ id: orders.id });
  return rows.length > 0;
}

/** Sets an order's ready or delivered time (each comes from one event; a replay writes the same). */
export async function setOrderTimes(
  db: Database,
  orderId: string,
  times: { readonly readyAt?: Date; readonly deliveredAt?: Date },
): Promise<void> {
  if (times.readyAt === undefined && times.deliveredAt === undefined) return;
  await db
    .update(orders)
    .set({ ...times, updatedAt: new Date() })
    .where(eq(orders.id, orderId));
}

/** The encrypted contact columns of an order row. */
export interface OrderCiphertexts {
  readonly id: string;
  readonly shopperNameEnc: string | null;
  readonly shopperPhoneEnc: string | null;
  readonly shopperAddressEnc: string | null;
  readonly shopperDoorNoteEnc: string | null;
}

const CIPHERTEXT_COLUMNS = {
  id: orders.id,
  shopperNameEnc: orders.shopperNameEnc,
  shopperPhoneEnc: orders.shopperPhoneEnc,
  shopperAddressEnc: orders.shopperAddressEnc,
  shopperDoorNoteEnc: orders.shopperDoorNoteEnc,
} as const;

/**
 * Orders after `afterId` (by id, so a batch is a keyset page) with any contact column not
 * written under key `currentKid`, at most `limit`.
 */
export async function ordersToReencrypt(
  db: Database,
  currentKid: string,
  afterId: string | null,
  limit: number,
): Promise<OrderCiphertexts[]> {
  const prefix = `v1.${currentKid}.%`;
  const stale = (column: AnyPgColumn) =>
    and(sql`${column} is not null`, sql`${column} not like ${prefix}`);
  return db
    .select(CIPHERTEXT_COLUMNS)
    .from(orders)
    .where(
      and(
        afterId === null ? undefined : gt(orders.id, afterId),
        or(
          stale(orders.shopperNameEnc),
          stale(orders.shopperPhoneEnc),
          stale(orders.shopperAddressEnc),
          stale(orders.shopperDoorNoteEnc),
        ),
      ),
    )
    .orderBy(asc(orders.id))
    .limit(limit);
}

/**
 * Writes re-encrypted contact columns if the row still holds what was read (`before`), so a
 * concurrent writer is never overwritten with stale data. @returns whether it was written.
 */
export async function replaceOrderCiphertexts(
  db: Database,
  before: OrderCiphertexts,
  after: Omit<OrderCiphertexts, "id">,
): Promise<boolean> {
  const same = (column: AnyPgColumn, value: string | null) =>
    value === null ? isNull(column) : eq(column, value);
  const rows = await db
    .update(orders)
    .set({ ...after, updatedAt: new Date() })
    .where(
      and(
        eq(orders.id, before.id),
        same(orders.shopperNameEnc, before.shopperNameEnc),
        same(orders.shopperPhoneEnc, before.shopperPhoneEnc),
        same(orders.shopperAddressEnc, before.shopperAddressEnc),
        same(orders.shopperDoorNoteEnc, before.shopperDoorNoteEnc),
      ),
    )
    .returning({ id: orders.id });
  return rows.length > 0;
}
