/**
 * The vehicle actor's state: a refrigerated van's compartments, each with its latest reading,
 * its excursion state machine, its sensor-silence state and the orders inside. Described by zod
 * schemas so `restore` checks what it reads; every field is JSON-safe.
 */
import { z } from "zod";
import { ActorId } from "../../protocol/ids.ts";
import { CompartmentClass, ReadingRejection } from "../../protocol/actors/vehicle.ts";

const EpochMs = z.number().int().nonnegative();

export const Reading = z.object({
  celsius: z.number(),
  /** The sensor's timestamp. */
  at: EpochMs,
  /** null until a reading has said either way. */
  doorOpen: z.boolean().nullable(),
});
export type Reading = z.infer<typeof Reading>;

/**
 * Temperature excursion state, with hysteresis: a reading outside the range moves `in_range` to
 * `pending`; still outside after the grace period → `excursion`. Only a reading back inside the
 * range by the hysteresis margin returns to `in_range`; readings between the limit and the
 * margin keep the current phase, so a temperature hovering at the limit cannot flap.
 */
export const TemperaturePhase = z.discriminatedUnion("phase", [
  z.object({ phase: z.literal("in_range") }),
  z.object({
    phase: z.literal("pending"),
    /** Sensor time of the first out-of-range reading. */
    since: EpochMs,
    peakC: z.number(),
  }),
  z.object({
    phase: z.literal("excursion"),
    /** Sensor time of the first out-of-range reading: the excursion's start. */
    startedAt: EpochMs,
    /** When the grace period ran out and the excursion was raised. */
    detectedAt: EpochMs,
    peakC: z.number(),
    /** Orders inside when it was raised. */
    orderIds: z.array(ActorId),
  }),
]);
export type TemperaturePhase = z.infer<typeof TemperaturePhase>;

export const SilentSensor = z.object({
  startedAt: EpochMs,
  lastReadingAt: EpochMs.nullable(),
  orderIds: z.array(ActorId),
});
export type SilentSensor = z.infer<typeof SilentSensor>;

export const Compartment = z.object({
  id: ActorId,
  class: CompartmentClass,
  /** Effective range in °C; null means unbounded on that side (ambient has neither). */
  minC: z.number().nullable(),
  maxC: z.number().nullable(),
  graceSeconds: z.number().int().nonnegative(),
  latest: Reading.nullable(),
  temperature: TemperaturePhase,
  /** Non-null while the sensor is silent (a `sensor_silent` excursion). */
  silence: SilentSensor.nullable(),
  /** Runtime time of the last fresh reading, or of configuration before any: silence counts from it. */
  heardAt: EpochMs.nullable(),
  /** Orders loaded, in loading order. */
  orderIds: z.array(ActorId),
  /**
   * When the pending silence timer fires, or null when none is armed. A reading does not move
   * the timer (that would be a timer write per reading); the timer re-arms itself at
   * `heardAt + limit` when it finds the sensor was heard since.
   */
  silenceTimerAt: EpochMs.nullable().default(null),
});
export type Compartment = z.infer<typeof Compartment>;

export const VehicleState = z.object({
  id: ActorId,
  compartments: z.record(z.string(), Compartment),
  silenceLimitSeconds: z.number().int().positive(),
  hysteresisC: z.number().nonnegative(),
  driverId: ActorId.nullable(),
  marketId: ActorId.nullable().default(null),
  /** The highest TELEMETRY sequence applied: a replayed reading at or below it is skipped. */
  telemetrySeq: z.number().int().nonnegative().default(0),
  /** The part of the message at `telemetrySeq` applied last (messages may carry several). */
  telemetryPart: z.number().int().nonnegative().default(0),
  /** Readings rejected so far, by reason. */
  rejected: z.partialRecord(ReadingRejection, z.number().int().nonnegative()).default({}),
});
export type VehicleState = z.infer<typeof VehicleState>;
