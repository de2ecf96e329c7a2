import { describe, expect, it } from "vitest";
import { PushFrame } from "../protocol/index.ts";
import type { EventEnvelope } from "../protocol/index.ts";
import { waveFrames } from "./waves.ts";

const waveId = "m-1-20261122-pm";
const event = (name: string, data: unknown): EventEnvelope => ({
  id: `wave.${waveId}.7.0`,
  actor: { type: "wave", id: waveId },
  name,
  seq: 7,
  commandId: "c-7",
  at: 1_700_000_000_000,
  data,
});

describe("wave feed frames", () => {
  it("sends each van's route to its driver at departure", () => {
    const stop = {
      kind: "dropoff",
      place: "point:pp-1",
      location: { lat: 25, lng: 102 },
      orderIds: ["o-1", "o-2"],
      arriveAt: 1_700_000_600_000,
      startAt: 1_700_000_600_000,
      leaveAt: 1_700_000_720_000,
    };
    const frames = waveFrames(
      event("wave_departed", {
        routes: [
          { vehicleId: "v-1", courierId: "c-1", stops: [stop] },
          { vehicleId: "v-2", courierId: "c-2", stops: [] },
        ],
      }),
    );
    expect(frames.map((f) => [f.kind, f.id])).toEqual([
      ["courier", "c-1"],
      ["courier", "c-2"],
    ]);
    const first = PushFrame.parse(frames[0]!.frame);
    expect(first).toMatchObject({ kind: "wave_route", waveId, vehicleId: "v-1" });
    expect(first.kind === "wave_route" && first.stops[0]!.orderIds).toEqual(["o-1", "o-2"]);
  });

  it("tells the market's console of plan changes, and raises uncollected goods as an alert", () => {
    const [plan] = waveFrames(event("stop_moved", { version: 4, cost: 321.5 }));
    expect(plan).toMatchObject({ kind: "market", id: "m-1" });
    expect(PushFrame.parse(plan!.frame)).toMatchObject({
      kind: "wave_plan",
      version: 4,
      cost: 321.5,
      cause: "stop_moved",
    });
    const [alert] = waveFrames(
      event("uncollected_at_closing", {
        marketId: "m-1",
        pickupPointId: "pp-3",
        orderIds: ["o-9"],
      }),
    );
    expect(alert!.id).toBe("m-1");
    const parsed = PushFrame.parse(alert!.frame);
    expect(parsed).toMatchObject({ kind: "alert", code: "wave_uncollected", severity: "warning" });
    expect(parsed.kind === "alert" && parsed.message).toContain("o-9");
    expect(waveFrames(event("order_joined", {}))).toEqual([]);
  });
});
