import { describe, expect, it } from "vitest";
import type { Effect, Principal, TurnContext } from "../types.ts";
import type { VehicleMessage } from "../../protocol/actors/vehicle.ts";
import { MAX_FUTURE_SKEW_MS, graceTimer, silenceTimer, vehicleLogic } from "./logic.ts";
import type { VehicleState } from "./types.ts";
import { events } from "../testing/turns.ts";

const T0 = Date.UTC(2025, 6, 1, 0, 0, 0);
const S = 1000;
const self = { type: "vehicle", id: "v1" };
const dispatcher: Principal = { role: "dispatcher", id: "d1" };
const driver: Principal = { role: "courier", id: "c1" };
const sensor: Principal = { role: "system", id: "mqtt-bridge" };

let seq = 0;
function ctx(
  now: number,
  by: Principal | undefined,
  origin: TurnContext["origin"] = "client",
): TurnContext {
  seq += 1;
  return { self, now, commandId: `cmd-${seq}`, seq, origin, by };
}
const asDispatcher = (now = T0) => ctx(now, dispatcher);
const asSensor = (now = T0) => ctx(now, sensor);
const asDriver = (now = T0) => ctx(now, driver);
const asStore = (now = T0) => ctx(now, { role: "store", id: "s1" });
const asTimer = (now = T0) => ctx(now, { role: "system", id: "rt" }, "timer");

function run(state: VehicleState, msg: VehicleMessage, c: TurnContext) {
  const result = vehicleLogic.transition(state, vehicleLogic.messages.parse(msg), c);
  if (!result.ok) throw new Error(`refused ${result.refusal.code}: ${result.refusal.message}`);
  return result;
}
function refusal(state: VehicleState, msg: VehicleMessage, c: TurnContext): string {
  const result = vehicleLogic.transition(state, msg, c);
  if (result.ok) throw new Error(`expected a refusal for ${msg.type}`);
  return result.refusal.code;
}
const eventData = (effects: readonly Effect[], name: string) =>
  effects.flatMap((e) => (e.kind === "emit" && e.name === name ? [e.data] : []));

const configureMsg: VehicleMessage = {
  type: "configure",
  compartments: [
    { id: "F", class: "frozen", graceSeconds: 120 },
    { id: "C", class: "chilled", graceSeconds: 60 },
    { id: "A", class: "ambient", graceSeconds: 0 },
  ],
  driverId: "c1",
};
const configured = () => run(vehicleLogic.initial(self), configureMsg, asDispatcher()).state;
let telemetrySeq = 0;
const reading = (
  compartmentId: string,
  celsius: number,
  at: number,
  doorOpen?: boolean,
  source?: string,
): VehicleMessage => ({
  type: "readings",
  readings: [
    {
      seq: ++telemetrySeq,
      compartmentId,
      celsius,
      at,
      ...(doorOpen === undefined ? {} : { doorOpen }),
      ...(source === undefined ? {} : { source }),
    },
  ],
});
const rejections = (effects: readonly Effect[]) =>
  eventData(effects, "readings_recorded").flatMap((d) =>
    (d as { rejected: { reason: string }[] }).rejected.map((r) => r.reason),
  );

/** Feeds readings of one compartment, one per `everyS` seconds from `from`, collecting events. */
function feed(state: VehicleState, id: string, temps: readonly number[], from = T0, everyS = 10) {
  const all: string[] = [];
  const effects: Effect[] = [];
  temps.forEach((t, i) => {
    const at = from + i * everyS * S;
    const r = run(state, reading(id, t, at), asSensor(at));
    state = r.state;
    all.push(...events(r.effects));
    effects.push(...r.effects);
  });
  return { state, events: all, effects };
}
const withReading = (id: string, t: number, at = T0) =>
  run(configured(), reading(id, t, at), asSensor(at)).state;
const loadMsg = (
  orderId: string,
  compartmentId = "C",
  cls: "chilled" | "frozen" | "ambient" = "chilled",
): VehicleMessage => ({
  type: "load",
  compartmentId,
  orderId,
  temperatureClass: cls,
});

