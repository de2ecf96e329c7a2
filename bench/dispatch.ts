/**
 * `npm run bench -- dispatch`: the dispatch engine's time per tick, and order-ready → offer on
 * the driver's websocket end to end.
 *
 * 1. Engine: a Kunming market of 5,000 couriers (half of them carrying an order) and 2,000 open
 *    orders from 300 stores, planned tick after tick as the market does (one memo across
 *    ticks; between ticks couriers move up to ~100 m and a tenth of the orders are replaced).
 *    Reports p50/p99 of `planDispatch` wall time, and the raw h3-js cost of indexing the
 *    couriers from scratch (latLngToCell × 5,000) measured in the same run.
 * 2. End to end: the production layout of the ingest bench (an actor host process running the
 *    actors and the tracker, the gateway in this process) under its ingest load (2,000 couriers
 *    streaming 10,000 fixes/s from a child process), plus 40 couriers on shift whose driver
 *    apps watch their own channel over /ws/live. Stores accept orders stating they are ready
 *    now; the time from sending that to the `offer` frame arriving on the chosen courier's
 *    websocket is recorded (store → order → market (engine) → courier → tracker → gateway →
 *    ws).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { latLngToCell } from "h3-js";
import * as hdr from "hdr-histogram-js";
import WebSocket from "ws";
import { DispatchMemo, planDispatch } from "../dispatch/index.ts";
import { seededRandom } from "../geo/index.ts";
import type { DispatchCourier, DispatchOrder } from "../dispatch/index.ts";
import type { LoadPlan } from "./ingest-load.ts";
import { runChild, startLayout } from "./ingest.ts";
import type { ResultRow } from "./report.ts";

const ENGINE_COURIERS = 5_000;
const ENGINE_ORDERS = 2_000;
const ENGINE_TICKS = Number(process.env.BENCH_DISPATCH_TICKS ?? 100);
const WARMUP_TICKS = 20;
/** `engine`, `e2e` or both (default). */
const PARTS = (process.env.BENCH_DISPATCH_PARTS ?? "engine,e2e").split(",");
const E2E_COURIERS = 40;
const E2E_ORDERS = Number(process.env.BENCH_DISPATCH_ORDERS ?? 150);
const LOAD_RATE = 10_000;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function benchEngine(): ResultRow[] {
  const random = seededRandom(20261122);
  // Kunming's core: 五华, 盘龙, 官渡, 西山.
  const point = () => ({ lat: 24.97 + random() * 0.13, lng: 102.62 + random() * 0.16 });
  const now0 = Date.UTC(2026, 10, 22, 4, 0);
  const stores = Array.from({ length: 300 }, point);
  let orderSeq = 0;
  const newOrder = (now: number): DispatchOrder => {
    const s = Math.floor(random() * stores.length);
    return {
      orderId: `o${orderSeq++}`,
      storeId: `s${s}`,
      pickup: stores[s]!,
      dropoff: point(),
      readyAt: now + Math.floor(random() * 15 * 60_000),
      promisedBy: now + 40 * 60_000,
      temperatureClass: random() < 0.2 ? "chilled" : "ambient",
      queuedAt: now,
      lockedTo: null,
      passedBy: [],
    };
  };
  let orders = Array.from({ length: ENGINE_ORDERS }, () => newOrder(now0));
  const couriers: DispatchCourier[] = Array.from({ length: ENGINE_COURIERS }, (_, i) => ({
    courierId: `c${i}`,
    mode: i % 10 === 0 ? "van" : "ebike",
    position: point(),
    capacityLeft: 1 + (i % 3),
    freeSlots: i % 10 === 0 ? { ambient: 4, chilled: 2, frozen: 2 } : null,
    carrying:
      i % 2 === 0
        ? [
            {
              orderId: `x${i}`,
              pickup: null,
              dropoff: point(),
              readyAt: now0 - 600_000,
              promisedBy: now0 + 1_200_000,
              temperatureClass: "ambient",
              pickedUp: true,
              locked: false,
            },
          ]
        : [],
    offAt: null,
  }));

  const memo = new DispatchMemo();
  const times: number[] = [];
  let assigned = 0;
  for (let t = 0; t < ENGINE_TICKS + WARMUP_TICKS; t++) {
    const now = now0 + t * 2000;
    // Couriers move (up to ~100 m), a tenth of the orders are replaced by new ones.
    for (let i = 0; i < couriers.length; i++) {
      const c = couriers[i]!;
      const p = c.position!;
      couriers[i] = {
        ...c,
        position: { lat: p.lat + (random() - 0.5) * 0.0018, lng: p.lng + (random() - 0.5) * 0.002 },
      };
    }
    orders = orders.map((o) => (random() < 0.1 ? newOrder(now) : o));
    const started = performance.now();
    const plan = planDispatch({ now, orders, couriers }, {}, memo);
    const ms = performance.now() - started;
    if (t >= WARMUP_TICKS) {
      times.push(ms); // a market runs for hours: the first ticks only warm the JIT up
      assigned += plan.assignments.length;
    }
  }
  times.sort((a, b) => a - b);
  // The raw ceiling of the index alone: h3-js latLngToCell for every courier.
  const cellStarted = performance.now();
  for (const c of couriers) latLngToCell(c.position!.lat, c.position!.lng, 8);
  const cellMs = performance.now() - cellStarted;
  const p50 = percentile(times, 50);
  const p99 = percentile(times, 99);
  console.log(
    `engine: ${ENGINE_COURIERS} couriers × ${ENGINE_ORDERS} open orders, ${times.length} ticks: ` +
      `p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${times.at(-1)!.toFixed(1)} ms; ` +
      `${Math.round(assigned / times.length)} offers per tick; h3 latLngToCell × ${ENGINE_COURIERS}: ${cellMs.toFixed(1)} ms`,
  );
  const row = (r: Omit<ResultRow, "bench">): ResultRow => ({ bench: "dispatch", ...r });
  return [
    row({
      figure: `engine time per tick p50 (${ENGINE_COURIERS} couriers × ${ENGINE_ORDERS} orders)`,
      value: p50,
      unit: "ms",
      target: null,
      better: "lower",
    }),
    row({
      figure: `engine time per tick p99 (${ENGINE_COURIERS} couriers × ${ENGINE_ORDERS} orders)`,
      value: p99,
      unit: "ms",
      target: 100,
      better: "lower",
    }),
    row({
      figure: `h3 latLngToCell for ${ENGINE_COURIERS} couriers (raw, same run)`,
      value: cellMs,
      unit: "ms",
      target: null,
      better: "lower",
    }),
  ];
}

