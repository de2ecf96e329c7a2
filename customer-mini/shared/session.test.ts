import { describe, expect, it } from "vitest";
import {
  applyDownFrame,
  applySnapshot,
  decodeDownFrame,
  decodeSnapshot,
  disconnected,
  initialTracking,
  subscribeFrame,
} from "./session.ts";
import type { DownFrame, PushFrame, TrackingState } from "./types.ts";

const T = Date.UTC(2025, 5, 2, 4, 30); // 12:30 in Kunming
const MIN = 60_000;

function push(offset: number, frame: PushFrame, channel = "order:o-1"): DownFrame {
  return { type: "push", channel, offset, frame } as DownFrame;
}

function feed(state: TrackingState, ...frames: DownFrame[]): TrackingState {
  return frames.reduce((s, f) => applyDownFrame(s, f, T), state);
}

describe("tracking session", () => {
  it("subscribes to the order's channel, then resumes after the last offset applied", () => {
    let s = initialTracking("o-1");
    expect(subscribeFrame(s)).toEqual({ type: "subscribe", channel: "order:o-1" });
    s = feed(
      s,
      { type: "subscribed", channel: "order:o-1", offset: 10 },
      push(11, { kind: "status", orderId: "o-1", status: "assigned", at: T }),
    );
    expect(s.phase).toBe("live");
    expect(subscribeFrame(disconnected(s))).toEqual({
      type: "subscribe",
      channel: "order:o-1",
      offset: 11,
    });
  });

  it("ignores frames replayed at or below the last offset after a resume", () => {
    let s = feed(
      initialTracking("o-1"),
      push(5, { kind: "courier", courierId: "c-1", lat: 25.04, lng: 102.71, at: T, coarse: false }),
    );
    const before = s;
    s = feed(
      s,
      push(5, { kind: "courier", courierId: "c-1", lat: 1, lng: 1, at: T + 1, coarse: false }),
    );
    expect(s).toBe(before);
    s = feed(
      s,
      push(6, {
        kind: "courier",
        courierId: "c-1",
        lat: 25.05,
        lng: 102.72,
        at: T + 2000,
        coarse: false,
      }),
    );
    expect(s.courier).toMatchObject({ lat: 25.05, lng: 102.72 });
    expect(s.offset).toBe(6);
  });

  it("keeps the courier's latest position, coarse before pickup", () => {
    const s = feed(
      initialTracking("o-1"),
      push(1, { kind: "courier", courierId: "c-1", lat: 25.0, lng: 102.7, at: T, coarse: true }),
      push(2, {
        kind: "courier",
        courierId: "c-1",
        lat: 25.01,
        lng: 102.71,
        at: T - 5000,
        coarse: true,
      }),
    );
    expect(s.courier).toEqual({ courierId: "c-1", lat: 25.0, lng: 102.7, at: T, coarse: true });
  });

  it("moves the status forward and records when each status was reached", () => {
    const s = feed(
      initialTracking("o-1"),
      push(1, { kind: "status", orderId: "o-1", status: "accepted", at: T }),
      push(2, { kind: "status", orderId: "o-1", status: "picked_up", at: T + 10 * MIN }),
      // An older status arriving late fills the timeline but does not move the headline back.
      push(3, { kind: "status", orderId: "o-1", status: "assigned", at: T + 5 * MIN }),
    );
    expect(s.status).toBe("picked_up");
    expect(s.reached).toEqual({ accepted: T, picked_up: T + 10 * MIN, assigned: T + 5 * MIN });
  });

  it("ignores frames of other orders and unknown statuses", () => {
    const s0 = initialTracking("o-1");
    const s = feed(
      s0,
      push(1, { kind: "status", orderId: "o-2", status: "delivered", at: T }),
      push(2, { kind: "status", orderId: "o-1", status: "teleported", at: T }),
      push(3, { kind: "eta", orderId: "o-9", leg: "to_customer", p50: T, p90: T, at: T }),
    );
    expect(s.status).toBeNull();
    expect(s.eta).toBeNull();
    expect(s.offset).toBe(3);
  });

  it("keeps the latest ETA window and temperature reading", () => {
    const s = feed(
      initialTracking("o-1"),
      push(1, {
        kind: "eta",
        orderId: "o-1",
        leg: "to_customer",
        p50: T + 10 * MIN,
        p90: T + 22 * MIN,
        at: T,
      }),
      push(2, {
        kind: "temperature",
        vehicleId: "v-1",
        compartmentId: "chill",
        celsius: 7.2,
        inRange: false,
        at: T,
        orderId: "o-1",
      }),
    );
    expect(s.eta).toEqual({ leg: "to_customer", p50: T + 10 * MIN, p90: T + 22 * MIN, at: T });
    expect(s.temperature).toEqual({ celsius: 7.2, inRange: false, at: T, compartmentId: "chill" });
  });

  it("expires on an auth error frame and then ignores everything", () => {
    let s = feed(initialTracking("o-1"), {
      type: "error",
      code: "token_expired",
      message: "order delivered",
    });
    expect(s.phase).toBe("expired");
    expect(s.expired).toEqual({ reason: "token_expired", message: "order delivered" });
    s = feed(s, push(1, { kind: "status", orderId: "o-1", status: "assigned", at: T }));
    expect(s.status).toBeNull();
  });

  it("keeps other error frames for display without expiring", () => {
    const s = feed(initialTracking("o-1"), { type: "error", code: "bad_frame", message: "x" });
    expect(s.phase).toBe("connecting");
    expect(s.errors).toEqual([{ code: "bad_frame", message: "x" }]);
  });

  it("estimates the server clock skew from the welcome frame", () => {
    const s = applyDownFrame(
      initialTracking("o-1"),
      { type: "welcome", role: "shopper", subject: "u-1", now: T + 3000, coord: "gcj02" },
      T,
    );
    expect(s.clockSkewMs).toBe(3000);
  });

  it("takes the first-paint snapshot, and later frames win over it", () => {
    const snapshot = decodeSnapshot({
      status: "assigned",
      courier: { courierId: "c-1", lat: 25.03, lng: 102.7, at: T - 1000, coarse: true },
      eta: { leg: "to_store", p50: T + 20 * MIN, p90: T + 30 * MIN, at: T - 1000 },
      offset: 41,
      temperatureClass: "chilled",
      dropoff: { kind: "door", location: { lat: 25.02, lng: 102.68 } },
    });
    expect(snapshot).not.toBeNull();
    let s = applySnapshot(initialTracking("o-1"), snapshot!);
    expect(s).toMatchObject({
      status: "assigned",
      offset: 41,
      temperatureClass: "chilled",
      destination: { lat: 25.02, lng: 102.68 },
      courier: { lat: 25.03, coarse: true },
    });
    expect(subscribeFrame(s)).toMatchObject({ offset: 41 });
    s = feed(s, push(42, { kind: "status", orderId: "o-1", status: "picked_up", at: T }));
    expect(s.status).toBe("picked_up");
  });
});

