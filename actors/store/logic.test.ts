import { describe, expect, it } from "vitest";
import type { Effect, Principal, TurnContext, TurnResult } from "../types.ts";
import type { StoreMessage } from "../../protocol/actors/store.ts";
import type { OrderMessage } from "../../protocol/actors/order.ts";
import { orderLogic } from "../order/logic.ts";
import type { OrderState } from "../order/types.ts";
import {
  DEFAULT_PREP,
  PREP_ALPHA,
  PROBLEMS_PER_ORDER,
  RESUME_TIMER,
  isOpenAt,
  isStoreOpen,
  learnPrep,
  predictReadyAt,
  predictReadyWindow,
  predictedReadyAt,
  shanghaiLocalTime,
  storeLogic,
  viewStore,
} from "./logic.ts";
import { openHoursProblem } from "./hours.ts";
import type { Store, StoreState } from "./types.ts";
import { contexts, events, refusedWith } from "../testing/turns.ts";

// Monday 2 June 2025, 10:00 in Shanghai (02:00 UTC).
const T0 = Date.UTC(2025, 5, 2, 2, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;

const admin: Principal = { role: "admin", id: "a-1" };
const system: Principal = { role: "system", id: "sys" };
const dispatcher: Principal = { role: "dispatcher", id: "d-1" };
const staff: Principal = { role: "store", id: "s-1" };
const otherStore: Principal = { role: "store", id: "s-2" };
const courier: Principal = { role: "courier", id: "c-1" };
const shopper: Principal = { role: "shopper", id: "u-1" };

const { ctx, fromActor, fromTimer } = contexts({ type: "store", id: "s-1" }, T0);

function run(state: StoreState, msg: StoreMessage, c: TurnContext): TurnResult<StoreState> {
  return storeLogic.transition(state, storeLogic.messages.parse(msg), c);
}
function ok(result: TurnResult<StoreState>): { state: Store; effects: readonly Effect[] } {
  if (!result.ok) throw new Error(`refused: ${result.refusal.code}: ${result.refusal.message}`);
  if (result.state.status === "none") throw new Error("no store");
  return { state: result.state, effects: result.effects };
}
const sentToOrders = (effects: readonly Effect[]) =>
  effects.flatMap((e) => (e.kind === "send" ? [{ to: e.command.to, msg: e.command.msg }] : []));

const everyDay = [{ open: "08:00", close: "22:00" }];
const registerMsg: Extract<StoreMessage, { type: "register" }> = {
  type: "register",
  name: "鲜果铺 静安店",
  marketId: "m-sh",
  location: { lat: 31.2252, lng: 121.4453 },
  openHours: {
    "1": everyDay,
    "2": everyDay,
    "3": everyDay,
    "4": everyDay,
    "5": everyDay,
    "6": everyDay,
  },
};
const empty = storeLogic.initial({ type: "store", id: "s-1" });

function placedMsg(orderId: string): Extract<StoreMessage, { type: "order_placed" }> {
  return {
    type: "order_placed",
    orderId,
    shopOrderId: `WX-${orderId}`,
    pickupCode: "K7Q2",
    promisedAt: T0 + 45 * MIN,
    temperatureClass: "chilled",
    itemsSummary: "2 × 草莓 500g",
  };
}

function registered(): Store {
  return ok(run(empty, registerMsg, ctx(admin))).state;
}
function withIncoming(orderId = "o-1"): Store {
  return ok(run(registered(), placedMsg(orderId), fromActor())).state;
}
function withPending(orderId = "o-1"): Store {
  return ok(run(withIncoming(orderId), { type: "accept_order", orderId }, ctx(staff, T0 + MIN)))
    .state;
}
function withCourier(orderId = "o-1"): Store {
  return ok(
    run(withPending(orderId), { type: "courier_assigned", orderId, courierId: "c-1" }, fromActor()),
  ).state;
}

function roundTrip(state: StoreState): StoreState {
  const json = JSON.parse(JSON.stringify(storeLogic.persist!(state)));
  return storeLogic.restore!(json, storeLogic.version);
}

describe("store: local time and opening hours", () => {
  it("computes Asia/Shanghai local time with a fixed +08:00 offset", () => {
    expect(shanghaiLocalTime(T0)).toEqual({ isoWeekday: 1, minuteOfDay: 600 });
    // 16:00 UTC on Sunday is already Monday 00:00 in Shanghai.
    expect(shanghaiLocalTime(Date.UTC(2025, 5, 1, 16, 0))).toEqual({
      isoWeekday: 1,
      minuteOfDay: 0,
    });
    expect(shanghaiLocalTime(Date.UTC(2025, 5, 1, 15, 59))).toEqual({
      isoWeekday: 7,
      minuteOfDay: 1439,
    });
  });

  it("is open inside an interval, closed at its closing minute and on a day without hours", () => {
    const hours = registerMsg.openHours;
    expect(isOpenAt(hours, T0)).toBe(true);
    expect(isOpenAt(hours, T0 - 2 * HOUR - 1)).toBe(false); // Monday 07:59:59
    expect(isOpenAt(hours, T0 - 2 * HOUR)).toBe(true); // Monday 08:00
    expect(isOpenAt(hours, T0 + 12 * HOUR)).toBe(false); // Monday 22:00
    expect(isOpenAt(hours, T0 - 24 * HOUR)).toBe(false); // Sunday 10:00: no hours
  });

  it("follows an interval past midnight into the next day, and 24:00 closings", () => {
    const hours = {
      "6": [{ open: "20:00", close: "02:00" }],
      "3": [{ open: "00:00", close: "24:00" }],
    };
    const saturday = T0 + 5 * 24 * HOUR; // Saturday 10:00
    expect(isOpenAt(hours, saturday)).toBe(false);
    expect(isOpenAt(hours, saturday + 11 * HOUR)).toBe(true); // Saturday 21:00
    expect(isOpenAt(hours, saturday + 15 * HOUR)).toBe(true); // Sunday 01:00
    expect(isOpenAt(hours, saturday + 16 * HOUR)).toBe(false); // Sunday 02:00
    const wednesday = T0 + 2 * 24 * HOUR - 10 * HOUR; // Wednesday 00:00
    expect(isOpenAt(hours, wednesday)).toBe(true);
    expect(isOpenAt(hours, wednesday + 24 * HOUR - 1)).toBe(true);
  });

  it("finds unusable hours", () => {
    expect(openHoursProblem(registerMsg.openHours)).toBeNull();
    expect(openHoursProblem({ "1": [{ open: "09:00", close: "09:00" }] })).toMatch(/day 1/);
    expect(openHoursProblem({ "2": [{ open: "24:00", close: "02:00" }] })).toMatch(/24:00/);
  });
});

describe("store: learned preparation time", () => {
  it("takes the first sample as it is, then weighs new samples by PREP_ALPHA", () => {
    const one = learnPrep(DEFAULT_PREP, 10);
    expect(one).toEqual({ meanMinutes: 10, spreadMinutes: 5, samples: 1 });
    const two = learnPrep(one, 20);
    expect(two.meanMinutes).toBeCloseTo(15);
    expect(two.samples).toBe(2);
    let many = two;
    for (let i = 0; i < 50; i += 1) many = learnPrep(many, 12);
    expect(many.meanMinutes).toBeCloseTo(12, 3);
    expect(many.spreadMinutes).toBeLessThan(0.01);
    const jump = learnPrep(many, 22);
    expect(jump.meanMinutes).toBeCloseTo(12 + PREP_ALPHA * 10, 3);
  });

  it("clamps samples to a plausible range", () => {
    expect(learnPrep(DEFAULT_PREP, -3).meanMinutes).toBe(0);
    expect(learnPrep(DEFAULT_PREP, 10_000).meanMinutes).toBe(240);
  });

  it("predicts ready times and a window from the learned statistics", () => {
    const stats = { meanMinutes: 12.5, spreadMinutes: 20, samples: 9 };
    expect(predictReadyAt(stats, T0)).toBe(T0 + 12.5 * MIN);
    expect(predictReadyWindow(stats, T0)).toEqual({
      earliest: T0,
      expected: T0 + 12.5 * MIN,
      latest: T0 + 32.5 * MIN,
    });
    expect(predictedReadyAt(empty, T0)).toBe(T0 + 15 * MIN);
    expect(predictedReadyAt(registered(), T0)).toBe(T0 + 15 * MIN);
  });
});

describe("store: registration and profile", () => {
  it("is registered by an admin with the default prep statistics", () => {
    const { state, effects } = ok(run(empty, registerMsg, ctx(admin)));
    expect(state.profile.name).toBe("鲜果铺 静安店");
    expect(state.prep).toEqual(DEFAULT_PREP);
    expect(events(effects)).toEqual(["registered"]);
    expect(run(empty, registerMsg, ctx(system)).ok).toBe(true);
  });

  it("refuses registration by others, twice, or with unusable hours", () => {
    expect(refusedWith(run(empty, registerMsg, ctx(staff)))).toBe("forbidden");
    expect(refusedWith(run(empty, registerMsg, fromActor()))).toBe("forbidden");
    expect(refusedWith(run(registered(), registerMsg, ctx(admin)))).toBe("already_registered");
    const bad = { ...registerMsg, openHours: { "1": [{ open: "09:00", close: "09:00" }] } };
    expect(refusedWith(run(empty, bad, ctx(admin)))).toBe("invalid_open_hours");
  });

  it("refuses everything else before registration", () => {
    expect(refusedWith(run(empty, placedMsg("o-1"), fromActor()))).toBe("unknown_store");
    expect(refusedWith(run(empty, { type: "resume" }, ctx(staff)))).toBe("unknown_store");
  });

  it("updates its profile", () => {
    const { state, effects } = ok(
      run(
        registered(),
        { type: "update_profile", name: "鲜果铺", openHours: { "7": everyDay } },
        ctx(staff),
      ),
    );
    expect(state.profile.name).toBe("鲜果铺");
    expect(state.profile.openHours).toEqual({ "7": everyDay });
    expect(state.profile.location).toEqual(registerMsg.location);
    expect(effects).toEqual([
      { kind: "emit", name: "profile_updated", data: { fields: ["name", "openHours"] } },
    ]);
  });

  it("refuses profile changes by another store, a courier, or with unusable hours", () => {
    expect(
      refusedWith(run(registered(), { type: "update_profile", name: "x" }, ctx(otherStore))),
    ).toBe("not_own_store");
    expect(
      refusedWith(run(registered(), { type: "update_profile", name: "x" }, ctx(courier))),
    ).toBe("forbidden");
    expect(
      refusedWith(run(registered(), { type: "update_profile", name: "x" }, ctx(undefined))),
    ).toBe("forbidden");
    const bad = {
      type: "update_profile" as const,
      openHours: { "1": [{ open: "24:00", close: "01:00" }] },
    };
    expect(refusedWith(run(registered(), bad, ctx(staff)))).toBe("invalid_open_hours");
  });
});

describe("store: pause and resume", () => {
  it("pauses until a time, scheduling the durable resume timer, and resumes on it", () => {
    const pause = ok(
      run(registered(), { type: "pause", reason: "rush", until: T0 + 30 * MIN }, ctx(staff)),
    );
    expect(pause.state.pause).toEqual({
      reason: "rush",
      by: "store:s-1",
      at: T0,
      until: T0 + 30 * MIN,
    });
    expect(isStoreOpen(pause.state, T0 + MIN)).toBe(false);
    expect(pause.effects).toEqual([
      { kind: "emit", name: "paused", data: { reason: "rush", until: T0 + 30 * MIN } },
      {
        kind: "schedule",
        timer: RESUME_TIMER,
        at: T0 + 30 * MIN,
        msg: { type: "pause_expired", pausedAt: T0 },
      },
    ]);
    const resumed = ok(
      run(pause.state, { type: "pause_expired", pausedAt: T0 }, fromTimer(T0 + 30 * MIN)),
    );
    expect(resumed.state.pause).toBeNull();
    expect(resumed.effects).toEqual([
      { kind: "emit", name: "resumed", data: { automatic: true, pausedAt: T0 } },
    ]);
  });

  it("resumes by hand, cancelling the resume timer", () => {
    const paused = ok(run(registered(), { type: "pause", until: T0 + 30 * MIN }, ctx(staff))).state;
    const { state, effects } = ok(run(paused, { type: "resume" }, ctx(dispatcher)));
    expect(state.pause).toBeNull();
    expect(effects[0]).toEqual({ kind: "cancel", timer: RESUME_TIMER });
    expect(events(effects)).toEqual(["resumed"]);
  });

  it("pauses without an end and resumes without a timer to cancel", () => {
    const paused = ok(run(registered(), { type: "pause" }, ctx(staff)));
    expect(paused.effects.filter((e) => e.kind === "schedule")).toEqual([]);
    const resumed = ok(run(paused.state, { type: "resume" }, ctx(staff)));
    expect(resumed.effects.filter((e) => e.kind === "cancel")).toEqual([]);
  });

  it("refuses a second pause, a pause ending in the past, and a resume when not paused", () => {
    const paused = ok(run(registered(), { type: "pause" }, ctx(staff))).state;
    expect(refusedWith(run(paused, { type: "pause" }, ctx(staff)))).toBe("already_paused");
    expect(refusedWith(run(registered(), { type: "pause", until: T0 }, ctx(staff)))).toBe(
      "invalid_pause_until",
    );
    expect(refusedWith(run(registered(), { type: "resume" }, ctx(staff)))).toBe("not_paused");
    expect(refusedWith(run(registered(), { type: "pause" }, ctx(shopper)))).toBe("forbidden");
  });

  it("refuses a stale resume timer and a pause_expired from anyone but the timer", () => {
    const paused = ok(run(registered(), { type: "pause", until: T0 + 30 * MIN }, ctx(staff))).state;
    expect(refusedWith(run(paused, { type: "pause_expired", pausedAt: T0 - 1 }, fromTimer()))).toBe(
      "stale_timer",
    );
    expect(
      refusedWith(run(registered(), { type: "pause_expired", pausedAt: T0 }, fromTimer())),
    ).toBe("stale_timer");
    expect(refusedWith(run(paused, { type: "pause_expired", pausedAt: T0 }, ctx(admin)))).toBe(
      "forbidden",
    );
  });
});

describe("store: new orders", () => {
  it("receives an order placed while open", () => {
    const { state, effects } = ok(run(registered(), placedMsg("o-1"), fromActor()));
    expect(state.incoming.get("o-1")).toMatchObject({
      orderId: "o-1",
      pickupCode: "K7Q2",
      placedAt: T0,
    });
    expect(events(effects)).toEqual(["order_received"]);
  });

  it("turns away an order placed while paused or outside its hours, cancelling it", () => {
    const paused = ok(run(registered(), { type: "pause" }, ctx(staff))).state;
    for (const [state, at] of [
      [paused, T0],
      [registered(), T0 + 13 * HOUR],
    ] as const) {
      const { state: after, effects } = ok(run(state, placedMsg("o-1"), fromActor(at)));
      expect(after.incoming.size).toBe(0);
      expect(events(effects)).toEqual(["order_rejected"]);
      expect(sentToOrders(effects)).toEqual([
        { to: { type: "order", id: "o-1" }, msg: { type: "cancel", reason: "store_closed" } },
      ]);
    }
  });

  it("refuses a duplicate order and placements from clients", () => {
    expect(refusedWith(run(withIncoming(), placedMsg("o-1"), fromActor()))).toBe("duplicate_order");
    expect(refusedWith(run(withPending(), placedMsg("o-1"), fromActor()))).toBe("duplicate_order");
    expect(refusedWith(run(registered(), placedMsg("o-1"), ctx(staff)))).toBe("forbidden");
    expect(refusedWith(run(registered(), placedMsg("o-1"), fromTimer()))).toBe("forbidden");
    expect(run(registered(), placedMsg("o-1"), ctx(system)).ok).toBe(true);
  });

  it("keeps order ids that look like object keys apart", () => {
    const { state } = ok(run(registered(), placedMsg("__proto__"), fromActor()));
    expect(state.incoming.get("__proto__")?.orderId).toBe("__proto__");
    expect(roundTrip(state)).toStrictEqual(state);
  });

  it("accepts an order with a predicted ready time and tells the order", () => {
    const { state, effects } = ok(
      run(withIncoming(), { type: "accept_order", orderId: "o-1" }, ctx(staff, T0 + MIN)),
    );
    expect(state.incoming.size).toBe(0);
    expect(state.pending.get("o-1")).toMatchObject({
      acceptedAt: T0 + MIN,
      readyAt: T0 + 16 * MIN,
      readyAtSource: "predicted",
      courierId: null,
    });
    expect(events(effects)).toEqual(["order_accepted"]);
    expect(sentToOrders(effects)).toEqual([
      {
        to: { type: "order", id: "o-1" },
        msg: { type: "accept", readyAt: T0 + 16 * MIN, readyAtSource: "predicted" },
      },
    ]);
  });

  it("accepts an order with a stated ready time", () => {
    const { state } = ok(
      run(
        withIncoming(),
        { type: "accept_order", orderId: "o-1", readyAt: T0 + 25 * MIN },
        ctx(staff),
      ),
    );
    expect(state.pending.get("o-1")).toMatchObject({
      readyAt: T0 + 25 * MIN,
      readyAtSource: "stated",
    });
  });

  it("refuses to accept while closed", () => {
    const paused = ok(run(withIncoming(), { type: "pause" }, ctx(staff))).state;
    expect(refusedWith(run(paused, { type: "accept_order", orderId: "o-1" }, ctx(staff)))).toBe(
      "store_closed",
    );
    expect(
      refusedWith(
        run(withIncoming(), { type: "accept_order", orderId: "o-1" }, ctx(staff, T0 + 13 * HOUR)),
      ),
    ).toBe("store_closed");
  });

  it("refuses to accept unknown, already accepted, or past-ready orders, and for other stores", () => {
    expect(
      refusedWith(run(registered(), { type: "accept_order", orderId: "o-9" }, ctx(staff))),
    ).toBe("unknown_order");
    expect(
      refusedWith(run(withPending(), { type: "accept_order", orderId: "o-1" }, ctx(staff))),
    ).toBe("already_accepted");
    expect(
      refusedWith(
        run(withIncoming(), { type: "accept_order", orderId: "o-1", readyAt: T0 - 1 }, ctx(staff)),
      ),
    ).toBe("invalid_ready_at");
    expect(
      refusedWith(run(withIncoming(), { type: "accept_order", orderId: "o-1" }, ctx(otherStore))),
    ).toBe("not_own_store");
    expect(
      refusedWith(run(withIncoming(), { type: "accept_order", orderId: "o-1" }, fromActor())),
    ).toBe("forbidden");
  });

  it("rejects an incoming or accepted order, cancelling it with the reason", () => {
    for (const state of [withIncoming(), withPending()]) {
      const { state: after, effects } = ok(
        run(
          state,
          { type: "reject_order", orderId: "o-1", reason: "out_of_stock", note: "草莓售罄" },
          ctx(staff),
        ),
      );
      expect(after.incoming.size + after.pending.size).toBe(0);
      expect(events(effects)).toEqual(["order_rejected"]);
      expect(sentToOrders(effects)[0]?.msg).toEqual({
        type: "cancel",
        reason: "out_of_stock",
        note: "草莓售罄",
      });
    }
    expect(
      refusedWith(
        run(registered(), { type: "reject_order", orderId: "o-1", reason: "other" }, ctx(staff)),
      ),
    ).toBe("unknown_order");
  });
});

describe("store: preparation", () => {
  it("starts preparing and tells the order", () => {
    const { state, effects } = ok(
      run(withPending(), { type: "start_preparing", orderId: "o-1" }, ctx(staff, T0 + 2 * MIN)),
    );
    expect(state.pending.get("o-1")?.preparingAt).toBe(T0 + 2 * MIN);
    expect(events(effects)).toEqual(["preparing_started"]);
    expect(sentToOrders(effects)[0]?.msg).toEqual({ type: "start_preparing" });
    expect(refusedWith(run(state, { type: "start_preparing", orderId: "o-1" }, ctx(staff)))).toBe(
      "invalid_transition",
    );
  });

  it("refuses staff actions on orders not yet accepted or unknown", () => {
    expect(
      refusedWith(run(withIncoming(), { type: "start_preparing", orderId: "o-1" }, ctx(staff))),
    ).toBe("not_accepted");
    expect(refusedWith(run(registered(), { type: "mark_ready", orderId: "o-1" }, ctx(staff)))).toBe(
      "unknown_order",
    );
  });

  it("learns the preparation time when an order is marked ready", () => {
    const { state, effects } = ok(
      run(withPending(), { type: "mark_ready", orderId: "o-1" }, ctx(staff, T0 + 9 * MIN)),
    );
    // Accepted at T0 + 1 min, ready at T0 + 9 min: 8 minutes.
    expect(state.prep).toEqual(learnPrep(DEFAULT_PREP, 8));
    expect(state.pending.get("o-1")).toMatchObject({
      readyAt: T0 + 9 * MIN,
      readyAtSource: "actual",
      readyMarkedAt: T0 + 9 * MIN,
    });
    expect(effects[0]).toEqual({
      kind: "emit",
      name: "order_ready",
      data: {
        orderId: "o-1",
        prepMinutes: 8,
        expectedReadyAt: T0 + 16 * MIN,
        learnedMeanMinutes: 8,
      },
    });
    expect(sentToOrders(effects)[0]?.msg).toEqual({ type: "mark_ready" });
    expect(refusedWith(run(state, { type: "mark_ready", orderId: "o-1" }, ctx(staff)))).toBe(
      "already_ready",
    );
    // The next order is predicted from what was learned.
    const next = ok(
      run(
        ok(run(state, placedMsg("o-2"), fromActor())).state,
        { type: "accept_order", orderId: "o-2" },
        ctx(staff, T0 + 10 * MIN),
      ),
    );
    expect(next.state.pending.get("o-2")?.readyAt).toBe(T0 + 18 * MIN);
  });

  it("changes a ready-at time and tells the order", () => {
    const { state, effects } = ok(
      run(
        withPending(),
        { type: "set_ready_at", orderId: "o-1", readyAt: T0 + 30 * MIN },
        ctx(staff),
      ),
    );
    expect(state.pending.get("o-1")).toMatchObject({
      readyAt: T0 + 30 * MIN,
      readyAtSource: "stated",
    });
    expect(events(effects)).toEqual(["ready_at_changed"]);
    expect(sentToOrders(effects)[0]?.msg).toEqual({
      type: "set_ready_at",
      readyAt: T0 + 30 * MIN,
      readyAtSource: "stated",
    });
  });

  it("refuses a ready-at change in the past or once ready", () => {
    expect(
      refusedWith(
        run(withPending(), { type: "set_ready_at", orderId: "o-1", readyAt: T0 - 1 }, ctx(staff)),
      ),
    ).toBe("invalid_ready_at");
    const ready = ok(run(withPending(), { type: "mark_ready", orderId: "o-1" }, ctx(staff))).state;
    expect(
      refusedWith(
        run(ready, { type: "set_ready_at", orderId: "o-1", readyAt: T0 + HOUR }, ctx(staff)),
      ),
    ).toBe("already_ready");
  });
});

describe("store: problems", () => {
  it("records an out-of-stock problem on an incoming order", () => {
    const { state, effects } = ok(
      run(
        withIncoming(),
        { type: "report_problem", orderId: "o-1", kind: "out_of_stock", note: "缺货: 草莓" },
        ctx(staff),
      ),
    );
    expect(state.problems.get("o-1")).toEqual([
      { kind: "out_of_stock", note: "缺货: 草莓", delayMinutes: null, at: T0, by: "store:s-1" },
    ]);
    expect(events(effects)).toEqual(["problem_reported"]);
    expect(sentToOrders(effects)).toEqual([]);
  });

  it("pushes the ready time back on a delay and tells the order", () => {
    const { state, effects } = ok(
      run(
        withPending(),
        { type: "report_problem", orderId: "o-1", kind: "delay", delayMinutes: 10 },
        ctx(staff, T0 + 2 * MIN),
      ),
    );
    expect(state.pending.get("o-1")?.readyAt).toBe(T0 + 26 * MIN);
    expect(sentToOrders(effects)[0]?.msg).toEqual({
      type: "set_ready_at",
      readyAt: T0 + 26 * MIN,
      readyAtSource: "stated",
    });
  });

  it("counts a delay from now when the ready time has already passed", () => {
    const { state } = ok(
      run(
        withPending(),
        { type: "report_problem", orderId: "o-1", kind: "delay", delayMinutes: 5 },
        ctx(staff, T0 + 20 * MIN),
      ),
    );
    expect(state.pending.get("o-1")?.readyAt).toBe(T0 + 25 * MIN);
  });

  it("refuses a delay without minutes, on an unaccepted or ready order, and problems on unknown orders", () => {
    expect(
      refusedWith(
        run(withPending(), { type: "report_problem", orderId: "o-1", kind: "delay" }, ctx(staff)),
      ),
    ).toBe("delay_minutes_required");
    expect(
      refusedWith(
        run(
          withIncoming(),
          { type: "report_problem", orderId: "o-1", kind: "delay", delayMinutes: 5 },
          ctx(staff),
        ),
      ),
    ).toBe("not_accepted");
    const ready = ok(run(withPending(), { type: "mark_ready", orderId: "o-1" }, ctx(staff))).state;
    expect(
      refusedWith(
        run(
          ready,
          { type: "report_problem", orderId: "o-1", kind: "delay", delayMinutes: 5 },
          ctx(staff),
        ),
      ),
    ).toBe("already_ready");
    expect(
      refusedWith(
        run(registered(), { type: "report_problem", orderId: "o-1", kind: "other" }, ctx(staff)),
      ),
    ).toBe("unknown_order");
  });

  it("keeps only the latest problems per order", () => {
    let s = withPending();
    for (let i = 0; i < PROBLEMS_PER_ORDER + 5; i += 1) {
      s = ok(
        run(
          s,
          { type: "report_problem", orderId: "o-1", kind: "other", note: `#${i}` },
          ctx(staff),
        ),
      ).state;
    }
    const list = s.problems.get("o-1") ?? [];
    expect(list).toHaveLength(PROBLEMS_PER_ORDER);
    expect(list.at(-1)?.note).toBe(`#${PROBLEMS_PER_ORDER + 4}`);
  });
});

describe("store: notices from orders", () => {
  it("records an acceptance made at the order, keeping what it already knew", () => {
    const notice: StoreMessage = {
      type: "order_accepted",
      orderId: "o-1",
      shopOrderId: "WX-o-1",
      acceptedAt: T0,
      readyAt: T0 + 20 * MIN,
      readyAtSource: "stated",
      pickupCode: "K7Q2",
      promisedAt: T0 + 45 * MIN,
      temperatureClass: "chilled",
      itemsSummary: "2 × 草莓 500g",
    };
    const { state, effects } = ok(run(withIncoming(), notice, fromActor()));
    expect(state.incoming.size).toBe(0);
    expect(state.pending.get("o-1")).toMatchObject({
      readyAt: T0 + 20 * MIN,
      courierId: null,
      preparingAt: null,
    });
    expect(events(effects)).toEqual(["order_accepted"]);
    const again = ok(run(withCourier(), notice, fromActor())).state;
    expect(again.pending.get("o-1")?.courierId).toBe("c-1");
  });

  it("records and clears the courier assigned to a pending order", () => {
    const s = withCourier();
    expect(s.pending.get("o-1")?.courierId).toBe("c-1");
    const { state, effects } = ok(
      run(s, { type: "courier_assigned", orderId: "o-1", courierId: null }, fromActor()),
    );
    expect(state.pending.get("o-1")?.courierId).toBeNull();
    expect(events(effects)).toEqual(["courier_assigned"]);
  });

  it("forgets an order closed at the order actor", () => {
    const withProblem = ok(
      run(withPending(), { type: "report_problem", orderId: "o-1", kind: "other" }, ctx(staff)),
    ).state;
    const { state, effects } = ok(
      run(withProblem, { type: "order_closed", orderId: "o-1", reason: "cancelled" }, fromActor()),
    );
    expect(state.pending.size).toBe(0);
    expect(state.problems.size).toBe(0);
    expect(events(effects)).toEqual(["order_closed"]);
  });

  it("accepts notices about orders it no longer holds without changing anything", () => {
    const s = registered();
    for (const msg of [
      { type: "order_closed", orderId: "o-9", reason: "picked_up" },
      { type: "courier_assigned", orderId: "o-9", courierId: "c-1" },
    ] as const) {
      const result = run(s, msg, fromActor());
      expect(result).toEqual({ ok: true, state: s, effects: [] });
    }
    const same = run(
      withCourier(),
      { type: "courier_assigned", orderId: "o-1", courierId: "c-1" },
      fromActor(),
    );
    expect(same.ok && same.effects).toEqual([]);
  });

  it("refuses notices from clients", () => {
    expect(
      refusedWith(
        run(
          withPending(),
          { type: "order_closed", orderId: "o-1", reason: "cancelled" },
          ctx(staff),
        ),
      ),
    ).toBe("forbidden");
    expect(
      refusedWith(
        run(
          withPending(),
          { type: "courier_assigned", orderId: "o-1", courierId: "c-9" },
          ctx(courier),
        ),
      ),
    ).toBe("forbidden");
  });
});

describe("store: hand-off", () => {
  it("hands off with the courier's pickup code and tells the order it was picked up", () => {
    const { state, effects } = ok(
      run(
        withCourier(),
        { type: "hand_off", orderId: "o-1", pickupCode: "K7Q2" },
        ctx(staff, T0 + 20 * MIN),
      ),
    );
    expect(state.pending.size).toBe(0);
    expect(effects[0]).toEqual({
      kind: "emit",
      name: "handed_off",
      data: {
        orderId: "o-1",
        courierId: "c-1",
        waitedMs: 4 * MIN,
        vehicleId: null,
        compartmentId: null,
      },
    });
    expect(sentToOrders(effects)).toEqual([
      {
        to: { type: "order", id: "o-1" },
        msg: { type: "pick_up", pickupCode: "K7Q2", courierId: "c-1" },
      },
    ]);
  });

  it("hands off into a van compartment and passes it on for the order to record", () => {
    const { effects } = ok(
      run(
        withCourier(),
        {
          type: "hand_off",
          orderId: "o-1",
          pickupCode: "K7Q2",
          courierId: "c-1",
          vehicleId: "van-1",
          compartmentId: "C",
        },
        ctx(staff, T0 + 20 * MIN),
      ),
    );
    expect(effects[0]).toMatchObject({
      name: "handed_off",
      data: { orderId: "o-1", vehicleId: "van-1", compartmentId: "C" },
    });
    expect(sentToOrders(effects)).toEqual([
      {
        to: { type: "order", id: "o-1" },
        msg: {
          type: "pick_up",
          pickupCode: "K7Q2",
          courierId: "c-1",
          vehicleId: "van-1",
          compartmentId: "C",
        },
      },
    ]);
  });

  it("takes a vehicle and a compartment together or not at all (wire contract)", () => {
    const base = { type: "hand_off", orderId: "o-1", pickupCode: "K7Q2" };
    expect(storeLogic.messages.safeParse({ ...base, vehicleId: "van-1" }).success).toBe(false);
    expect(storeLogic.messages.safeParse({ ...base, compartmentId: "C" }).success).toBe(false);
    expect(
      storeLogic.messages.safeParse({ ...base, vehicleId: "van-1", compartmentId: "C" }).success,
    ).toBe(true);
  });

  it("hands off while paused: a pause stops new orders, not the work already taken", () => {
    const paused = ok(run(withCourier(), { type: "pause" }, ctx(staff))).state;
    expect(
      run(paused, { type: "hand_off", orderId: "o-1", pickupCode: "K7Q2" }, ctx(staff)).ok,
    ).toBe(true);
  });

  it("refuses a wrong code, another courier, no courier, and unaccepted or unknown orders", () => {
    expect(
      refusedWith(
        run(withCourier(), { type: "hand_off", orderId: "o-1", pickupCode: "AAAA" }, ctx(staff)),
      ),
    ).toBe("wrong_pickup_code");
    expect(
      refusedWith(
        run(
          withCourier(),
          { type: "hand_off", orderId: "o-1", pickupCode: "K7Q2", courierId: "c-2" },
          ctx(staff),
        ),
      ),
    ).toBe("not_assigned_courier");
    expect(
      refusedWith(
        run(withPending(), { type: "hand_off", orderId: "o-1", pickupCode: "K7Q2" }, ctx(staff)),
      ),
    ).toBe("no_courier_assigned");
    expect(
      refusedWith(
        run(withIncoming(), { type: "hand_off", orderId: "o-1", pickupCode: "K7Q2" }, ctx(staff)),
      ),
    ).toBe("not_accepted");
    expect(
      refusedWith(
        run(registered(), { type: "hand_off", orderId: "o-1", pickupCode: "K7Q2" }, ctx(staff)),
      ),
    ).toBe("unknown_order");
    expect(
      refusedWith(
        run(withCourier(), { type: "hand_off", orderId: "o-1", pickupCode: "K7Q2" }, ctx(courier)),
      ),
    ).toBe("forbidden");
  });
});

describe("store: view and persistence", () => {
  it("hides pickup codes from queries", () => {
    const s = ok(run(withCourier(), placedMsg("o-2"), fromActor())).state;
    const view = viewStore(s);
    expect(JSON.stringify(view)).not.toContain("K7Q2");
    expect(view).toMatchObject({
      pending: [{ orderId: "o-1", courierId: "c-1" }],
      incoming: [{ orderId: "o-2" }],
    });
    expect(viewStore(empty)).toEqual(empty);
  });

  it("persists to JSON-safe arrays with version 1", () => {
    expect(storeLogic.version).toBe(1);
    const persisted = storeLogic.persist!(withCourier()) as {
      pending: unknown[];
      incoming: unknown[];
    };
    expect(Array.isArray(persisted.pending)).toBe(true);
    expect(persisted.pending).toHaveLength(1);
    expect(storeLogic.persist!(empty)).toEqual(empty);
  });

  it("round-trips through persist → JSON → restore after many transitions", () => {
    let s: StoreState = empty;
    const steps: [StoreMessage, TurnContext][] = [
      [registerMsg, ctx(admin)],
      [placedMsg("o-1"), fromActor(T0)],
      [placedMsg("o-2"), fromActor(T0 + 10)],
      [placedMsg("o-3"), fromActor(T0 + 20)],
      [{ type: "accept_order", orderId: "o-1" }, ctx(staff, T0 + MIN)],
      [{ type: "accept_order", orderId: "o-2", readyAt: T0 + 30 * MIN }, ctx(staff, T0 + MIN)],
      [
        { type: "report_problem", orderId: "o-3", kind: "out_of_stock", note: "牛奶" },
        ctx(staff, T0 + 2 * MIN),
      ],
      [{ type: "start_preparing", orderId: "o-1" }, ctx(staff, T0 + 2 * MIN)],
      [
        { type: "report_problem", orderId: "o-2", kind: "delay", delayMinutes: 7 },
        ctx(staff, T0 + 3 * MIN),
      ],
      [{ type: "pause", reason: "rush", until: T0 + HOUR }, ctx(staff, T0 + 4 * MIN)],
      [{ type: "courier_assigned", orderId: "o-1", courierId: "c-1" }, fromActor(T0 + 5 * MIN)],
      [{ type: "mark_ready", orderId: "o-1" }, ctx(staff, T0 + 13 * MIN + 1234)],
      [
        { type: "hand_off", orderId: "o-1", pickupCode: "K7Q2", courierId: "c-1" },
        ctx(staff, T0 + 15 * MIN),
      ],
      [{ type: "order_closed", orderId: "o-3", reason: "cancelled" }, fromActor(T0 + 16 * MIN)],
      [{ type: "mark_ready", orderId: "o-2" }, ctx(staff, T0 + 37 * MIN + 77)],
    ];
    for (const [msg, c] of steps) {
      s = ok(run(s, msg, c)).state;
      expect(roundTrip(s)).toStrictEqual(s);
    }
    expect(s.status === "active" && s.prep.samples).toBe(2);
    const next: StoreMessage = { type: "resume" };
    expect(run(roundTrip(s), next, ctx(staff, T0 + 40 * MIN))).toEqual(
      run(s, next, ctx(staff, T0 + 40 * MIN)),
    );
    expect(roundTrip(empty)).toStrictEqual(empty);
  });

  it("refuses to restore an unknown version or a corrupted value", () => {
    const data = JSON.parse(JSON.stringify(storeLogic.persist!(withPending())));
    expect(() => storeLogic.restore!(data, 2)).toThrow(/version 2/);
    expect(() => storeLogic.restore!({ ...data, pending: [{ orderId: 1 }] }, 1)).toThrow();
  });
});

describe("store and order together (pure, no runtime)", () => {
  /** Delivers every send between the two actors, as the runtime would after each commit. */
  function settle(
    order: OrderState,
    store: StoreState,
    first: { to: "order" | "store"; msg: unknown; ctx: TurnContext },
  ): { order: OrderState; store: StoreState; refusals: string[]; outside: string[] } {
    const queue = [first];
    const refusals: string[] = [];
    const outside: string[] = [];
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const result =
        next.to === "order"
          ? orderLogic.transition(order, orderLogic.messages.parse(next.msg), next.ctx)
          : storeLogic.transition(store, storeLogic.messages.parse(next.msg), next.ctx);
      if (!result.ok) {
        refusals.push(result.refusal.code);
        continue;
      }
      if (next.to === "order") order = result.state as OrderState;
      else store = result.state as StoreState;
      for (const e of result.effects) {
        if (e.kind !== "send") continue;
        const to = e.command.to.type;
        if (to === "order" || to === "store") {
          queue.push({
            to,
            msg: e.command.msg,
            ctx: { ...next.ctx, origin: "actor" as const, by: undefined } as TurnContext,
          });
        } else {
          outside.push(`${to} ${e.command.msg.type}`);
        }
      }
    }
    return { order, store, refusals, outside };
  }

  it("carries an order from placement to hand-off through both actors", () => {
    const create: OrderMessage = {
      type: "create",
      storeId: "s-1",
      marketId: "m-sh",
      shopOrderId: "WX-1",
      temperatureClass: "frozen",
      items: { summary: "速冻水饺 1kg", count: 1 },
      amounts: { goodsFen: 2990, deliveryFeeFen: 0, discountFen: 0, totalFen: 2990 },
      pickup: registerMsg.location,
      dropoff: { kind: "door", location: { lat: 31.2, lng: 121.4 } },
      promisedAt: T0 + HOUR,
      pickupCode: "Z9Z9",
    };
    let w = settle(orderLogic.initial({ type: "order", id: "o-1" }), registered(), {
      to: "order",
      msg: create,
      ctx: ctx(system),
    });
    expect(w.store.status === "active" && w.store.incoming.has("o-1")).toBe(true);
    w = settle(w.order, w.store, {
      to: "store",
      msg: { type: "accept_order", orderId: "o-1" },
      ctx: ctx(staff, T0 + MIN),
    });
    expect(w.order.status).toBe("accepted");
    expect(w.outside).toEqual(["market order_ready"]);
    w = settle(w.order, w.store, {
      to: "order",
      msg: { type: "assign", courierId: "c-1" },
      ctx: ctx(dispatcher, T0 + 2 * MIN),
    });
    expect(w.store.status === "active" && w.store.pending.get("o-1")?.courierId).toBe("c-1");
    w = settle(w.order, w.store, {
      to: "store",
      msg: { type: "mark_ready", orderId: "o-1" },
      ctx: ctx(staff, T0 + 12 * MIN),
    });
    expect(w.order.status === "assigned" && w.order.prep).toBe("ready");
    w = settle(w.order, w.store, {
      to: "store",
      msg: { type: "hand_off", orderId: "o-1", pickupCode: "Z9Z9" },
      ctx: ctx(staff, T0 + 14 * MIN),
    });
    expect(w.refusals).toEqual([]);
    expect(w.order.status).toBe("picked_up");
    expect(w.store.status === "active" && w.store.pending.size).toBe(0);
    expect(w.outside).toEqual(["courier complete_stop", "market order_picked_up"]);
  });

  it("carries the van compartment from the hand-off to the order", () => {
    const create: OrderMessage = {
      type: "create",
      storeId: "s-1",
      marketId: "m-sh",
      shopOrderId: "WX-3",
      temperatureClass: "chilled",
      items: { summary: "鲜牛奶 1L", count: 1 },
      amounts: { goodsFen: 1290, deliveryFeeFen: 0, discountFen: 0, totalFen: 1290 },
      pickup: registerMsg.location,
      dropoff: { kind: "door", location: { lat: 31.2, lng: 121.4 } },
      promisedAt: T0 + HOUR,
      pickupCode: "M1LK",
    };
    let w = settle(orderLogic.initial({ type: "order", id: "o-3" }), registered(), {
      to: "order",
      msg: create,
      ctx: ctx(system),
    });
    w = settle(w.order, w.store, {
      to: "store",
      msg: { type: "accept_order", orderId: "o-3" },
      ctx: ctx(staff, T0 + MIN),
    });
    w = settle(w.order, w.store, {
      to: "order",
      msg: { type: "assign", courierId: "c-1" },
      ctx: ctx(dispatcher, T0 + 2 * MIN),
    });
    w = settle(w.order, w.store, {
      to: "store",
      msg: {
        type: "hand_off",
        orderId: "o-3",
        pickupCode: "M1LK",
        vehicleId: "van-1",
        compartmentId: "C",
      },
      ctx: ctx(staff, T0 + 14 * MIN),
    });
    expect(w.refusals).toEqual([]);
    expect(w.order.status === "picked_up" && w.order.coldChain).toEqual({
      vehicleId: "van-1",
      compartmentId: "C",
      loadedAt: T0 + 14 * MIN,
      excursions: [],
    });
  });

  it("cancels an order placed while the store is paused", () => {
    const paused = ok(run(registered(), { type: "pause" }, ctx(staff))).state;
    const create = {
      type: "create",
      storeId: "s-1",
      marketId: "m-sh",
      shopOrderId: "WX-2",
      temperatureClass: "ambient",
      items: { summary: "大米 5kg", count: 1 },
      amounts: { goodsFen: 3500, deliveryFeeFen: 600, discountFen: 0, totalFen: 4100 },
      pickup: registerMsg.location,
      dropoff: {
        kind: "pickup_point",
        pickupPointId: "pp-1",
        location: { lat: 31.23, lng: 121.47 },
      },
      promisedAt: T0 + HOUR,
      pickupCode: "AB12",
    };
    const w = settle(orderLogic.initial({ type: "order", id: "o-2" }), paused, {
      to: "order",
      msg: create,
      ctx: ctx(system),
    });
    expect(w.order.status).toBe("cancelled");
    expect(w.order.status === "cancelled" && w.order.cancellation?.reason).toBe("store_closed");
    expect(w.refusals).toEqual([]);
  });
});
