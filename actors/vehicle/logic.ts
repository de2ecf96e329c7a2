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
 * - A reading that is not finite, outside −40..+60 °C, or stamped more than MAX_FUTURE_SKEW_MS
 *   after ctx.now is refused (`invalid_reading`).
 * - A reading stamped at or before the latest one is accepted (it is evidence, and the telemetry
 *   stream keeps it) but moves neither the latest reading nor the excursion state: feeding late
 *   values into the hysteresis would rewrite the past. It is announced as `late_reading_recorded`.
 * - Excursion times (start, end, duration, grace) are sensor times; silence is measured in
 *   runtime time (ctx.now), since a silent sensor sends no times.
 * - Loading or a hand-off check of chilled/frozen goods needs a compartment of that class (or a
 *   custom one whose range lies inside the class's range), with a reading, not silent, not
 *   pending nor in excursion and the latest reading in range.
 * - Changing a compartment's class or range resets its excursion state (closing an open
 *   excursion with reason `reconfigured`); it is refused while orders are inside, as is removing
 *   a compartment with orders inside (`compartment_not_empty`).
 * This actor sends no commands; it emits events that alerting and the order certificates read.
 */
import type { ActorLogic, Effect, TurnContext, TurnResult } from "../types.ts";
import { accept, emit, refuse } from "../logic.ts";
import { VehicleMessage } from "../../protocol/actors/vehicle.ts";
import type { CompartmentConfig } from "../../protocol/actors/vehicle.ts";
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
  reading: ["driver", "actor"],
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
      if (graceMs === 0) return startExcursion(c, at, celsius, at);
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
        if (at - t.since >= graceMs) return startExcursion(c, t.since, peakC, at);
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
      };
    }
    if (!isMonitored(c)) {
      effects.push({ kind: "cancel", timer: silenceTimer(c.id) });
    } else if (c.silence === null) {
      // Listening starts now for a compartment that never reported; a changed limit applies.
      const heardAt = c.heardAt ?? ctx.now;
      c = { ...c, heardAt };
      effects.push({
        kind: "schedule",
        timer: silenceTimer(c.id),
        at: heardAt + silenceLimitSeconds * 1000,
        msg: { type: "silence_elapsed", compartmentId: c.id },
      });
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
    }),
  );
  return accept({ ...state, compartments, silenceLimitSeconds, hysteresisC, driverId }, effects);
}

function reading(state: VehicleState, msg: Msg<"reading">, ctx: TurnContext): Result {
  const c = state.compartments[msg.compartmentId];
  if (c === undefined) return unknownCompartment(msg.compartmentId);
  if (
    !Number.isFinite(msg.celsius) ||
    msg.celsius < PHYSICAL_MIN_C ||
    msg.celsius > PHYSICAL_MAX_C
  ) {
    return refuse(
      "invalid_reading",
      `${msg.celsius} °C is outside what a sensor can report (${PHYSICAL_MIN_C}..${PHYSICAL_MAX_C})`,
    );
  }
  if (msg.at > ctx.now + MAX_FUTURE_SKEW_MS) {
    return refuse("invalid_reading", `reading time ${msg.at} is in the future (now ${ctx.now})`);
  }
  if (c.latest !== null && msg.at <= c.latest.at) {
    return accept(state, [
      emit("late_reading_recorded", {
        compartmentId: c.id,
        celsius: msg.celsius,
        at: msg.at,
        latestAt: c.latest.at,
      }),
    ]);
  }

  const doorOpen = msg.doorOpen ?? c.latest?.doorOpen ?? null;
  const effects: Effect[] = [
    emit("reading_recorded", { compartmentId: c.id, celsius: msg.celsius, at: msg.at, doorOpen }),
  ];
  if (msg.doorOpen !== undefined && msg.doorOpen !== (c.latest?.doorOpen ?? false)) {
    effects.push(
      emit(msg.doorOpen ? "door_opened" : "door_closed", { compartmentId: c.id, at: msg.at }),
    );
  }
  let next: Compartment = { ...c, latest: { celsius: msg.celsius, at: msg.at, doorOpen } };

  if (isMonitored(next)) {
    if (next.silence !== null) {
      effects.push(
        emit("excursion_ended", {
          compartmentId: c.id,
          kind: "sensor_silent",
          startedAt: next.silence.startedAt,
          endedAt: ctx.now,
          durationMs: ctx.now - next.silence.startedAt,
          orderIds: next.silence.orderIds,
          reason: "reading_received",
        }),
      );
    }
    next = { ...next, silence: null, heardAt: ctx.now };
    effects.push({
      kind: "schedule",
      timer: silenceTimer(c.id),
      at: ctx.now + state.silenceLimitSeconds * 1000,
      msg: { type: "silence_elapsed", compartmentId: c.id },
    });
    const stepped = stepTemperature(next, msg.celsius, msg.at, state.hysteresisC);
    next = stepped.compartment;
    effects.push(...stepped.effects);
  }
  return accept(withCompartment(state, next), effects);
}

function graceElapsed(state: VehicleState, msg: Msg<"grace_elapsed">, ctx: TurnContext): Result {
  const c = state.compartments[msg.compartmentId];
  // Stale timers (compartment removed, excursion already raised or cleared) change nothing.
  if (c === undefined || c.temperature.phase !== "pending" || c.latest === null)
    return accept(state);
  // Inside the range but not by the margin: not "still out of range"; a later reading decides.
  if (!isOutOfRange(c, c.latest.celsius)) return accept(state);
  const started = startExcursion(c, c.temperature.since, c.temperature.peakC, ctx.now);
  return accept(withCompartment(state, started.compartment), started.effects);
}

function silenceElapsed(
  state: VehicleState,
  msg: Msg<"silence_elapsed">,
  ctx: TurnContext,
): Result {
  const c = state.compartments[msg.compartmentId];
  if (c === undefined || !isMonitored(c) || c.silence !== null) return accept(state);
  const heardAt = c.heardAt ?? ctx.now;
  if (ctx.now - heardAt < state.silenceLimitSeconds * 1000) return accept(state);
  const silence = {
    startedAt: ctx.now,
    lastReadingAt: c.latest?.at ?? null,
    orderIds: [...c.orderIds],
  };
  return accept(withCompartment(state, { ...c, silence }), [
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
    };
  },
  transition(state, msg, ctx) {
    const denied = authorize(state, ctx, ALLOWED[msg.type]);
    if (denied !== null) return denied;
    switch (msg.type) {
      case "configure":
        return configure(state, msg, ctx);
      case "reading":
        return reading(state, msg, ctx);
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