describe("configuration", () => {
  it("sets up compartments and starts listening for silence on the monitored ones", () => {
    const { state, effects } = run(vehicleLogic.initial(self), configureMsg, asDispatcher());
    expect(Object.keys(state.compartments)).toEqual(["F", "C", "A"]);
    expect(state.compartments.F).toMatchObject({ minC: null, maxC: -18 });
    expect(state.compartments.C).toMatchObject({ minC: 0, maxC: 4 });
    expect(state.compartments.A).toMatchObject({ minC: null, maxC: null });
    expect(events(effects)).toEqual(["configured"]);
    expect(effects).toContainEqual({
      kind: "schedule",
      timer: "silence:F",
      at: T0 + 300 * S,
      msg: { type: "silence_elapsed", compartmentId: "F" },
    });
    expect(effects).toContainEqual({ kind: "cancel", timer: "silence:A" });
  });

  it("rejects inconsistent compartment layouts at the wire", () => {
    const bad = (compartments: unknown) =>
      vehicleLogic.messages.safeParse({ type: "configure", compartments }).success;
    expect(bad([{ id: "X", class: "custom", graceSeconds: 0 }])).toBe(false);
    expect(bad([{ id: "X", class: "custom", minC: 5, maxC: 2, graceSeconds: 0 }])).toBe(false);
    expect(bad([{ id: "X", class: "chilled", minC: 1, graceSeconds: 0 }])).toBe(false);
    expect(
      bad([
        { id: "X", class: "chilled", graceSeconds: 0 },
        { id: "X", class: "frozen", graceSeconds: 0 },
      ]),
    ).toBe(false);
    expect(bad([{ id: "X", class: "custom", minC: 1, maxC: 3, graceSeconds: 0 }])).toBe(true);
  });

  it("refuses configuration from anyone but a dispatcher or admin", () => {
    const fresh = vehicleLogic.initial(self);
    expect(refusal(fresh, configureMsg, asDriver())).toBe("forbidden");
    expect(refusal(fresh, configureMsg, asStore())).toBe("forbidden");
    expect(refusal(fresh, configureMsg, asSensor())).toBe("forbidden");
    expect(run(fresh, configureMsg, ctx(T0, { role: "admin", id: "a" })).state.driverId).toBe("c1");
  });

  it("resets the excursion state when a compartment changes class, closing an open excursion", () => {
    let state = withReading("C", 9);
    state = run(state, { type: "grace_elapsed", compartmentId: "C" }, asTimer(T0 + 60 * S)).state;
    expect(state.compartments.C?.temperature.phase).toBe("excursion");
    const msg: VehicleMessage = {
      type: "configure",
      compartments: [
        { id: "F", class: "frozen", graceSeconds: 120 },
        { id: "C", class: "custom", minC: 5, maxC: 12, graceSeconds: 60 },
        { id: "A", class: "ambient", graceSeconds: 0 },
      ],
    };
    const { state: after, effects } = run(state, msg, asDispatcher(T0 + 90 * S));
    expect(after.compartments.C).toMatchObject({
      class: "custom",
      minC: 5,
      maxC: 12,
      temperature: { phase: "in_range" },
    });
    expect(eventData(effects, "excursion_ended")).toEqual([
      expect.objectContaining({
        compartmentId: "C",
        kind: "temperature",
        reason: "reconfigured",
        durationMs: 90 * S,
      }),
    ]);
    expect(effects).toContainEqual({ kind: "cancel", timer: "grace:C" });
    expect(after.driverId).toBe("c1");
  });

  it("keeps the excursion state when only the grace period changes", () => {
    const state = run(
      withReading("C", 9),
      { type: "grace_elapsed", compartmentId: "C" },
      asTimer(T0 + 60 * S),
    ).state;
    const msg: VehicleMessage = {
      type: "configure",
      compartments: [
        { id: "F", class: "frozen", graceSeconds: 120 },
        { id: "C", class: "chilled", graceSeconds: 30 },
        { id: "A", class: "ambient", graceSeconds: 0 },
      ],
    };
    const { state: after, effects } = run(state, msg, asDispatcher(T0 + 61 * S));
    expect(after.compartments.C?.temperature.phase).toBe("excursion");
    expect(after.compartments.C?.graceSeconds).toBe(30);
    expect(events(effects)).toEqual(["configured"]);
  });

  it("refuses changing or removing a compartment with orders inside", () => {
    const loaded = run(withReading("C", 2), loadMsg("o1"), asStore()).state;
    const change: VehicleMessage = {
      type: "configure",
      compartments: [
        { id: "F", class: "frozen", graceSeconds: 120 },
        { id: "C", class: "frozen", graceSeconds: 60 },
        { id: "A", class: "ambient", graceSeconds: 0 },
      ],
    };
    const remove: VehicleMessage = {
      type: "configure",
      compartments: [{ id: "F", class: "frozen", graceSeconds: 120 }],
    };
    expect(refusal(loaded, change, asDispatcher())).toBe("compartment_not_empty");
    expect(refusal(loaded, remove, asDispatcher())).toBe("compartment_not_empty");
  });

  it("removes an empty compartment and cancels its timers", () => {
    const remove: VehicleMessage = {
      type: "configure",
      compartments: [{ id: "F", class: "frozen", graceSeconds: 120 }],
    };
    const { state, effects } = run(withReading("C", 9), remove, asDispatcher());
    expect(Object.keys(state.compartments)).toEqual(["F"]);
    expect(effects).toContainEqual({ kind: "cancel", timer: "silence:C" });
    expect(effects).toContainEqual({ kind: "cancel", timer: "grace:C" });
  });
});

