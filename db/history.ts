/**
 * The writes the projector repeats on replay, made idempotent, and the lookups that other
 * modules need. Everything takes a `Database`, so it runs on PostgreSQL and PGlite alike.
 */
import { and, asc, eq, gte, lt, max, type SQL } from "drizzle-orm";
import type { Database } from "./client.ts";
import { DbError } from "./errors.ts";
import { auditLog, orderEvents, orders, temperatureReadings } from "./schema/index.ts";
import type {
  AuditEntry,
  NewAuditEntry,
  NewOrderEvent,
  NewTemperatureReading,
  Order,
  OrderEvent,
} from "./types.ts";

/**
 * Rows per INSERT statement. PostgreSQL allows 65,535 bind parameters per statement; the widest
 * batched table has 8 columns, and 1,000 rows keeps statements small enough to plan quickly.
 */
const BATCH_ROWS = 1_000;

function* chunks<T>(rows: readonly T[]): Generator<T[]> {
  for (let i = 0; i < rows.length; i += BATCH_ROWS) yield rows.slice(i, i + BATCH_ROWS);
}

/**
 * Inserts order events, skipping any whose `eventId` is already stored.
 * @returns how many rows were new.
 */
export async function insertOrderEvents(
  db: Database,
  events: readonly NewOrderEvent[],
): Promise<number> {
  let inserted = 0;
  for (const batch of chunks(events)) {
    const rows = await db
      .insert(orderEvents)
      .values(batch)
      .onConflictDoNothing({ target: orderEvents.eventId })
      .returning({ eventId: orderEvents.eventId });
    inserted += rows.length;
  }
  return inserted;
}

/** The events of one order, oldest first. */
export async function listOrderEvents(db: Database, orderId: string): Promise<OrderEvent[]> {
  return db
    .select()
    .from(orderEvents)
    .where(eq(orderEvents.orderId, orderId))
    .orderBy(asc(orderEvents.at), asc(orderEvents.streamSeq));
}

/** The highest event-stream sequence projected so far, or null when none is. */
export async function lastOrderEventSequence(db: Database): Promise<number | null> {
  const [row] = await db.select({ seq: max(orderEvents.streamSeq) }).from(orderEvents);
  return row?.seq ?? null;
}

/**
 * Inserts temperature readings, skipping any whose key (`streamSeq`, `streamPart`) is already
 * stored.
 * @returns how many rows were new.
 */
export async function insertTemperatureReadings(
  db: Database,
  readings: readonly NewTemperatureReading[],
): Promise<number> {
  let inserted = 0;
  for (const batch of chunks(readings)) {
    const rows = await db
      .insert(temperatureReadings)
      .values(batch)
      .onConflictDoNothing({
        target: [temperatureReadings.streamSeq, temperatureReadings.streamPart],
      })
      .returning({ id: temperatureReadings.id });
    inserted += rows.length;
  }
  return inserted;
}

/** The highest telemetry-stream sequence projected so far, or null when none is. */
export async function lastReadingSequence(db: Database): Promise<number | null> {
  const [row] = await db
    .select({ seq: max(temperatureReadings.streamSeq) })
    .from(temperatureReadings);
  return row?.seq ?? null;
}

export async function findOrder(db: Database, id: string): Promise<Order | null> {
  const [row] = await db.select().from(orders).where(eq(orders.id, id)).limit(1);
  return row ?? null;
}

/** Looks an order up by the store's own order number (the shop's idempotency key). */
export async function findOrderByShopOrderId(
  db: Database,
  storeId: string,
  shopOrderId: string,
): Promise<Order | null> {
  const [row] = await db
    .select()
    .from(orders)
    .where(and(eq(orders.storeId, storeId), eq(orders.shopOrderId, shopOrderId)))
    .limit(1);
  return row ?? null;
}

/**
 * Appends an entry to the audit log. An entry with an `eventId` that is already stored is not
 * added again; the stored entry is returned instead.
 */
export async function appendAudit(db: Database, entry: NewAuditEntry): Promise<AuditEntry> {
  const [row] = await db.insert(auditLog).values(entry).onConflictDoNothing().returning();
  if (row !== undefined) return row;
  if (entry.eventId == null) {
    // Only the event-id unique constraint can make this insert a no-op.
    throw new DbError("audit insert without an event id returned no row");
  }
  const [existing] = await db
    .select()
    .from(auditLog)
    .where(eq(auditLog.eventId, entry.eventId))
    .limit(1);
  if (existing === undefined) throw new DbError(`audit entry for event ${entry.eventId} vanished`);
  return existing;
}

export interface AuditQuery {
  /** Only entries about this target, e.g. `order/o-123`. */
  target?: string;
  /** Only entries by this actor id. */
  actorId?: string;
  /** Only entries at or after this time. */
  since?: Date;
  /** Only entries before this time. */
  until?: Date;
  /** At most this many entries. Default: 100. */
  limit?: number;
}

/** Audit entries matching the query, oldest first. */
export async function listAudit(db: Database, query: AuditQuery = {}): Promise<AuditEntry[]> {
  const conditions: SQL[] = [];
  if (query.target !== undefined) conditions.push(eq(auditLog.target, query.target));
  if (query.actorId !== undefined) conditions.push(eq(auditLog.actorId, query.actorId));
  if (query.since !== undefined) conditions.push(gte(auditLog.at, query.since));
  if (query.until !== undefined) conditions.push(lt(auditLog.at, query.until));
  return db
    .select()
    .from(auditLog)
    .where(and(...conditions))
    .orderBy(asc(auditLog.at), asc(auditLog.id))
    .limit(query.limit ?? 100);
}
