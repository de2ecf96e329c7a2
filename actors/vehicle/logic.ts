/**
 * The vehicle actor (`vehicle/<id>`): a refrigerated van's cold chain, as a pure state machine.
 *
 * Per compartment: class and range (frozen ≤ −18 °C, chilled 0–4 °C, ambient unmonitored, or a
 * custom min/max), the latest reading, the orders inside, and two independent excursion kinds:
 * - `temperature`: out of range → `pending` (timer `grace:<compartmentId>` at the end of the
 *   grace period) → still out of range when the grace period has run (by the timer or by a
 *   later reading's time) → `excursion_started`. Back inside the range by `hysteresisC` →
 *   `excursion_ended` with duration and peak (or `excursion_cleared` if it was only pending).
 * - `sensor_silent`: no fresh reading for `silenceLimitSeconds` (timer `silence:<compartmentId>`,
 *   rescheduled on every fresh reading) → `excursion_started`; the next reading ends it.
 * Ambient compartments are recorded but have no range, so neither kind applies.
 *
 * Decisions:
 * - Readings arrive in batches from the telemetry bridge (`readings`), each with its TELEMETRY
 *   stream sequence. A sequence at or below `telemetrySeq` was applied before (the bridge
 *   replays what it could not prove was applied) and is skipped. Each reading is judged on its
 *   own: unknown vehicle or compartment, outside −40..+60 °C, stamped more than
 *   MAX_FUTURE_SKEW_MS after ctx.now, the same sensor time as the latest (a duplicate), or sent
 *   from a phone that is not the driver's → rejected with the reason and counted. One
 *   `readings_recorded` event per turn lists what was accepted (the evidence the projector
 *   stores) and what was rejected.
 * - A reading stamped before the latest one is evidence all the same but moves neither the
 *   latest reading nor the excursion state: feeding late values into the hysteresis would
 *   rewrite the past. It is recorded with `late: true`.
 * - Excursion times (start, end, duration, grace) are sensor times; silence is measured in
 *   runtime time (ctx.now), since a silent sensor sends no times. The silence timer is armed
 *   once and re-arms itself from the last reading when it fires early, so a reading a second
 *   costs no timer write.
 * - Loading or a hand-off check of chilled/frozen goods needs a compartment of that class (or a
 *   custom one whose range lies inside the class's range), with a reading, not silent, not
 *   pending nor in excursion and the latest reading in range.
 * - Changing a compartment's class or range resets its excursion state (closing an open
 *   excursion with reason `reconfigured`); it is refused while orders are inside, as is removing
 *   a compartment with orders inside (`compartment_not_empty`).
 * - When an excursion (either kind) starts or ends, every order inside is told
 *   (`cold_chain_excursion`, `cold_chain_excursion_ended`), so the mark travels with the order.
 */
import type { ActorLogic, Effect, TurnContext, TurnResult } from "../types.ts";
import { accept, emit, refuse } from "../logic.ts";
import { VehicleMessage } from "../../protocol/actors/vehicle.ts";
import type {
  CompartmentConfig,
  ReadingRejection,
  TelemetryReading,
} from "../../protocol/actors/vehicle.ts";
import type { TemperatureClass } from "../../protocol/ids.ts";
import { VehicleState } from "./types.ts";
import type { Compartment, TemperaturePhase } from "./types.ts";

export const DEFAULT_SILENCE_LIMIT_SECONDS = 300;
export const DEFAULT_HYSTERESIS_C = 0.5;
export const MAX_FUTURE_SKEW_MS = 60_000;
/** What a compartment sensor can physically report; anything else is a broken sensor. */
export const PHYSICAL_MIN_C = -40;
export const PHYSICAL_MAX_C = 60;

/** The fixed ranges of the standard classes. */
const CLASS_RANGES = {
  frozen: { minC: null, maxC: -18 },
  chilled: { minC: 0, maxC: 4 },
  ambient: { minC: null, maxC: null },
} as const;

export function graceTimer(compartmentId: string): string {
  return `grace:${compartmentId}`;
}
export function silenceTimer(compartmentId: string): string {
  return `silence:${compartmentId}`;
}

type Msg<T extends VehicleMessage["type"]> = Extract<VehicleMessage, { type: T }>;
type Result = TurnResult<VehicleState>;

// ---------------------------------------------------------------- ranges

function isMonitored(c: Compartment): boolean {
  return c.minC !== null || c.maxC !== null;
}