describe("readings", () => {
  it("records a reading in range and arms the silence timer once, not per reading", () => {
    const at = T0 + 5 * S;
    const { state, effects } = run(configured(), reading("C", 2.5, at, false), asSensor(at));
    expect(state.compartments.C?.latest).toEqual({ celsius: 2.5, at, doorOpen: false });
    expect(events(effects)).toEqual(["readings_recorded"]);
    expect(eventData(effects, "readings_recorded")).toEqual([
      {
        readings: [
          {
            seq: telemetrySeq,
            part: 0,
            compartmentId: "C",
            celsius: 2.5,
            at,
            doorOpen: false,
            late: false,
          },
        ],
        rejected: [],
      },
    ]);
    // Configuration armed the timer; a reading only moves `heardAt`.
    expect(effects.some((e) => e.kind === "schedule")).toBe(false);
    expect(state.compartments.C?.heardAt).toBe(at);
  });

  it("rejects readings that are not physical, from the future, of unknown compartments or duplicated, with the reason and a count", () => {
    const state = withReading("C", 2, T0);
    const msg: VehicleMessage = {
      type: "readings",
      readings: [
        { seq: 101, compartmentId: "C", celsius: -41, at: T0 + S },
        { seq: 102, compartmentId: "C", celsius: 61, at: T0 + S },
        { seq: 103, compartmentId: "C", celsius: 2, at: T0 + MAX_FUTURE_SKEW_MS + 1 },
        { seq: 104, compartmentId: "Z", celsius: 2, at: T0 + S },
        { seq: 105, compartmentId: "C", celsius: 2, at: T0 },
        { seq: 106, compartmentId: "C", celsius: 3, at: T0 + 2 * S },
      ],
    };
    const { state: after, effects } = run(state, msg, asSensor());
    expect(rejections(effects)).toEqual([
      "out_of_physical_range",
      "out_of_physical_range",
      "future_timestamp",
      "unknown_compartment",
      "duplicate",
    ]);
    expect(after.compartments.C?.latest?.celsius).toBe(3);
    expect(after.rejected).toEqual({
      out_of_physical_range: 2,
      future_timestamp: 1,
      unknown_compartment: 1,
      duplicate: 1,
    });
    expect(after.telemetrySeq).toBe(106);
  });

  it("applies every reading of one stream message (several compartments share its sequence) once", () => {
    const msg: VehicleMessage = {
      type: "readings",
      readings: [
        { seq: 900, part: 0, compartmentId: "F", celsius: -19, at: T0 },
        { seq: 900, part: 1, compartmentId: "C", celsius: 3, at: T0 },
      ],
    };
    const first = run(configured(), msg, asSensor());
    expect(first.state.compartments.F?.latest?.celsius).toBe(-19);
    expect(first.state.compartments.C?.latest?.celsius).toBe(3);
    expect(first.state).toMatchObject({ telemetrySeq: 900, telemetryPart: 1 });
    const replay = run(first.state, msg, asSensor());
    expect(replay.effects).toEqual([]);
  });

  it("rejects every reading of a vehicle nobody configured", () => {
    const { effects } = run(vehicleLogic.initial(self), reading("C", 2, T0), asSensor());
    expect(rejections(effects)).toEqual(["unknown_vehicle"]);
  });

  it("applies each stream sequence once: a replayed batch changes nothing", () => {
    const msg = reading("C", 6, T0);
    const first = run(configured(), msg, asSensor());
    const again = run(first.state, msg, asSensor(T0 + S));
    expect(again.state).toEqual(first.state);
    expect(again.effects).toEqual([]);
  });

  it("records a late reading as evidence without moving the latest one or the excursion state", () => {
    const state = withReading("C", 2, T0 + 60 * S);
    const { state: after, effects } = run(
      state,
      reading("C", 15, T0 + 30 * S),
      asSensor(T0 + 61 * S),
    );
    expect(after.compartments).toEqual(state.compartments);
    expect(eventData(effects, "readings_recorded")).toMatchObject([
      { readings: [{ celsius: 15, late: true }], rejected: [] },
    ]);
  });

  it("announces the door opening and closing", () => {
    let state = configured();
    const opened = run(state, reading("C", 2, T0, true), asSensor());
    expect(events(opened.effects)).toContain("door_opened");
    state = opened.state;
    const still = run(state, reading("C", 2.5, T0 + S), asSensor(T0 + S));
    expect(events(still.effects)).not.toContain("door_closed");
    expect(still.state.compartments.C?.latest?.doorOpen).toBe(true);
    const closed = run(still.state, reading("C", 2, T0 + 2 * S, false), asSensor(T0 + 2 * S));
    expect(events(closed.effects)).toContain("door_closed");
  });

  it("takes readings through the bridge only, and from a phone only when it is the van's driver's", () => {
    const state = configured();
    const fromDriver = run(state, reading("C", 2, T0, undefined, "courier:c1"), asSensor());
    expect(fromDriver.state.compartments.C?.latest?.celsius).toBe(2);
    const fromOther = run(state, reading("C", 2, T0, undefined, "courier:c9"), asSensor());
    expect(rejections(fromOther.effects)).toEqual(["wrong_driver"]);
    expect(refusal(state, reading("C", 2, T0), asDriver())).toBe("forbidden");
    expect(refusal(state, reading("C", 2, T0), asStore())).toBe("forbidden");
    expect(refusal(state, reading("C", 2, T0), ctx(T0, undefined))).toBe("forbidden");
  });

  it("records ambient readings without any excursion tracking", () => {
    const { state, events: names } = feed(configured(), "A", [45, 50, 55]);
    expect(names.every((n) => n === "readings_recorded")).toBe(true);
    expect(state.compartments.A?.temperature.phase).toBe("in_range");
  });
});