async function benchEndToEnd(): Promise<ResultRow[]> {
  const stack = await startLayout();
  const dir = mkdtempSync(join(tmpdir(), "xianda-dispatch-"));
  const sockets: WebSocket[] = [];
  try {
    const { actors } = stack;
    const call = async (
      type: string,
      id: string,
      msg: { type: string } & Record<string, unknown>,
      by: { role: string; id: string },
    ) => {
      const outcome = await actors.call({ type, id }, msg, {
        by: by as never,
        timeoutMs: 10_000,
      });
      if (!outcome.ok) throw new Error(`${type}/${id} ${msg.type}: ${outcome.refusal.code}`);
    };
    const dispatcher = { role: "dispatcher", id: "bench" };
    await call("market", "km", { type: "configure", name: "五华区", city: "昆明" }, dispatcher);
    const STORE = { lat: 25.0389, lng: 102.7183 };
    const openHours = Object.fromEntries(
      ["1", "2", "3", "4", "5", "6", "7"].map((d) => [d, [{ open: "00:00", close: "24:00" }]]),
    );
    await call(
      "store",
      "bs1",
      { type: "register", name: "南屏街店", marketId: "km", location: STORE, openHours },
      { role: "admin", id: "bench" },
    );
    // Couriers on shift near the store, each with its driver app watching its channel.
    const offers = new Map<string, number>();
    await Promise.all(
      Array.from({ length: E2E_COURIERS }, async (_, i) => {
        const id = `dc${i}`;
        const by = { role: "courier", id };
        await call(
          "courier",
          id,
          {
            type: "go_on_shift",
            marketId: "km",
            vehicle: { mode: "ebike" },
            capacity: { maxOrders: 5 },
          },
          by,
        );
        await call(
          "courier",
          id,
          {
            type: "location",
            lat: STORE.lat + ((i % 7) - 3) * 0.003,
            lng: STORE.lng + ((i % 5) - 2) * 0.003,
            at: Date.now(),
          },
          by,
        );
        const token = await stack.courierToken(id);
        const ws = new WebSocket(`${stack.url.replace(/^http/, "ws")}/ws/live?token=${token}`);
        sockets.push(ws);
        await new Promise<void>((resolve, reject) => {
          ws.once("open", () => resolve());
          ws.once("error", reject);
        });
        ws.on("message", (data) => {
          const frame = JSON.parse(String(data)) as {
            type: string;
            frame?: { kind: string; orderId?: string };
          };
          if (frame.type === "push" && frame.frame?.kind === "offer" && frame.frame.orderId) {
            if (!offers.has(frame.frame.orderId))
              offers.set(frame.frame.orderId, performance.now());
          }
        });
        ws.send(JSON.stringify({ type: "subscribe", channel: `courier:${id}` }));
      }),
    );

    // The ingest load in a child process, long enough to cover the orders.
    const loadCouriers = await Promise.all(
      Array.from({ length: 2000 }, async (_, i) => ({
        id: `bc${i}`,
        token: await stack.courierToken(`bc${i}`),
      })),
    );
    const seconds = Math.ceil(E2E_ORDERS / 5) + 15;
    const plan: LoadPlan = {
      ws: stack.url.replace(/^http/, "ws"),
      couriers: loadCouriers,
      shoppers: [],
      phases: [{ kind: "step", perSecond: LOAD_RATE, seconds }],
    };
    const planFile = join(dir, "plan.json");
    writeFileSync(planFile, JSON.stringify(plan));
    const load = runChild(planFile);
    await new Promise((r) => setTimeout(r, 5000)); // the load reaches its rate

    // Orders, five a second: created, then accepted by the store as ready now.
    const readyAt = new Map<string, number>();
    for (let i = 0; i < E2E_ORDERS; i++) {
      const orderId = `bo-${process.pid}-${i}`;
      await call(
        "order",
        orderId,
        {
          type: "create",
          storeId: "bs1",
          marketId: "km",
          shopOrderId: `wx-${i}`,
          shopperId: `u${i}`,
          temperatureClass: "ambient",
          items: { summary: "鲜花饼 × 2", count: 2 },
          amounts: { goodsFen: 3000, deliveryFeeFen: 500, discountFen: 0, totalFen: 3500 },
          pickup: STORE,
          dropoff: {
            kind: "door",
            location: { lat: 25.03 + (i % 9) * 0.003, lng: 102.7 + (i % 7) * 0.004 },
          },
          promisedAt: Date.now() + 45 * 60_000,
          pickupCode: `P${1000 + (i % 9000)}`,
          deliveryPin: "2468",
        },
        { role: "system", id: "shop" },
      );
      readyAt.set(orderId, performance.now());
      await call(
        "store",
        "bs1",
        { type: "accept_order", orderId, readyAt: Date.now() + 1000 },
        { role: "store", id: "bs1" },
      );
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 3000));
    await load;

    const latency = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000 });
    let missing = 0;
    const series: number[] = [];
    for (const [orderId, at] of readyAt) {
      const offered = offers.get(orderId);
      if (offered === undefined) missing++;
      else {
        latency.recordValue(Math.max(1, Math.round((offered - at) * 1000))); // µs
        series.push(Math.round(offered - at));
      }
    }
    if (process.env.BENCH_DISPATCH_SERIES)
      console.log(`latencies in order (ms): ${series.join(" ")}`);
    const p50 = latency.getValueAtPercentile(50) / 1000;
    const p99 = latency.getValueAtPercentile(99) / 1000;
    console.log(
      `order ready → offer on the driver's ws under ${LOAD_RATE} fixes/s: p50 ${p50.toFixed(1)} ms, ` +
        `p99 ${p99.toFixed(1)} ms (${latency.totalCount} orders, ${missing} without an offer)`,
    );
    const row = (r: Omit<ResultRow, "bench">): ResultRow => ({ bench: "dispatch", ...r });
    return [
      row({
        figure: `order ready → offer on driver ws p50 (under ${LOAD_RATE} fixes/s)`,
        value: p50,
        unit: "ms",
        target: null,
        better: "lower",
      }),
      row({
        figure: `order ready → offer on driver ws p99 (under ${LOAD_RATE} fixes/s)`,
        value: p99,
        unit: "ms",
        target: 250,
        better: "lower",
      }),
      row({
        figure: "orders never offered within the run",
        value: missing,
        unit: "orders",
        target: 0,
        better: "lower",
      }),
    ];
  } finally {
    for (const ws of sockets) ws.terminate();
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchDispatch(): Promise<ResultRow[]> {
  const engine = PARTS.includes("engine") ? benchEngine() : [];
  const e2e = PARTS.includes("e2e") ? await benchEndToEnd() : [];
  return [...engine, ...e2e];
}
