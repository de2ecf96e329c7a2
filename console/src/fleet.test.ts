import { describe, expect, it } from "vitest";
import type { PushFrame } from "../../protocol/index.ts";
import { Fleet, ageOf } from "./fleet.ts";

const T0 = 1_700_000_000_000;

function couriers(
  ...list: Array<{ courierId: string; lat: number; lng: number; at: number; status?: string }>
): PushFrame {
  return { kind: "couriers", marketId: "km", couriers: list, at: T0 };
}

describe("Fleet", () => {
  it("keeps the newest position and status of each courier", () => {
    const fleet = new Fleet();
    fleet.apply(couriers({ courierId: "c1", lat: 25.04, lng: 102.71, at: T0, status: "idle" }));
    const changed = fleet.apply(
      couriers({ courierId: "c1", lat: 25.05, lng: 102.72, at: T0 + 2000, status: "busy" }),
    );
    expect(changed).toHaveLength(1);
    expect(fleet.get("c1")).toEqual({
      courierId: "c1",
      lat: 25.05,
      lng: 102.72,
      at: T0 + 2000,
      status: "busy",
    });
  });

  it("never moves a courier back to an older position", () => {
    const fleet = new Fleet();
    fleet.apply(couriers({ courierId: "c1", lat: 25.05, lng: 102.72, at: T0 + 2000 }));
    expect(fleet.apply(couriers({ courierId: "c1", lat: 25.04, lng: 102.71, at: T0 }))).toEqual([]);
    expect(fleet.get("c1")?.lat).toBe(25.05);
  });

  it("keeps the last status when a bare position arrives", () => {
    const fleet = new Fleet();
    fleet.apply(couriers({ courierId: "c1", lat: 25.04, lng: 102.71, at: T0, status: "busy" }));
    fleet.apply({
      kind: "courier",
      courierId: "c1",
      lat: 25.041,
      lng: 102.71,
      at: T0 + 1000,
      coarse: false,
    });
    expect(fleet.get("c1")).toMatchObject({ lat: 25.041, status: "busy" });
  });

  it("lists couriers with offers and jobs first, off-shift last", () => {
    const fleet = new Fleet();
    fleet.apply(
      couriers(
        { courierId: "a", lat: 25, lng: 102.7, at: T0, status: "offline" },
        { courierId: "b", lat: 25, lng: 102.7, at: T0, status: "idle" },
        { courierId: "c", lat: 25, lng: 102.7, at: T0, status: "busy" },
        { courierId: "d", lat: 25, lng: 102.7, at: T0, status: "offered" },
        { courierId: "e", lat: 25, lng: 102.7, at: T0, status: "on_break" },
      ),
    );
    expect(fleet.list().map((c) => c.courierId)).toEqual(["d", "c", "b", "e", "a"]);
    expect(fleet.countBy()).toEqual({ idle: 1, offered: 1, busy: 1, offline: 1, unknown: 1 });
  });
});

describe("ageOf", () => {
  it("reads in the unit a dispatcher takes in at a glance", () => {
    expect(ageOf(T0, T0 + 2_000)).toEqual({ unit: "now" });
    expect(ageOf(T0, T0 + 42_000)).toEqual({ unit: "seconds", value: 42 });
    expect(ageOf(T0, T0 + 185_000)).toEqual({ unit: "minutes", value: 3 });
    expect(ageOf(T0, T0 + 2 * 3_600_000)).toEqual({ unit: "hours", value: 2 });
    expect(ageOf(T0 + 5_000, T0)).toEqual({ unit: "now" });
  });
});