function isOutOfRange(c: Compartment, celsius: number): boolean {
  return (c.minC !== null && celsius < c.minC) || (c.maxC !== null && celsius > c.maxC);
}

/** Inside the range by at least the margin: the only way back to `in_range`. */
function isClearlyInRange(c: Compartment, celsius: number, margin: number): boolean {
  return (
    (c.minC === null || celsius >= c.minC + margin) &&
    (c.maxC === null || celsius <= c.maxC - margin)
  );
}

/** How far outside the range (0 inside), to keep the worst reading as the peak. */
function deviation(c: Compartment, celsius: number): number {
  return Math.max(
    0,
    c.minC === null ? 0 : c.minC - celsius,
    c.maxC === null ? 0 : celsius - c.maxC,
  );
}

function worse(c: Compartment, a: number, b: number): number {
  return deviation(c, b) > deviation(c, a) ? b : a;
}

/** Can goods of class `cls` travel in compartment `c`? */
function suits(c: Compartment, cls: TemperatureClass): boolean {
  if (c.class === cls) return true;
  if (c.class !== "custom" || cls === "ambient") return false;
  const want = CLASS_RANGES[cls];
  const lowOk = want.minC === null || (c.minC !== null && c.minC >= want.minC);
  const highOk = want.maxC === null || (c.maxC !== null && c.maxC <= want.maxC);
  return lowOk && highOk;
}

function rangeOf(config: CompartmentConfig): { minC: number | null; maxC: number | null } {
  if (config.class === "custom") return { minC: config.minC ?? null, maxC: config.maxC ?? null };
  return CLASS_RANGES[config.class];
}

// ---------------------------------------------------------------- helpers

function withCompartment(state: VehicleState, c: Compartment): VehicleState {
  return { ...state, compartments: { ...state.compartments, [c.id]: c } };
}

function compartmentHolding(state: VehicleState, orderId: string): Compartment | undefined {
  return Object.values(state.compartments).find((c) => c.orderIds.includes(orderId));
}

function unknownCompartment(id: string): Result {
  return refuse("unknown_compartment", `this vehicle has no compartment ${id}`);
}

/** Refuses putting goods of `cls` into `c` now (shared by `load` and `check_handoff`). */
function handoffRefusal(c: Compartment, cls: TemperatureClass): Result | null {
  if (!suits(c, cls)) {
    return refuse(
      "wrong_temperature_class",
      `${cls} goods cannot go into ${c.class} compartment ${c.id}`,
    );
  }
  if (cls === "ambient") return null;
  if (c.latest === null || c.silence !== null) {
    return refuse("no_recent_reading", `compartment ${c.id}'s temperature is not known now`);
  }
  if (c.temperature.phase !== "in_range" || isOutOfRange(c, c.latest.celsius)) {
    return refuse(
      "compartment_out_of_range",
      `compartment ${c.id} is out of range (${c.latest.celsius} °C)`,
    );
  }
  return null;
}

// ---------------------------------------------------------------- authorization

/**
 * Senders: the van's driver (the courier named in the configuration), stores handing goods off,
 * dispatchers/admins, other actors or internal services (`system`, e.g. the MQTT bridge), and
 * this actor's timers.
 */
type Sender = "driver" | "store" | "dispatcher" | "actor" | "timer";

const ALLOWED: Record<VehicleMessage["type"], readonly Sender[]> = {
  configure: ["dispatcher"],
  readings: ["actor"],
  grace_elapsed: ["timer"],
  silence_elapsed: ["timer"],
  load: ["driver", "store", "dispatcher", "actor"],
  unload: ["driver", "store", "dispatcher", "actor"],
  check_handoff: ["driver", "store", "dispatcher", "actor"],
};

function authorize(
  state: VehicleState,
  ctx: TurnContext,
  allowed: readonly Sender[],
): Result | null {
  if (ctx.origin === "timer") {
    return allowed.includes("timer") ? null : refuse("forbidden", "timers may not send this");
  }
  if (ctx.origin === "actor") {
    return allowed.includes("actor") ? null : refuse("forbidden", "actors may not send this");
  }
  const by = ctx.by;
  if (by === undefined) return refuse("forbidden", "a client command needs a principal");
  switch (by.role) {
    case "courier":
      if (!allowed.includes("driver")) return refuse("forbidden", "couriers may not send this");
      return by.id === state.driverId
        ? null
        : refuse("wrong_courier", `courier ${by.id} is not the driver of vehicle ${state.id}`);
    case "store":
      return allowed.includes("store") ? null : refuse("forbidden", "stores may not send this");
    case "dispatcher":
    case "admin":
      return allowed.includes("dispatcher")
        ? null
        : refuse("forbidden", `${by.role}s may not send this`);
    case "system":
      return allowed.includes("actor") ? null : refuse("forbidden", "system may not send this");
    default:
      return refuse("forbidden", `the ${by.role} role may not command a vehicle`);
  }
}

