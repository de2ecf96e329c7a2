import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  check,
  doublePrecision,
  index,
  jsonb,
  pgTable,
  smallint,
  text,
  unique,
} from "drizzle-orm/pg-core";
import { sqlList, timestamptz } from "./common.ts";

/**
 * Compartment temperatures: compliance evidence, never thinned before retention ends.
 * °C is `double precision` so that a JS number round-trips exactly: certificates hash the
 * readings, and a rounded value would no longer match the hash chain.
 */
export const temperatureReadings = pgTable(
  "temperature_readings",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    vehicleId: text("vehicle_id").notNull(),
    compartmentId: text("compartment_id").notNull(),
    readAt: timestamptz("read_at").notNull(),
    celsius: doublePrecision("celsius").notNull(),
    doorOpen: boolean("door_open").notNull().default(false),
    /**
     * The telemetry stream's sequence and the reading's place in that message (a logger may send
     * several compartments, or buffered readings, in one): the pair is the reading's key, and
     * inserts use `ON CONFLICT (stream_seq, stream_part) DO NOTHING`.
     */
    streamSeq: bigint("stream_seq", { mode: "number" }).notNull(),
    streamPart: smallint("stream_part").notNull().default(0),
    receivedAt: timestamptz("received_at").notNull().defaultNow(),
  },
  (t) => [
    unique("temperature_readings_stream_key_uq").on(t.streamSeq, t.streamPart),
    index("temperature_readings_vehicle_compartment_read_at_idx").on(
      t.vehicleId,
      t.compartmentId,
      t.readAt,
    ),
  ],
);

export const EXCURSION_KINDS = ["out_of_range", "sensor_silent"] as const;
export type ExcursionKind = (typeof EXCURSION_KINDS)[number];

/** A period when a compartment was out of range (or its sensor silent) past the grace period. */
export const excursions = pgTable(
  "excursions",
  {
    id: text("id").primaryKey(),
    vehicleId: text("vehicle_id").notNull(),
    compartmentId: text("compartment_id").notNull(),
    startedAt: timestamptz("started_at").notNull(),
    /** Null while the excursion is still going on. */
    endedAt: timestamptz("ended_at"),
    kind: text("kind", { enum: EXCURSION_KINDS }).notNull(),
    /** The reading furthest outside the range; null for a silent sensor. */
    peakC: doublePrecision("peak_c"),
  },
  (t) => [
    index("excursions_vehicle_compartment_started_idx").on(
      t.vehicleId,
      t.compartmentId,
      t.startedAt,
    ),
    check("excursions_kind_valid", sql`${t.kind} in ${sql.raw(sqlList(EXCURSION_KINDS))}`),
    check(
      "excursions_ended_after_start",
      sql`${t.endedAt} is null or ${t.endedAt} >= ${t.startedAt}`,
    ),
  ],
);

/**
 * The cold-chain certificate of a delivered chilled or frozen order: its temperature trace, its
 * excursions, and the last link of the hash chain over the readings, signed.
 */
export const certificates = pgTable(
  "certificates",
  {
    orderId: text("order_id").primaryKey(),
    vehicleId: text("vehicle_id").notNull(),
    issuedAt: timestamptz("issued_at").notNull(),
    /** Hex SHA-256 at the end of the chain over the readings. */
    finalHash: text("final_hash").notNull(),
    /** Base64 signature over the document. */
    signature: text("signature").notNull(),
    document: jsonb("document").$type<Record<string, unknown>>().notNull(),
  },
  (t) => [index("certificates_vehicle_issued_idx").on(t.vehicleId, t.issuedAt)],
);