describe("temperature excursions", () => {
  it("suspects an excursion on the first out-of-range reading and arms the grace timer", () => {
    const { state, effects } = run(configured(), reading("C", 6, T0), asSensor());
    expect(state.compartments.C?.temperature).toEqual({ phase: "pending", since: T0, peakC: 6 });
    expect(events(effects)).toContain("excursion_suspected");
    expect(effects).toContainEqual({
      kind: "schedule",
      timer: graceTimer("C"),
      at: T0 + 60 * S,
      msg: { type: "grace_elapsed", compartmentId: "C" },
    });
  });

  it("clears a suspected excursion when the temperature comes back well inside the range", () => {
    const { state, events: names, effects } = feed(configured(), "C", [6, 3]);
    expect(state.compartments.C?.temperature.phase).toBe("in_range");
    expect(names).toContain("excursion_cleared");
    expect(names).not.toContain("excursion_started");
    expect(effects).toContainEqual({ kind: "cancel", timer: "grace:C" });
  });

  it("starts an excursion when readings stay out of range past the grace period, marking the orders inside", () => {
    let state = withReading("C", 2);
    state = run(state, loadMsg("o1"), asStore()).state;
    state = run(state, loadMsg("o2"), asStore()).state;
    const { state: after, effects } = feed(state, "C", [5, 7, 6, 5.5, 5, 6.5, 6], T0 + 10 * S);
    expect(after.compartments.C?.temperature).toMatchObject({
      phase: "excursion",
      startedAt: T0 + 10 * S,
      detectedAt: T0 + 70 * S,
      peakC: 7,
      orderIds: ["o1", "o2"],
    });
    expect(eventData(effects, "excursion_started")).toEqual([
      expect.objectContaining({
        compartmentId: "C",
        kind: "temperature",
        orderIds: ["o1", "o2"],
        peakC: 7,
      }),
    ]);
  });

  it("starts the excursion from the grace timer when no reading comes in between", () => {
    const state = withReading("C", 8);
    const { state: after, effects } = run(
      state,
      { type: "grace_elapsed", compartmentId: "C" },
      asTimer(T0 + 60 * S),
    );
    expect(after.compartments.C?.temperature).toMatchObject({
      phase: "excursion",
      startedAt: T0,
      detectedAt: T0 + 60 * S,
    });
    expect(events(effects)).toEqual(["excursion_started"]);
  });

  it("does not start an excursion from the grace timer while the latest reading is within the limit", () => {
    const state = feed(configured(), "C", [6, 3.8]).state;
    expect(state.compartments.C?.temperature.phase).toBe("pending");
    const { state: after } = run(
      state,
      { type: "grace_elapsed", compartmentId: "C" },
      asTimer(T0 + 60 * S),
    );
    expect(after).toBe(state);
  });

  it("ignores a stale grace timer and refuses one sent by a client", () => {
    const state = withReading("C", 2);
    expect(
      run(state, { type: "grace_elapsed", compartmentId: "C" }, asTimer(T0 + 60 * S)).state,
    ).toBe(state);
    expect(
      run(state, { type: "grace_elapsed", compartmentId: "Z" }, asTimer(T0 + 60 * S)).state,
    ).toBe(state);
    expect(refusal(state, { type: "grace_elapsed", compartmentId: "C" }, asDispatcher())).toBe(
      "forbidden",
    );
  });

  it("ends the excursion only when back inside by the hysteresis margin, with duration and peak", () => {
    let state = run(
      withReading("C", 9),
      { type: "grace_elapsed", compartmentId: "C" },
      asTimer(T0 + 60 * S),
    ).state;
    const inBand = feed(state, "C", [3.9, 3.6, 4], T0 + 70 * S);
    expect(inBand.events).not.toContain("excursion_ended");
    state = inBand.state;
    expect(state.compartments.C?.temperature.phase).toBe("excursion");
    const { state: after, effects } = run(
      state,
      reading("C", 3.5, T0 + 120 * S),
      asSensor(T0 + 120 * S),
    );
    expect(after.compartments.C?.temperature.phase).toBe("in_range");
    expect(eventData(effects, "excursion_ended")).toEqual([
      expect.objectContaining({
        compartmentId: "C",
        kind: "temperature",
        startedAt: T0,
        endedAt: T0 + 120 * S,
        durationMs: 120 * S,
        peakC: 9,
        reason: "back_in_range",
      }),
    ]);
  });

  it("does not flap when the temperature hovers at the limit", () => {
    const hover = Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? 4.1 : 3.9));
    const { state, events: names } = feed(configured(), "C", hover);
    const count = (n: string) => names.filter((x) => x === n).length;
    expect(count("excursion_suspected")).toBe(1);
    expect(count("excursion_started")).toBe(1);
    expect(count("excursion_cleared")).toBe(0);
    expect(count("excursion_ended")).toBe(0);
    expect(state.compartments.C?.temperature.phase).toBe("excursion");
    const back = feed(state, "C", [3.2, 4.05, 3.9, 3.4], T0 + 600 * S);
    expect(back.events.filter((x) => x === "excursion_ended")).toHaveLength(1);
    expect(back.events.filter((x) => x === "excursion_suspected")).toHaveLength(1);
  });

  it("treats frozen as at most −18 °C with recovery at −18.5 °C", () => {
    const { state, events: names } = feed(
      configured(),
      "F",
      [-20, -17.5, -17, -16, -18, -17, -15, -16, -15, -16, -15, -16, -15.5, -16],
      T0,
      10,
    );
    expect(names).toContain("excursion_started");
    const stillIn = run(state, reading("F", -18.2, T0 + 200 * S), asSensor(T0 + 200 * S));
    expect(stillIn.state.compartments.F?.temperature.phase).toBe("excursion");
    const ended = run(stillIn.state, reading("F", -18.6, T0 + 210 * S), asSensor(T0 + 210 * S));
    expect(events(ended.effects)).toContain("excursion_ended");
  });

  it("raises an excursion at once when the grace period is zero", () => {
    const msg: VehicleMessage = {
      type: "configure",
      compartments: [{ id: "X", class: "custom", minC: 10, maxC: 14, graceSeconds: 0 }],
    };
    const state = run(vehicleLogic.initial(self), msg, asDispatcher()).state;
    const { effects } = run(state, reading("X", 9, T0), asSensor());
    expect(events(effects)).toContain("excursion_started");
  });
});