describe("cold-chain alerts", () => {
  const alert = (offset: number, code: string, at: number): DownFrame =>
    push(offset, {
      kind: "alert",
      id: `a-${offset}`,
      severity: "critical",
      code,
      message: "v-1 车厢 C 温度超标 / temperature out of range",
      subject: "vehicle:v-1/C",
      at,
    });

  it("follows the van's excursion and silence alerts on the order's channel", () => {
    let s = feed(initialTracking("o-1"), alert(1, "temperature_excursion", T));
    expect(s.coldAlerts).toEqual({ excursion: true, silent: false, seen: true, at: T });
    s = feed(
      s,
      alert(2, "sensor_silent", T + MIN),
      alert(3, "temperature_excursion_ended", T + 2 * MIN),
    );
    expect(s.coldAlerts).toEqual({ excursion: false, silent: true, seen: true, at: T + 2 * MIN });
    s = feed(s, alert(4, "sensor_silent_ended", T + 3 * MIN), alert(5, "order_late", T + 4 * MIN));
    expect(s.coldAlerts).toEqual({ excursion: false, silent: false, seen: true, at: T + 3 * MIN });
    expect(decodeDownFrame(JSON.stringify(alert(6, "temperature_excursion", T)))).toMatchObject({
      frame: { kind: "alert", code: "temperature_excursion" },
    });
  });

  it("learns of an excursion going on from the snapshot's cold-chain record", () => {
    const snapshot = decodeSnapshot({
      status: "picked_up",
      temperatureClass: "chilled",
      coldChain: {
        vehicleId: "v-1",
        compartmentId: "C",
        loadedAt: T,
        excursions: [
          {
            kind: "temperature",
            startedAt: T + MIN,
            detectedAt: T + 2 * MIN,
            endedAt: null,
            celsius: 7,
          },
        ],
      },
    })!;
    const s = applySnapshot(initialTracking("o-1"), snapshot);
    expect(s.coldAlerts).toEqual({ excursion: true, silent: false, seen: true, at: T + 2 * MIN });
  });
});

describe("decodeDownFrame", () => {
  it("accepts the gateway's frames", () => {
    const text = JSON.stringify({
      type: "push",
      channel: "order:o-1",
      offset: 3,
      frame: { kind: "courier", courierId: "c-1", lat: 25, lng: 102, at: T, coarse: false },
    });
    expect(decodeDownFrame(text)).toMatchObject({ type: "push", offset: 3 });
  });

  it("drops what is not a DownFrame", () => {
    expect(decodeDownFrame("not json")).toBeNull();
    expect(decodeDownFrame(JSON.stringify({ type: "shout" }))).toBeNull();
    expect(
      decodeDownFrame(
        JSON.stringify({ type: "push", channel: "order:o-1", offset: 1, frame: { kind: "x" } }),
      ),
    ).toBeNull();
    expect(
      decodeDownFrame(
        JSON.stringify({
          type: "push",
          channel: "order:o-1",
          offset: 1,
          frame: { kind: "courier", courierId: "c", lat: 999, lng: 0, at: 1 },
        }),
      ),
    ).toBeNull();
  });
});
