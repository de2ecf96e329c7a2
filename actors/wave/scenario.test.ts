/**
 * Wave orders end to end on the in-memory World (the hosts' `applyBatch`, reminders on a manual
 * clock): orders created with a wave join it, the cut-off asks for a plan, the planner's answer
 * (computed here as the host's planner would) is stored, departure puts the orders on their
 * vans, the point's staff confirm the arrival and the shopper collects with the code.
 */
import { describe, expect, it } from "vitest";
import { solve } from "../../dispatch/waves/index.ts";
import { courierLogic } from "../courier/logic.ts";
import { marketLogic } from "../market/logic.ts";
import { orderLogic } from "../order/logic.ts";
import type { OrderView } from "../order/types.ts";
import { storeLogic } from "../store/logic.ts";
import { vehicleLogic } from "../vehicle/logic.ts";
import { World } from "../testing/world.ts";
import type { Principal } from "../types.ts";
import { waveLogic } from "./logic.ts";
import { problemInstance, visitsOf } from "./planner.ts";
import type { WaveProblem } from "./routes.ts";
import type { WaveState } from "./types.ts";

const MIN = 60_000;
const system: Principal = { role: "system", id: "shop" };
const dispatcher: Principal = { role: "dispatcher", id: "d-1" };
const planner: Principal = { role: "system", id: "wave-planner" };
const wave = { type: "wave", id: "km-20250602-pm" };
const STORE_AT = { lat: 25.04, lng: 102.71 };
const POINT_AT = { lat: 25.03, lng: 102.69 };

function world() {
  const w = new World({
    logics: [orderLogic, storeLogic, courierLogic, vehicleLogic, marketLogic, waveLogic],
  });
  const open = w.send(
    wave,
    {
      type: "open",
      marketId: "km",
      cutoffAt: w.now + 60 * MIN,
      departAt: w.now + 90 * MIN,
      horizonAt: w.now + 300 * MIN,
      depot: { lat: 25.02, lng: 102.7 },
      fleet: {
        vans: [
          { vehicleId: "v-1", courierId: "c-1" },
          { vehicleId: "v-2", courierId: "c-2" },
        ],
        capacity: { weightKg: 500, volumeL: 2000 },
        compartments: { frozen: 200, chilled: 400 },
      },
      pickupPoints: [
        {
          id: "pp-1",
          name: "翠湖驿站",
          location: POINT_AT,
          opensAt: w.now + 90 * MIN,
          closesAt: w.now + 600 * MIN,
          capacity: 50,
          chilledShelf: true,
          staffIds: ["pp-1-staff"],
        },
      ],
    },
    { by: dispatcher },
  );
  expect(open).toMatchObject({ ok: true });
  const allDay = [{ open: "00:00", close: "24:00" }];
  const registered = w.send(
    { type: "store", id: "s-1" },
    {
      type: "register",
      name: "鲜果铺",
      marketId: "km",
      location: STORE_AT,
      openHours: Object.fromEntries(["1", "2", "3", "4", "5", "6", "7"].map((d) => [d, allDay])),
    },
    { by: { role: "admin", id: "a-1" } },
  );
  expect(registered).toMatchObject({ ok: true });
  for (let i = 1; i <= 3; i++) {
    const created = w.send(
      { type: "order", id: `o-${i}` },
      {
        type: "create",
        storeId: "s-1",
        marketId: "km",
        shopOrderId: `wx-${i}`,
        shopperId: `u-${i}`,
        temperatureClass: i === 1 ? "chilled" : "ambient",
        items: { summary: "1 × 鲜牛奶", count: 1 },
        amounts: { goodsFen: 1200, deliveryFeeFen: 0, discountFen: 0, totalFen: 1200 },
        pickup: STORE_AT,
        dropoff: { kind: "pickup_point", pickupPointId: "pp-1", location: POINT_AT },
        promisedAt: w.now + 240 * MIN,
        pickupCode: `PK00${i}`,
        wave: { waveId: wave.id, load: { weightKg: 2, volumeL: 5 } },
      },
      { by: system },
    );
    expect(created).toMatchObject({ ok: true });
  }
  return w;
}

function planAtCutoff(w: World) {
  w.advance(60 * MIN);
  const requested = w
    .eventsOf({ type: "wave", id: wave.id })
    .filter((e) => e.name === "plan_requested");
  expect(requested).toHaveLength(1);
  const problem = (requested[0]!.data as { problem: WaveProblem }).problem;
  const result = solve(problemInstance(problem), { iterations: 200, seed: 3 });
  const { routes, unassigned } = visitsOf(problem, result);
  const answer = w.send(
    wave,
    { type: "plan_ready", requestId: problem.requestId, routes, unassigned, seed: 3, elapsedMs: 1 },
    { by: planner },
  );
  expect(answer).toMatchObject({ ok: true });
}

describe("scenario: a wave order from creation to collection", () => {
  it("joins the wave instead of the market, rides the van, waits at the point and is collected with its code", () => {
    const w = world();
    const waveState = () => w.state<WaveState>(wave);
    expect(Object.keys(waveState().orders).sort()).toEqual(["o-1", "o-2", "o-3"]);
    expect(w.delivered({ type: "market", id: "km" })).toHaveLength(0);

    planAtCutoff(w);
    expect(waveState().plan?.unplanned).toEqual([]);
    w.advance(30 * MIN); // departure
    const van = waveState().plan!.routes.find((r) => r.visits.length > 0)!;
    for (let i = 1; i <= 3; i++) {
      expect(w.view<OrderView>({ type: "order", id: `o-${i}` })).toMatchObject({
        status: "assigned",
        courierId: van.courierId,
      });
    }
    expect(w.refusals).toEqual([]);

    const staff: Principal = { role: "store", id: "pp-1-staff" };
    const arrived = w.send(
      wave,
      { type: "arrive_at_point", pickupPointId: "pp-1", vehicleId: van.vehicleId },
      { by: staff },
    );
    expect(arrived).toMatchObject({ ok: true });
    const o1 = w.view<OrderView & { collectCode?: string }>({ type: "order", id: "o-1" });
    expect(o1).toMatchObject({ status: "at_pickup_point", collectCode: "PK001" });
    expect(w.eventNames({ type: "order", id: "o-1" })).toContain("at_pickup_point");

    const wrong = w.send(
      wave,
      { type: "collect", orderId: "o-1", pickupCode: "PK002" },
      { by: staff },
    );
    expect(wrong).toMatchObject({ ok: false, refusal: { code: "wrong_pickup_code" } });
    const right = w.send(
      wave,
      { type: "collect", orderId: "o-1", pickupCode: "PK001" },
      { by: staff },
    );
    expect(right).toMatchObject({ ok: true });
    const done = w.view<OrderView & { collectCode?: string }>({ type: "order", id: "o-1" });
    expect(done).toMatchObject({ status: "delivered" });
    expect(done.collectCode).toBeUndefined();
    expect(w.refusals).toEqual([]);
  });

  it("leaves the wave when the order is cancelled before departure, and the wave plans again", () => {
    const w = world();
    planAtCutoff(w);
    const cancelled = w.send(
      { type: "order", id: "o-2" },
      { type: "cancel", reason: "shopper_request" },
      { by: system },
    );
    expect(cancelled).toMatchObject({ ok: true });
    const s = w.state<WaveState>(wave);
    expect(s.orders["o-2"]).toBeUndefined();
    expect(s.pending?.reason).toBe("cancellation");
    expect(w.refusals).toEqual([]);
  });
});
