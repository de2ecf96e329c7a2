import { describe, expect, it } from "vitest";
import type { EventEnvelope } from "../../protocol/index.ts";
import { audit, describeViolations } from "./audit.ts";
import type { AuditInput, OrderFinal } from "./audit.ts";

let n = 0;
function ev(
  type: string,
  id: string,
  name: string,
  seq: number,
  data: unknown = {},
  commandId = `c-${type}-${id}-${seq}`,
): EventEnvelope {
  return { id: `e${++n}`, actor: { type, id }, name, seq, commandId, at: 1000 + n, data };
}

/** A clean run: o1 delivered cold from a van by c1, o2 waiting, o3 with c2. */
function clean(): AuditInput & { events: EventEnvelope[] } {
  const events = [
    ev("order", "o1", "created", 1),
    ev("order", "o2", "created", 1),
    ev("order", "o3", "created", 1),
    ev("order", "o1", "assigned", 4, { courierId: "c1" }),
    ev("courier", "c1", "job_assigned", 7, { orderId: "o1" }),
    ev("courier", "c1", "stop_completed", 8, { orderId: "o1", kind: "pickup" }),
    ev("order", "o1", "picked_up", 5, { courierId: "c1", vehicleId: "v1" }),
    ev("vehicle", "v1", "readings_recorded", 3, {
      readings: [
        { seq: 10, part: 0 },
        { seq: 10, part: 1 },
      ],
    }),
    ev("order", "o1", "delivered", 6, {
      temperatureClass: "chilled",
      coldChain: { vehicleId: "v1", compartmentId: "chill" },
    }),
    ev("courier", "c2", "job_assigned", 3, { orderId: "o3" }),
  ];
  return {
    events,
    placed: ["o1", "o2", "o3"],
    orders: new Map<string, OrderFinal>([
      ["o1", { status: "delivered", courierId: "c1" }],
      ["o2", { status: "ready", courierId: null }],
      ["o3", { status: "assigned", courierId: "c2" }],
    ]),
    couriers: new Map([
      ["c1", []],
      ["c2", ["o3"]],
    ]),
    waiting: new Set(["o2"]),
    storedReadings: new Set(["10.0", "10.1"]),
    certificates: new Set(["o1"]),
  };
}

const kinds = (input: AuditInput) => audit(input).violations.map((v) => v.kind);

describe("audit", () => {
  it("passes a clean run and counts it", () => {
    const report = audit(clean());
    expect(report.violations).toEqual([]);
    expect(report.figures).toMatchObject({
      placed: 3,
      delivered: 1,
      inFlight: 2,
      readingsAccepted: 2,
      readingsStored: 2,
      coldDelivered: 1,
      certified: 1,
    });
  });

  it("finds an acknowledged order with no created event or no state", () => {
    const run = clean();
    const noEvent = { ...run, events: run.events.filter((e) => e.actor.id !== "o2") };
    expect(kinds(noEvent)).toEqual(["order_lost"]);
    const orders = new Map(run.orders);
    orders.delete("o3");
    expect(kinds({ ...run, orders })).toContain("order_lost");
  });

  it("finds a waiting order its market does not know", () => {
    expect(kinds({ ...clean(), waiting: new Set() })).toEqual(["order_unaccounted"]);
    // Not judged before the run is quiet.
    expect(kinds({ ...clean(), waiting: new Set(), quiesced: false })).toEqual([]);
  });

  it("finds an order on two couriers' routes, or on the wrong one", () => {
    const run = clean();
    expect(kinds({ ...run, couriers: new Map([...run.couriers, ["c9", ["o3"]]]) })).toEqual([
      "held_by_two",
    ]);
    expect(kinds({ ...run, couriers: new Map([["c9", ["o3"]]]) })).toEqual(["holder_mismatch"]);
    expect(kinds({ ...run, couriers: new Map([["c9", ["o2"]]]) })).toEqual(["holder_mismatch"]);
  });

  it("finds an order picked up by two couriers", () => {
    const run = clean();
    run.events.push(ev("courier", "c2", "stop_completed", 9, { orderId: "o1", kind: "pickup" }));
    expect(kinds(run)).toEqual(["picked_up_by_two"]);
  });

  it("finds a command applied twice and a sequence going back", () => {
    const run = clean();
    run.events.push(ev("order", "o3", "ready", 2, {}, "c-order-o3-1"));
    expect(kinds(run)).toEqual(["applied_twice"]);
    const regress = clean();
    regress.events.push(ev("courier", "c2", "offer_received", 2));
    expect(kinds(regress)).toEqual(["sequence_regressed"]);
  });

  it("counts a republished event once, without a violation", () => {
    const run = clean();
    run.events.push({ ...run.events[3]! });
    const report = audit(run);
    expect(report.violations).toEqual([]);
    expect(report.figures.republished).toBe(1);
    expect(report.figures.events).toBe(run.events.length - 1);
  });

  it("finds an accepted reading missing from Postgres and a missing certificate", () => {
    const run = { ...clean(), storedReadings: new Set(["10.0"]), certificates: new Set<string>() };
    const report = audit(run);
    expect(report.violations.map((v) => [v.kind, v.subject])).toEqual([
      ["reading_not_stored", "10.1"],
      ["certificate_missing", "o1"],
    ]);
    expect(describeViolations(report.violations)).toContain("reading_not_stored ×1: 10.1");
  });
});