describe("sensor silence", () => {
  it("raises a sensor_silent excursion when no reading comes in time, and ends it on the next reading", () => {
    let state = run(withReading("C", 2), loadMsg("o1"), asStore()).state;
    const silent = run(
      state,
      { type: "silence_elapsed", compartmentId: "C" },
      asTimer(T0 + 300 * S),
    );
    state = silent.state;
    expect(eventData(silent.effects, "excursion_started")).toEqual([
      expect.objectContaining({
        compartmentId: "C",
        kind: "sensor_silent",
        orderIds: ["o1"],
        lastReadingAt: T0,
      }),
    ]);
    expect(refusal(state, loadMsg("o2"), asStore())).toBe("no_recent_reading");
    const again = run(
      state,
      { type: "silence_elapsed", compartmentId: "C" },
      asTimer(T0 + 600 * S),
    );
    expect(again.state.compartments.C?.silence).toEqual(state.compartments.C?.silence);
    expect(events(again.effects)).toEqual([]);
    const back = run(state, reading("C", 2, T0 + 400 * S), asSensor(T0 + 400 * S));
    expect(eventData(back.effects, "excursion_ended")).toEqual([
      expect.objectContaining({ kind: "sensor_silent", durationMs: 100 * S }),
    ]);
    expect(back.state.compartments.C?.silence).toBeNull();
  });

  it("counts silence from configuration for a sensor that never reported", () => {
    const { effects } = run(
      configured(),
      { type: "silence_elapsed", compartmentId: "F" },
      asTimer(T0 + 300 * S),
    );
    expect(eventData(effects, "excursion_started")).toEqual([
      expect.objectContaining({ compartmentId: "F", kind: "sensor_silent", lastReadingAt: null }),
    ]);
  });

  it("re-arms a silence timer that a later reading made early, and ignores ambient compartments", () => {
    const state = withReading("C", 2, T0 + 200 * S);
    const early = run(
      state,
      { type: "silence_elapsed", compartmentId: "C" },
      asTimer(T0 + 300 * S),
    );
    expect(events(early.effects)).toEqual([]);
    expect(early.effects).toContainEqual({
      kind: "schedule",
      timer: silenceTimer("C"),
      at: T0 + 500 * S,
      msg: { type: "silence_elapsed", compartmentId: "C" },
    });
    expect(early.state.compartments.C?.silenceTimerAt).toBe(T0 + 500 * S);
    const ambient = run(
      state,
      { type: "silence_elapsed", compartmentId: "A" },
      asTimer(T0 + 999 * S),
    );
    expect(events(ambient.effects)).toEqual([]);
  });

  it("tells its market which classes it cannot keep cold, when that changes", () => {
    let state = run(
      vehicleLogic.initial(self),
      { ...configureMsg, marketId: "km" } as VehicleMessage,
      asDispatcher(),
    ).state;
    state = run(state, reading("C", 2, T0), asSensor()).state;
    const notices = (effects: readonly Effect[]) =>
      effects.flatMap((e) =>
        e.kind === "send" && e.command.to.type === "market" ? [e.command.msg] : [],
      );
    const hot = feed(state, "C", [7, 7, 7, 7, 7, 7, 7, 7], T0 + 10 * S, 10);
    expect(notices(hot.effects)).toEqual([
      {
        type: "vehicle_condition",
        vehicleId: "v1",
        warm: [{ temperatureClass: "chilled", since: T0 + 10 * S, celsius: 7 }],
      },
    ]);
    const cool = run(hot.state, reading("C", 2, T0 + 200 * S), asSensor(T0 + 200 * S));
    expect(notices(cool.effects)).toEqual([
      { type: "vehicle_condition", vehicleId: "v1", warm: [] },
    ]);
    // Without a market nobody is told.
    expect(
      notices(feed(withReading("C", 2), "C", [7, 7, 7, 7, 7, 7, 7, 7], T0 + 10 * S).effects),
    ).toEqual([]);
  });

  it("tells each order inside when an excursion starts and ends", () => {
    let state = run(withReading("C", 2), loadMsg("o1"), asStore()).state;
    const hot = feed(state, "C", [7, 7, 7, 7, 7, 7, 7, 7], T0 + 10 * S, 10);
    const sends = hot.effects.flatMap((e) => (e.kind === "send" ? [e.command] : []));
    expect(sends).toEqual([
      {
        to: { type: "order", id: "o1" },
        msg: expect.objectContaining({
          type: "cold_chain_excursion",
          vehicleId: "v1",
          compartmentId: "C",
          kind: "temperature",
        }),
      },
    ]);
    state = hot.state;
    const cool = run(state, reading("C", 2, T0 + 200 * S), asSensor(T0 + 200 * S));
    expect(cool.effects).toContainEqual({
      kind: "send",
      command: {
        to: { type: "order", id: "o1" },
        msg: {
          type: "cold_chain_excursion_ended",
          vehicleId: "v1",
          compartmentId: "C",
          kind: "temperature",
          endedAt: T0 + 200 * S,
        },
      },
    });
  });
});