// ---------------------------------------------------------------- excursions

function startExcursion(
  state: VehicleState,
  c: Compartment,
  since: number,
  peakC: number,
  detectedAt: number,
): { compartment: Compartment; effects: Effect[] } {
  const temperature: TemperaturePhase = {
    phase: "excursion",
    startedAt: since,
    detectedAt,
    peakC,
    orderIds: [...c.orderIds],
  };
  return {
    compartment: { ...c, temperature },
    effects: [
      { kind: "cancel", timer: graceTimer(c.id) },
      emit("excursion_started", {
        compartmentId: c.id,
        kind: "temperature",
        class: c.class,
        minC: c.minC,
        maxC: c.maxC,
        startedAt: since,
        detectedAt,
        celsius: c.latest?.celsius ?? peakC,
        peakC,
        orderIds: temperature.orderIds,
      }),
      ...notifyOrders(state, temperature.orderIds, {
        type: "cold_chain_excursion",
        vehicleId: state.id,
        compartmentId: c.id,
        kind: "temperature",
        startedAt: since,
        detectedAt,
        celsius: c.latest?.celsius ?? peakC,
      }),
    ],
  };
}

/** Events that close whatever is open on `c` (for reconfiguration and removal). */
function closeAll(c: Compartment, endedAt: number, reason: string): Effect[] {
  const effects: Effect[] = [{ kind: "cancel", timer: graceTimer(c.id) }];
  if (c.temperature.phase === "excursion") {
    effects.push(
      emit("excursion_ended", {
        compartmentId: c.id,
        kind: "temperature",
        startedAt: c.temperature.startedAt,
        endedAt,
        durationMs: Math.max(0, endedAt - c.temperature.startedAt),
        peakC: c.temperature.peakC,
        orderIds: c.temperature.orderIds,
        reason,
      }),
    );
  }
  if (c.silence !== null) {
    effects.push(
      emit("excursion_ended", {
        compartmentId: c.id,
        kind: "sensor_silent",
        startedAt: c.silence.startedAt,
        endedAt,
        durationMs: Math.max(0, endedAt - c.silence.startedAt),
        orderIds: c.silence.orderIds,
        reason,
      }),
    );
  }
  return effects;
}

/** Moves the temperature machine for a fresh reading `celsius` at sensor time `at`. */
function stepTemperature(
  state: VehicleState,
  c: Compartment,
  celsius: number,
  at: number,
  margin: number,
): { compartment: Compartment; effects: Effect[] } {
  const out = isOutOfRange(c, celsius);
  const clearlyIn = isClearlyInRange(c, celsius, margin);
  const t = c.temperature;
  const graceMs = c.graceSeconds * 1000;
  switch (t.phase) {
    case "in_range": {
      if (!out) return { compartment: c, effects: [] };
      if (graceMs === 0) return startExcursion(state, c, at, celsius, at);
      return {
        compartment: { ...c, temperature: { phase: "pending", since: at, peakC: celsius } },
        effects: [
          emit("excursion_suspected", { compartmentId: c.id, since: at, celsius }),
          {
            kind: "schedule",
            timer: graceTimer(c.id),
            at: at + graceMs,
            msg: { type: "grace_elapsed", compartmentId: c.id },
          },
        ],
      };
    }
    case "pending": {
      if (out) {
        const peakC = worse(c, t.peakC, celsius);
        if (at - t.since >= graceMs) return startExcursion(state, c, t.since, peakC, at);
        return { compartment: { ...c, temperature: { ...t, peakC } }, effects: [] };
      }
      if (!clearlyIn) return { compartment: c, effects: [] };
      return {
        compartment: { ...c, temperature: { phase: "in_range" } },
        effects: [
          { kind: "cancel", timer: graceTimer(c.id) },
          emit("excursion_cleared", {
            compartmentId: c.id,
            since: t.since,
            clearedAt: at,
            peakC: t.peakC,
          }),
        ],
      };
    }
    case "excursion": {
      if (out) {
        return {
          compartment: { ...c, temperature: { ...t, peakC: worse(c, t.peakC, celsius) } },
          effects: [],
        };
      }
      if (!clearlyIn) return { compartment: c, effects: [] };
      return {
        compartment: { ...c, temperature: { phase: "in_range" } },
        effects: [
          emit("excursion_ended", {
            compartmentId: c.id,
            kind: "temperature",
            startedAt: t.startedAt,
            endedAt: at,
            durationMs: at - t.startedAt,
            peakC: t.peakC,
            orderIds: t.orderIds,
            reason: "back_in_range",
          }),
          ...notifyOrders(state, t.orderIds, {
            type: "cold_chain_excursion_ended",
            vehicleId: state.id,
            compartmentId: c.id,
            kind: "temperature",
            endedAt: at,
          }),
        ],
      };
    }
  }
}

