import { sql } from "drizzle-orm";
import {
  check,
  doublePrecision,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
} from "drizzle-orm/pg-core";
import { TEMPERATURE_CLASSES, sqlList, timestamptz } from "./common.ts";

export const VEHICLE_MODES = ["walk", "bicycle", "ebike", "motorbike", "car", "van"] as const;
export type VehicleMode = (typeof VEHICLE_MODES)[number];

export const couriers = pgTable(
  "couriers",
  {
    id: text("id").primaryKey(),
    marketId: text("market_id").notNull(),
    name: text("name").notNull(),
    /**
     * The phone number, encrypted at rest by the caller (personal data). A text column for now
     * (e.g. base64 of the ciphertext); it becomes `bytea` when the key management lands.
     */
    phoneEnc: text("phone_enc"),
    vehicleMode: text("vehicle_mode", { enum: VEHICLE_MODES }).notNull(),
    /** How many orders the courier can carry at once. */
    capacity: integer("capacity").notNull(),
    createdAt: timestamptz("created_at").notNull().defaultNow(),
    updatedAt: timestamptz("updated_at").notNull().defaultNow(),
  },
  (t) => [
    index("couriers_market_idx").on(t.marketId),
    check(
      "couriers_vehicle_mode_valid",
      sql`${t.vehicleMode} in ${sql.raw(sqlList(VEHICLE_MODES))}`,
    ),
    check("couriers_capacity_positive", sql`${t.capacity} > 0`),
  ],
);

/** Refrigerated vans (and other vehicles with compartments). */
export const vehicles = pgTable(
  "vehicles",
  {
    id: text("id").primaryKey(),
    marketId: text("market_id").notNull(),
    plate: text("plate").notNull(),
    /** The courier currently driving it, if any. */
    courierId: text("courier_id"),
    createdAt: timestamptz("created_at").notNull().defaultNow(),
    updatedAt: timestamptz("updated_at").notNull().defaultNow(),
  },
  (t) => [
    index("vehicles_market_idx").on(t.marketId),
    index("vehicles_courier_idx").on(t.courierId),
  ],
);

/**
 * A temperature-controlled compartment of a vehicle. Its id is local to the vehicle (the sensor
 * reports `A`, `B`, ...), so the key is the pair.
 */
export const compartments = pgTable(
  "compartments",
  {
    vehicleId: text("vehicle_id")
      .notNull()
      .references(() => vehicles.id, { onDelete: "cascade" }),
    compartmentId: text("compartment_id").notNull(),
    temperatureClass: text("temperature_class", { enum: TEMPERATURE_CLASSES }).notNull(),
    /** The allowed range in °C; frozen is ≤ -18, chilled 0-4, or a custom range. */
    minC: doublePrecision("min_c").notNull(),
    maxC: doublePrecision("max_c").notNull(),
    /** Capacity in litres. */
    capacityLitres: integer("capacity_litres").notNull(),
  },
  (t) => [
    primaryKey({ name: "compartments_pk", columns: [t.vehicleId, t.compartmentId] }),
    check(
      "compartments_temperature_class_valid",
      sql`${t.temperatureClass} in ${sql.raw(sqlList(TEMPERATURE_CLASSES))}`,
    ),
    check("compartments_range_ordered", sql`${t.minC} <= ${t.maxC}`),
    check("compartments_capacity_positive", sql`${t.capacityLitres} > 0`),
  ],
);
