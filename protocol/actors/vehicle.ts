/**
 * Wire contract of the vehicle actor (`vehicle/<id>`): a refrigerated van and its compartments.
 * Senders: the van's sensor bridge (MQTT `fleet/vehicle/<id>/temp` → system principal) or the
 * driver app (readings), stores/couriers/order actors (load, unload, hand-off checks),
 * dispatchers (configure) and the actor's own timers (grace and silence windows).
 */
import { z } from "zod";
import { ActorId, TemperatureClass } from "../ids.ts";

const EpochMs = z.number().int().nonnegative();

export const CompartmentClass = z.enum(["frozen", "chilled", "ambient", "custom"]);
export type CompartmentClass = z.infer<typeof CompartmentClass>;

export const CompartmentConfig = z
  .object({
    id: ActorId,
    class: CompartmentClass,
    /** Only for `custom`; the fixed classes have fixed ranges. */
    minC: z.number().finite().min(-40).max(60).optional(),
    maxC: z.number().finite().min(-40).max(60).optional(),
    /** How long readings may stay out of range before it counts as an excursion. */
    graceSeconds: z.number().int().min(0).max(3600),
  })
  .refine((c) => c.class === "custom" || (c.minC === undefined && c.maxC === undefined), {
    message: "minC/maxC are only for custom compartments",
  })
  .refine((c) => c.class !== "custom" || c.minC !== undefined || c.maxC !== undefined, {
    message: "a custom compartment needs minC, maxC or both",
  })
  .refine((c) => c.minC === undefined || c.maxC === undefined || c.minC < c.maxC, {
    message: "minC must be below maxC",
  });
export type CompartmentConfig = z.infer<typeof CompartmentConfig>;

/** The most readings one `readings` command carries (the bridge splits larger batches). */
export const MAX_READINGS_PER_COMMAND = 256;

/**
 * One compartment reading as the bridge hands it over. The bridge checks the shape (JSON, a
 * number); the actor, which knows the vehicle, judges the rest and records each rejection.
 */
export const TelemetryReading = z.object({
  /** The TELEMETRY stream sequence. */
  seq: z.number().int().positive(),
  /** Its place among the readings of that stream message (a logger may send several at once). */
  part: z.number().int().min(0).max(1023).optional(),
  compartmentId: z.string().min(1).max(64),
  celsius: z.number(),
  /** The sensor's timestamp. */
  at: EpochMs,
  doorOpen: z.boolean().optional(),
  /** Who reported it: the van's logger over MQTT, or a courier's phone paired with a logger. */
  source: z.union([z.literal("sensor"), z.string().regex(/^courier:.+$/)]).optional(),
});
export type TelemetryReading = z.infer<typeof TelemetryReading>;

/** Why a reading was not accepted as evidence (counted per vehicle and by the bridge). */
export const ReadingRejection = z.enum([
  "malformed",
  "not_a_number",
  "out_of_physical_range",
  "future_timestamp",
  "unknown_vehicle",
  "unknown_compartment",
  "duplicate",
  "wrong_driver",
]);
export type ReadingRejection = z.infer<typeof ReadingRejection>;

export const VehicleMessage = z.discriminatedUnion("type", [
  /** Sets the whole compartment layout (replaces the previous one). */
  z.object({
    type: z.literal("configure"),
    compartments: z
      .array(CompartmentConfig)
      .min(1)
      .max(16)
      .refine((cs) => new Set(cs.map((c) => c.id)).size === cs.length, {
        message: "compartment ids must be unique",
      }),
    /** A compartment sensor silent this long is a `sensor_silent` excursion. Default 300 s. */
    silenceLimitSeconds: z.number().int().min(10).max(86_400).optional(),
    /** Back in range means this far inside the range. Default 0.5 °C. */
    hysteresisC: z.number().finite().min(0).max(5).optional(),
    /** The courier driving the van; only they may send readings from the driver app. */
    driverId: ActorId.nullable().optional(),
    /** The market the van works in: its alerts go to that market's dispatchers. */
    marketId: ActorId.nullable().optional(),
  }),
  /**
   * Readings from the telemetry bridge, in TELEMETRY stream order. `seq` is the reading's stream
   * sequence: the actor applies each sequence once (a bridge replaying after a crash re-sends
   * what it cannot prove was applied) and it is the evidence's key in Postgres. Each reading is
   * judged on its own: a bad one is rejected with a reason inside an accepted turn.
   */
  z.object({
    type: z.literal("readings"),
    readings: z.array(TelemetryReading).min(1).max(MAX_READINGS_PER_COMMAND),
  }),
  /** Delivered by the durable timer `grace:<compartmentId>`. */
  z.object({ type: z.literal("grace_elapsed"), compartmentId: ActorId }),
  /** Delivered by the durable timer `silence:<compartmentId>`. */
  z.object({ type: z.literal("silence_elapsed"), compartmentId: ActorId }),
  z.object({
    type: z.literal("load"),
    compartmentId: ActorId,
    orderId: ActorId,
    temperatureClass: TemperatureClass,
  }),
  z.object({ type: z.literal("unload"), orderId: ActorId }),
  /** Would a hand-off of this order into this compartment be allowed now? Changes nothing. */
  z.object({
    type: z.literal("check_handoff"),
    compartmentId: ActorId,
    orderId: ActorId,
    temperatureClass: TemperatureClass,
  }),
]);
export type VehicleMessage = z.infer<typeof VehicleMessage>;