// ---------------------------------------------------------------- handlers

function configure(state: VehicleState, msg: Msg<"configure">, ctx: TurnContext): Result {
  const silenceLimitSeconds = msg.silenceLimitSeconds ?? state.silenceLimitSeconds;
  const hysteresisC = msg.hysteresisC ?? state.hysteresisC;
  const driverId = msg.driverId === undefined ? state.driverId : msg.driverId;
  const marketId = msg.marketId === undefined ? state.marketId : msg.marketId;
  const effects: Effect[] = [];
  const wanted = new Set(msg.compartments.map((c) => c.id));

  for (const old of Object.values(state.compartments)) {
    if (wanted.has(old.id)) continue;
    if (old.orderIds.length > 0) {
      return refuse(
        "compartment_not_empty",
        `compartment ${old.id} still holds orders ${old.orderIds.join(", ")}`,
      );
    }
    effects.push(...closeAll(old, ctx.now, "compartment_removed"), {
      kind: "cancel",
      timer: silenceTimer(old.id),
    });
  }

  const compartments: Record<string, Compartment> = {};
  for (const config of msg.compartments) {
    const { minC, maxC } = rangeOf(config);
    const old = state.compartments[config.id];
    let c: Compartment;
    if (old !== undefined && old.class === config.class && old.minC === minC && old.maxC === maxC) {
      c = { ...old, graceSeconds: config.graceSeconds };
    } else if (old !== undefined) {
      if (old.orderIds.length > 0) {
        return refuse(
          "compartment_not_empty",
          `compartment ${old.id} cannot change class or range with orders inside`,
        );
      }
      effects.push(...closeAll(old, ctx.now, "reconfigured"));
      c = {
        ...old,
        class: config.class,
        minC,
        maxC,
        graceSeconds: config.graceSeconds,
        temperature: { phase: "in_range" },
        silence: null,
      };
    } else {
      c = {
        id: config.id,
        class: config.class,
        minC,
        maxC,
        graceSeconds: config.graceSeconds,
        latest: null,
        temperature: { phase: "in_range" },
        silence: null,
        heardAt: null,
        orderIds: [],
        silenceTimerAt: null,
      };
    }
    if (!isMonitored(c)) {
      c = { ...c, silenceTimerAt: null };
      effects.push({ kind: "cancel", timer: silenceTimer(c.id) });
    } else if (c.silence === null) {
      // Listening starts now for a compartment that never reported; a changed limit applies.
      const heardAt = c.heardAt ?? ctx.now;
      const at = heardAt + silenceLimitSeconds * 1000;
      c = { ...c, heardAt, silenceTimerAt: at };
      effects.push(silenceSchedule(c.id, at));
    }
    compartments[c.id] = c;
  }

  effects.unshift(
    emit("configured", {
      compartments: Object.values(compartments).map((c) => ({
        id: c.id,
        class: c.class,
        minC: c.minC,
        maxC: c.maxC,
        graceSeconds: c.graceSeconds,
      })),
      silenceLimitSeconds,
      hysteresisC,
      driverId,
      marketId,
    }),
  );
  return accept(
    { ...state, compartments, silenceLimitSeconds, hysteresisC, driverId, marketId },
    effects,
  );
}

type Rejection = { seq: number; part: number; compartmentId: string; reason: ReadingRejection };