describe("loading and hand-off", () => {
  it("loads chilled goods into a chilled compartment in range", () => {
    const { state, effects } = run(withReading("C", 2), loadMsg("o1"), asStore());
    expect(state.compartments.C?.orderIds).toEqual(["o1"]);
    expect(events(effects)).toEqual(["order_loaded"]);
  });

  it("refuses goods of the wrong temperature class", () => {
    const state = withReading("C", 2);
    expect(refusal(state, loadMsg("o1", "C", "frozen"), asStore())).toBe("wrong_temperature_class");
    expect(refusal(state, loadMsg("o1", "A", "chilled"), asStore())).toBe(
      "wrong_temperature_class",
    );
    expect(refusal(state, loadMsg("o1", "C", "ambient"), asStore())).toBe(
      "wrong_temperature_class",
    );
  });

  it("accepts chilled goods in a custom compartment whose range lies inside 0-4 °C", () => {
    const msg: VehicleMessage = {
      type: "configure",
      compartments: [
        { id: "X", class: "custom", minC: 1, maxC: 3, graceSeconds: 60 },
        { id: "Y", class: "custom", minC: 1, maxC: 8, graceSeconds: 60 },
      ],
    };
    let state = run(vehicleLogic.initial(self), msg, asDispatcher()).state;
    state = run(state, reading("X", 2, T0), asSensor()).state;
    state = run(state, reading("Y", 2, T0), asSensor()).state;
    expect(run(state, loadMsg("o1", "X"), asStore()).state.compartments.X?.orderIds).toEqual([
      "o1",
    ]);
    expect(refusal(state, loadMsg("o1", "Y"), asStore())).toBe("wrong_temperature_class");
  });

  it("refuses cold goods into a compartment that is out of range, suspected, or never read", () => {
    expect(refusal(configured(), loadMsg("o1"), asStore())).toBe("no_recent_reading");
    const pending = withReading("C", 5);
    expect(refusal(pending, loadMsg("o1"), asStore())).toBe("compartment_out_of_range");
    expect(
      refusal(
        pending,
        { type: "check_handoff", compartmentId: "C", orderId: "o1", temperatureClass: "chilled" },
        asStore(),
      ),
    ).toBe("compartment_out_of_range");
    const recovering = feed(configured(), "C", [5, 3.8]).state;
    expect(refusal(recovering, loadMsg("o1"), asStore())).toBe("compartment_out_of_range");
  });

  it("loads ambient goods without a reading", () => {
    expect(
      run(configured(), loadMsg("o1", "A", "ambient"), asStore()).state.compartments.A?.orderIds,
    ).toEqual(["o1"]);
  });

  it("refuses loading an order twice, into an unknown compartment, or by a stranger", () => {
    const state = run(withReading("C", 2), loadMsg("o1"), asStore()).state;
    expect(refusal(state, loadMsg("o1"), asStore())).toBe("already_loaded");
    expect(refusal(state, loadMsg("o2", "Z"), asStore())).toBe("unknown_compartment");
    expect(refusal(state, loadMsg("o2"), ctx(T0, { role: "shopper", id: "x" }))).toBe("forbidden");
    expect(refusal(state, loadMsg("o2"), ctx(T0, { role: "courier", id: "c9" }))).toBe(
      "wrong_courier",
    );
  });

  it("unloads an order and refuses unloading one that is not inside", () => {
    const state = run(withReading("C", 2), loadMsg("o1"), asDriver()).state;
    const { state: after, effects } = run(state, { type: "unload", orderId: "o1" }, asDriver());
    expect(after.compartments.C?.orderIds).toEqual([]);
    expect(events(effects)).toEqual(["order_unloaded"]);
    expect(refusal(after, { type: "unload", orderId: "o1" }, asDriver())).toBe("order_not_loaded");
  });

  it("checks a hand-off without changing anything", () => {
    const state = withReading("C", 2);
    const check: VehicleMessage = {
      type: "check_handoff",
      compartmentId: "C",
      orderId: "o1",
      temperatureClass: "chilled",
    };
    const { state: after, effects } = run(state, check, ctx(T0, undefined, "actor"));
    expect(after).toBe(state);
    expect(events(effects)).toEqual(["handoff_checked"]);
    expect(refusal(state, { ...check, compartmentId: "F" }, asStore())).toBe(
      "wrong_temperature_class",
    );
    expect(refusal(state, { ...check, compartmentId: "Z" }, asStore())).toBe("unknown_compartment");
  });
});

