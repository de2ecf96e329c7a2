/**
 * Cold-chain evidence: the projector's idempotent writes of excursions and certificates, and the
 * reads that build and serve certificates and the console's temperature charts.
 */
import { and, asc, desc, eq, gte, lt, lte, or, isNull } from "drizzle-orm";
import type { Database } from "./client.ts";
import { certificates, excursions, temperatureReadings } from "./schema/index.ts";
import type {
  Certificate,
  Excursion,
  NewCertificate,
  NewExcursion,
  TemperatureReading,
} from "./types.ts";

export interface ReadingsQuery {
  readonly vehicleId: string;
  readonly compartmentId?: string;
  /** Sensor time, inclusive. */
  readonly from: Date;
  /** Sensor time, inclusive. */
  readonly to: Date;
  /** Most rows returned (the oldest first). Default 10,000. */
  readonly limit?: number;
}

/** Readings of a vehicle (or one compartment) in a sensor-time window, oldest first. */
export async function listReadings(db: Database, q: ReadingsQuery): Promise<TemperatureReading[]> {
  const t = temperatureReadings;
  return db
    .select()
    .from(t)
    .where(
      and(
        eq(t.vehicleId, q.vehicleId),
        q.compartmentId === undefined ? undefined : eq(t.compartmentId, q.compartmentId),
        gte(t.readAt, q.from),
        lte(t.readAt, q.to),
      ),
    )
    .orderBy(asc(t.readAt), asc(t.streamSeq), asc(t.streamPart))
    .limit(q.limit ?? 10_000);
}

/** The last reading of a compartment before `at`: what the goods were in when loaded. */
export async function lastReadingBefore(
  db: Database,
  vehicleId: string,
  compartmentId: string,
  at: Date,
): Promise<TemperatureReading | null> {
  const t = temperatureReadings;
  const [row] = await db
    .select()
    .from(t)
    .where(and(eq(t.vehicleId, vehicleId), eq(t.compartmentId, compartmentId), lt(t.readAt, at)))
    .orderBy(desc(t.readAt), desc(t.streamSeq), desc(t.streamPart))
    .limit(1);
  return row ?? null;
}

/** The key a reading is found by: `seq` or `seq.part` (as certificates write it). */
export function readingKeyOf(r: { streamSeq: number; streamPart: number }): string {
  return r.streamPart ? `${r.streamSeq}.${r.streamPart}` : String(r.streamSeq);
}

/**
 * Readings by their keys (what a certificate names: stream sequence and part), as a map from
 * `readingKeyOf` to the row.
 */
export async function readingsBySequence(
  db: Database,
  keys: readonly { seq: number; part?: number }[],
): Promise<Map<string, TemperatureReading>> {
  const out = new Map<string, TemperatureReading>();
  const t = temperatureReadings;
  for (let i = 0; i < keys.length; i += 500) {
    const slice = keys.slice(i, i + 500);
    const rows = await db
      .select()
      .from(t)
      .where(or(...slice.map((k) => and(eq(t.streamSeq, k.seq), eq(t.streamPart, k.part ?? 0)))));
    for (const r of rows) out.set(readingKeyOf(r), r);
  }
  return out;
}

/**
 * Records an excursion's start, or its end (the row is keyed by vehicle, compartment, kind and
 * start, so a replayed start changes nothing and an end fills `endedAt` once).
 */
export async function upsertExcursion(db: Database, row: NewExcursion): Promise<void> {
  await db
    .insert(excursions)
    .values(row)
    .onConflictDoUpdate({
      target: excursions.id,
      set: {
        ...(row.endedAt ? { endedAt: row.endedAt } : {}),
        ...(row.peakC !== undefined && row.peakC !== null ? { peakC: row.peakC } : {}),
      },
    });
}

/** Excursions of a vehicle (or one compartment) that overlap a window, oldest first. */
export async function listExcursions(
  db: Database,
  q: { vehicleId: string; compartmentId?: string; from: Date; to: Date },
): Promise<Excursion[]> {
  const e = excursions;
  return db
    .select()
    .from(e)
    .where(
      and(
        eq(e.vehicleId, q.vehicleId),
        q.compartmentId === undefined ? undefined : eq(e.compartmentId, q.compartmentId),
        lte(e.startedAt, q.to),
        or(isNull(e.endedAt), gte(e.endedAt, q.from)),
      ),
    )
    .orderBy(asc(e.startedAt));
}

/** Stores a certificate once; a second issue for the same order changes nothing. */
export async function insertCertificate(db: Database, row: NewCertificate): Promise<boolean> {
  const rows = await db
    .insert(certificates)
    .values(row)
    .onConflictDoNothing({ target: certificates.orderId })
    .returning({ orderId: certificates.orderId });
  return rows.length > 0;
}

export async function findCertificate(db: Database, orderId: string): Promise<Certificate | null> {
  const [row] = await db
    .select()
    .from(certificates)
    .where(eq(certificates.orderId, orderId))
    .limit(1);
  return row ?? null;
}