/** Why this reading cannot be evidence for this vehicle, or null when it is accepted. */
function judge(state: VehicleState, r: TelemetryReading, now: number): ReadingRejection | null {
  if (Object.keys(state.compartments).length === 0) return "unknown_vehicle";
  const c = state.compartments[r.compartmentId];
  if (c === undefined) return "unknown_compartment";
  if (!Number.isFinite(r.celsius)) return "not_a_number";
  if (r.celsius < PHYSICAL_MIN_C || r.celsius > PHYSICAL_MAX_C) return "out_of_physical_range";
  if (r.at > now + MAX_FUTURE_SKEW_MS) return "future_timestamp";
  if (r.source !== undefined && r.source !== "sensor" && r.source !== `courier:${state.driverId}`)
    return "wrong_driver";
  if (c.latest !== null && r.at === c.latest.at) return "duplicate";
  return null;
}

/**
 * A batch of readings from the telemetry bridge. Each is judged on its own; accepted ones are
 * evidence (one `readings_recorded` event per turn lists them with their stream sequences, which
 * the projector stores) and the fresh ones step the compartment's excursion state in order.
 */
function readings(state: VehicleState, msg: Msg<"readings">, ctx: TurnContext): Result {
  let next = state;
  const recorded: {
    seq: number;
    part: number;
    compartmentId: string;
    celsius: number;
    at: number;
    doorOpen: boolean;
    late: boolean;
  }[] = [];
  const rejected: Rejection[] = [];
  const effects: Effect[] = [];
  const silenced = new Set<string>();
  for (const r of msg.readings) {
    // Applied before a replay: not a new reading.
    const part = r.part ?? 0;
    if (r.seq < next.telemetrySeq || (r.seq === next.telemetrySeq && part <= next.telemetryPart))
      continue;
    next = { ...next, telemetrySeq: r.seq, telemetryPart: part };
    const reason = judge(next, r, ctx.now);
    if (reason !== null) {
      rejected.push({ seq: r.seq, part, compartmentId: r.compartmentId, reason });
      continue;
    }
    const c = next.compartments[r.compartmentId]!;
    const doorOpen = r.doorOpen ?? c.latest?.doorOpen ?? false;
    // A late reading is evidence all the same, but feeding it into the hysteresis would rewrite
    // the past.
    const late = c.latest !== null && r.at < c.latest.at;
    recorded.push({
      seq: r.seq,
      part,
      compartmentId: c.id,
      celsius: r.celsius,
      at: r.at,
      doorOpen,
      late,
    });
    if (late) continue;
    const stepped = applyFresh(next, c, r, doorOpen, ctx.now);
    next = withCompartment(next, stepped.compartment);
    effects.push(...stepped.effects);
    if (isMonitored(stepped.compartment)) silenced.add(c.id);
  }
  for (const id of silenced) {
    const c = next.compartments[id]!;
    if (c.silenceTimerAt !== null) continue;
    const at = ctx.now + next.silenceLimitSeconds * 1000;
    next = withCompartment(next, { ...c, silenceTimerAt: at });
    effects.push(silenceSchedule(id, at));
  }
  if (rejected.length > 0) {
    const counts = { ...next.rejected };
    for (const r of rejected) counts[r.reason] = (counts[r.reason] ?? 0) + 1;
    next = { ...next, rejected: counts };
  }
  if (recorded.length > 0 || rejected.length > 0) {
    effects.unshift(emit("readings_recorded", { readings: recorded, rejected }));
  }
  return accept(next, effects);
}

function silenceSchedule(compartmentId: string, at: number): Effect {
  return {
    kind: "schedule",
    timer: silenceTimer(compartmentId),
    at,
    msg: { type: "silence_elapsed", compartmentId },
  };
}