describe("persistence", () => {
  it("survives persist → JSON → restore after many transitions and continues identically", () => {
    let state = configured();
    let now = T0;
    const step = (msg: VehicleMessage, c: TurnContext) => {
      state = run(state, msg, c).state;
    };
    step(reading("C", 2, now), asSensor(now));
    step(reading("F", -20, now), asSensor(now));
    step(loadMsg("o1"), asStore(now));
    step(loadMsg("o2", "F", "frozen"), asStore(now));
    for (let i = 1; i <= 30; i += 1) {
      now = T0 + i * 10 * S;
      step(reading("C", i % 7 === 0 ? 3 : 6 + (i % 3), now, i % 5 === 0), asSensor(now));
      step(reading("F", i < 20 ? -15 : -19, now), asSensor(now));
    }
    step({ type: "silence_elapsed", compartmentId: "A" }, asTimer(now));
    const json = JSON.parse(JSON.stringify(vehicleLogic.persist!(state)));
    const restored = vehicleLogic.restore!(json, 1);
    expect(restored).toEqual(state);
    const next = reading("C", 1, now + 10 * S);
    const c = asSensor(now + 10 * S);
    expect(vehicleLogic.transition(restored, next, c)).toEqual(
      vehicleLogic.transition(state, next, c),
    );
  });

  it("refuses to restore an unknown version", () => {
    expect(() => vehicleLogic.restore!(configured(), 9)).toThrow();
  });
});