/** One fresh reading (newer than the latest): door, silence and excursion state. */
function applyFresh(
  state: VehicleState,
  c: Compartment,
  r: TelemetryReading,
  doorOpen: boolean,
  now: number,
): { compartment: Compartment; effects: Effect[] } {
  const effects: Effect[] = [];
  if (r.doorOpen !== undefined && r.doorOpen !== (c.latest?.doorOpen ?? false)) {
    effects.push(
      emit(r.doorOpen ? "door_opened" : "door_closed", { compartmentId: c.id, at: r.at }),
    );
  }
  let next: Compartment = { ...c, latest: { celsius: r.celsius, at: r.at, doorOpen } };
  if (!isMonitored(next)) return { compartment: next, effects };
  if (next.silence !== null) {
    effects.push(
      emit("excursion_ended", {
        compartmentId: c.id,
        kind: "sensor_silent",
        startedAt: next.silence.startedAt,
        endedAt: now,
        durationMs: now - next.silence.startedAt,
        orderIds: next.silence.orderIds,
        reason: "reading_received",
      }),
      ...notifyOrders(state, next.silence.orderIds, {
        type: "cold_chain_excursion_ended",
        vehicleId: state.id,
        compartmentId: c.id,
        kind: "sensor_silent",
        endedAt: now,
      }),
    );
  }
  next = { ...next, silence: null, heardAt: now };
  const stepped = stepTemperature(state, next, r.celsius, r.at, state.hysteresisC);
  return { compartment: stepped.compartment, effects: [...effects, ...stepped.effects] };
}

/** Tells each order inside about an excursion, so the order (and its shopper) carries the mark. */
function notifyOrders(
  state: VehicleState,
  orderIds: readonly string[],
  msg: { type: string } & Record<string, unknown>,
): Effect[] {
  return orderIds.map((id) => ({
    kind: "send",
    command: { to: { type: "order", id }, msg },
  }));
}

function graceElapsed(state: VehicleState, msg: Msg<"grace_elapsed">, ctx: TurnContext): Result {
  const c = state.compartments[msg.compartmentId];
  // Stale timers (compartment removed, excursion already raised or cleared) change nothing.
  if (c === undefined || c.temperature.phase !== "pending" || c.latest === null)
    return accept(state);
  // Inside the range but not by the margin: not "still out of range"; a later reading decides.
  if (!isOutOfRange(c, c.latest.celsius)) return accept(state);
  const started = startExcursion(state, c, c.temperature.since, c.temperature.peakC, ctx.now);
  return accept(withCompartment(state, started.compartment), started.effects);
}

function silenceElapsed(
  state: VehicleState,
  msg: Msg<"silence_elapsed">,
  ctx: TurnContext,
): Result {
  const found = state.compartments[msg.compartmentId];
  if (found === undefined) return accept(state);
  const c: Compartment = { ...found, silenceTimerAt: null };
  if (!isMonitored(c) || c.silence !== null) return accept(withCompartment(state, c));
  const heardAt = c.heardAt ?? ctx.now;
  const dueAt = heardAt + state.silenceLimitSeconds * 1000;
  if (ctx.now < dueAt) {
    // Heard since the timer was armed: wait for the rest of the limit from the last reading.
    return accept(withCompartment(state, { ...c, silenceTimerAt: dueAt }), [
      silenceSchedule(c.id, dueAt),
    ]);
  }
  const silence = {
    startedAt: ctx.now,
    lastReadingAt: c.latest?.at ?? null,
    orderIds: [...c.orderIds],
  };
  return accept(withCompartment(state, { ...c, silence }), [
    ...notifyOrders(state, silence.orderIds, {
      type: "cold_chain_excursion",
      vehicleId: state.id,
      compartmentId: c.id,
      kind: "sensor_silent",
      startedAt: ctx.now,
      detectedAt: ctx.now,
      celsius: null,
    }),
    emit("excursion_started", {
      compartmentId: c.id,
      kind: "sensor_silent",
      class: c.class,
      startedAt: ctx.now,
      lastReadingAt: silence.lastReadingAt,
      silentForMs: ctx.now - heardAt,
      orderIds: silence.orderIds,
    }),
  ]);
}

function load(state: VehicleState, msg: Msg<"load">): Result {
  const c = state.compartments[msg.compartmentId];
  if (c === undefined) return unknownCompartment(msg.compartmentId);
  const holder = compartmentHolding(state, msg.orderId);
  if (holder !== undefined) {
    return refuse("already_loaded", `order ${msg.orderId} is already in compartment ${holder.id}`);
  }
  const refusal = handoffRefusal(c, msg.temperatureClass);
  if (refusal !== null) return refusal;
  return accept(withCompartment(state, { ...c, orderIds: [...c.orderIds, msg.orderId] }), [
    emit("order_loaded", {
      orderId: msg.orderId,
      compartmentId: c.id,
      temperatureClass: msg.temperatureClass,
      celsius: c.latest?.celsius ?? null,
    }),
  ]);
}

function unload(state: VehicleState, msg: Msg<"unload">): Result {
  const c = compartmentHolding(state, msg.orderId);
  if (c === undefined)
    return refuse("order_not_loaded", `order ${msg.orderId} is not in this vehicle`);
  return accept(
    withCompartment(state, { ...c, orderIds: c.orderIds.filter((id) => id !== msg.orderId) }),
    [emit("order_unloaded", { orderId: msg.orderId, compartmentId: c.id })],
  );
}

function checkHandoff(state: VehicleState, msg: Msg<"check_handoff">): Result {
  const c = state.compartments[msg.compartmentId];
  if (c === undefined) return unknownCompartment(msg.compartmentId);
  const refusal = handoffRefusal(c, msg.temperatureClass);
  if (refusal !== null) return refusal;
  return accept(state, [
    emit("handoff_checked", {
      orderId: msg.orderId,
      compartmentId: c.id,
      temperatureClass: msg.temperatureClass,
      celsius: c.latest?.celsius ?? null,
    }),
  ]);
}

// ---------------------------------------------------------------- the logic

/** The handler of each message. */
function route(state: VehicleState, msg: VehicleMessage, ctx: TurnContext): Result {
  switch (msg.type) {
    case "configure":
      return configure(state, msg, ctx);
    case "readings":
      return readings(state, msg, ctx);
    case "grace_elapsed":
      return graceElapsed(state, msg, ctx);
    case "silence_elapsed":
      return silenceElapsed(state, msg, ctx);
    case "load":
      return load(state, msg);
    case "unload":
      return unload(state, msg);
    case "check_handoff":
      return checkHandoff(state, msg);
  }
}

/** The classes of goods a compartment in excursion (or silent) cannot keep cold now. */
function warmList(state: VehicleState) {
  const warm: { temperatureClass: "chilled" | "frozen"; since: number; celsius: number | null }[] =
    [];
  for (const c of Object.values(state.compartments)) {
    const since =
      c.silence?.startedAt ??
      (c.temperature.phase === "excursion" ? c.temperature.startedAt : null);
    if (since === null) continue;
    for (const cls of ["chilled", "frozen"] as const) {
      if (!suits(c, cls) || warm.some((w) => w.temperatureClass === cls)) continue;
      warm.push({
        temperatureClass: cls,
        since,
        celsius: c.silence ? null : (c.latest?.celsius ?? null),
      });
    }
  }
  return warm;
}

/**
 * When a turn changes which classes the van cannot keep cold, its market is told
 * (`vehicle_condition`), so dispatch gives it no new goods of those classes and counts the
 * thermal budget of what it carries.
 */
function withMarketNotice(before: VehicleState, result: Result): Result {
  if (!result.ok || result.state.marketId === null) return result;
  const was = warmList(before)
    .map((w) => `${w.temperatureClass}@${w.since}`)
    .join();
  const warm = warmList(result.state);
  if (warm.map((w) => `${w.temperatureClass}@${w.since}`).join() === was) return result;
  return {
    ...result,
    effects: [
      ...result.effects,
      {
        kind: "send",
        command: {
          to: { type: "market", id: result.state.marketId },
          msg: { type: "vehicle_condition", vehicleId: result.state.id, warm },
        },
      },
    ],
  };
}

export const vehicleLogic: ActorLogic<VehicleState, VehicleMessage> = {
  type: "vehicle",
  messages: VehicleMessage,
  version: 1,
  initial(self) {
    return {
      id: self.id,
      compartments: {},
      silenceLimitSeconds: DEFAULT_SILENCE_LIMIT_SECONDS,
      hysteresisC: DEFAULT_HYSTERESIS_C,
      driverId: null,
      marketId: null,
      telemetrySeq: 0,
      telemetryPart: 0,
      rejected: {},
    };
  },
  transition(state, msg, ctx) {
    const denied = authorize(state, ctx, ALLOWED[msg.type]);
    if (denied !== null) return denied;
    return withMarketNotice(state, route(state, msg, ctx));
  },
  persist(state) {
    return state;
  },
  restore(data, version) {
    if (version !== 1) throw new Error(`vehicle state version ${version} is not supported`);
    return VehicleState.parse(data);
  },
  view(state) {
    return {
      ...state,
      compartments: Object.values(state.compartments).map((c) => ({
        ...c,
        inExcursion: c.temperature.phase === "excursion" || c.silence !== null,
      })),
    };
  },
};
