/** The simulated van's temperature model and payloads, stepped by hand: no network, no timers. */
import { describe, expect, it } from "vitest";
import { VehicleMessage } from "../protocol/actors/vehicle.ts";
import { parseTelemetry } from "../telemetry/payload.ts";
import {
  compartmentConfigs,
  mqttTransport,
  natsTransport,
  SimVan,
  STANDARD_COMPARTMENTS,
  vanSubject,
} from "./van.ts";
import type { SimVanOptions, VanReading } from "./van.ts";

const T0 = Date.UTC(2026, 10, 22, 6, 0);
const MINUTE = 60_000;

/** A van on a hand-moved clock, publishing into an array. */
function van(options: SimVanOptions = {}, id = "van-1") {
  let now = T0;
  const sent: { vehicleId: string; payload: string }[] = [];
  const v = new SimVan(id, {
    clock: () => now,
    transport: { publish: (vehicleId, payload) => void sent.push({ vehicleId, payload }) },
    ...options,
  });
  v.advance();
  return {
    v,
    sent,
    /** Moves the clock and the model by `ms`. */
    run(ms: number) {
      now += ms;
      v.advance(now);
    },
    get now() {
      return now;
    },
  };
}

const closedDoors = { doors: { doorOpensPerMinute: 0 } };
const byId = (rs: VanReading[], id: string) => rs.find((r) => r.compartment === id)!;

describe("SimVan temperature model", () => {
  it("holds each cooled compartment at its setpoint within the cycle and the noise", () => {
    const s = van(closedDoors);
    const limits = { cycle: 0.4, noise: 0.3 };
    for (let second = 0; second < 30 * 60; second++) {
      s.run(1000);
      const rs = s.v.read();
      for (const spec of STANDARD_COMPARTMENTS) {
        const r = byId(rs, spec.id);
        const truth = s.v.temperature(spec.id);
        // The sensor is the air plus bounded noise, to 0.1 °C.
        expect(Math.abs(r.celsius - truth)).toBeLessThanOrEqual(limits.noise + 0.05 + 1e-9);
        expect(Math.round(r.celsius * 10)).toBeCloseTo(r.celsius * 10, 6);
        if (spec.setpointC === null) {
          expect(truth).toBeCloseTo(22, 0);
        } else {
          expect(Math.abs(truth - spec.setpointC)).toBeLessThanOrEqual(limits.cycle + 0.11);
        }
      }
      // Every reading stays inside its class's range: a healthy van raises nothing.
      expect(byId(rs, "F").celsius).toBeLessThanOrEqual(-18);
      expect(byId(rs, "C").celsius).toBeGreaterThanOrEqual(0);
      expect(byId(rs, "C").celsius).toBeLessThanOrEqual(4);
      expect(byId(rs, "T").celsius).toBeGreaterThanOrEqual(10);
      expect(byId(rs, "T").celsius).toBeLessThanOrEqual(15);
    }
  });

  it("is deterministic for a seed, and vans differ from each other", () => {
    const series = (seed: number, id = "van-1") => {
      const s = van({ seed, doors: { doorOpensPerMinute: 1 } }, id);
      const out: number[] = [];
      for (let i = 0; i < 600; i++) {
        s.run(1000);
        out.push(...s.v.read().map((r) => r.celsius));
      }
      return out;
    };
    expect(series(7)).toEqual(series(7));
    expect(series(7)).not.toEqual(series(8));
    expect(series(7, "van-1")).not.toEqual(series(7, "van-2"));
  });

  it("warms a compartment while its door is open and pulls it back down after", () => {
    const s = van(closedDoors);
    s.run(5 * MINUTE);
    s.v.openDoor("F", 45_000);
    expect(s.v.doorOpen("F")).toBe(true);
    s.run(45_000);
    // Air warms within seconds of opening: a frozen compartment's air is above −18 °C...
    const peak = s.v.temperature("F");
    expect(peak).toBeGreaterThan(-16);
    expect(peak).toBeLessThan(0);
    s.run(1000);
    expect(s.v.doorOpen("F")).toBe(false);
    expect(s.v.read().find((r) => r.compartment === "F")!.door).toBe(false);
    // ...and back below it within a few minutes: a grace period of 5 minutes covers a stop.
    let outFor = 0;
    while (s.v.temperature("F") > -18) {
      s.run(1000);
      outFor += 1000;
    }
    expect(outFor).toBeGreaterThan(30_000);
    expect(outFor).toBeLessThan(3 * MINUTE);
    // The other compartments did not notice.
    expect(Math.abs(s.v.temperature("C") - 2.5)).toBeLessThan(0.6);
  });

  it("keeps a compartment out of range past a 5-minute grace when a door is left open", () => {
    const s = van(closedDoors);
    s.v.openDoor("C", 8 * MINUTE);
    let outOfRange = 0;
    for (let i = 0; i < 10 * 60; i++) {
      s.run(1000);
      if (s.v.temperature("C") > 4) outOfRange += 1000;
    }
    expect(outOfRange).toBeGreaterThan(5 * MINUTE);
    expect(s.v.temperature("C")).toBeLessThan(22);
  });

  it("drifts towards the outside air after a compressor failure, and recovers after repair", () => {
    const s = van(closedDoors);
    s.run(MINUTE);
    s.v.failCompressor(["C"]);
    expect(s.v.compressorFailed("C")).toBe(true);
    expect(s.v.compressorFailed("F")).toBe(false);
    let previous = s.v.temperature("C");
    let exceededAt: number | null = null;
    for (let minute = 1; minute <= 30; minute++) {
      s.run(MINUTE);
      const t = s.v.temperature("C");
      expect(t).toBeGreaterThan(previous); // steadily warmer, no door needed
      previous = t;
      if (exceededAt === null && t > 4) exceededAt = minute;
    }
    // Insulated walls slow it: minutes, not seconds, yet well within a delivery round.
    expect(exceededAt).not.toBeNull();
    expect(exceededAt!).toBeGreaterThanOrEqual(2);
    expect(exceededAt!).toBeLessThanOrEqual(10);
    expect(Math.abs(s.v.temperature("F") + 20)).toBeLessThan(0.6);
    s.v.repairCompressor();
    s.run(10 * MINUTE);
    expect(Math.abs(s.v.temperature("C") - 2.5)).toBeLessThan(0.6);
  });

  it("opens doors at about the configured rate, some left open long", () => {
    const s = van({ doors: { doorOpensPerMinute: 0.5, leftOpenChance: 0.1 } });
    s.run(1000 * MINUTE);
    // A door waits 2 minutes on average, then stays open 0.9 × 35 s + 0.1 × 630 s ≈ 1.6 min:
    // 4 compartments × 1,000 minutes ÷ 3.6 minutes ≈ 1,120 openings.
    const n = s.v.stats.doorOpenings;
    expect(n).toBeGreaterThan(950);
    expect(n).toBeLessThan(1300);
  });

  it("never warms an ambient compartment's model beyond the outside air", () => {
    const s = van({ doors: { doorOpensPerMinute: 2 } });
    for (let i = 0; i < 60; i++) {
      s.run(MINUTE);
      for (const spec of STANDARD_COMPARTMENTS)
        expect(s.v.temperature(spec.id)).toBeLessThan(22.01);
    }
  });
});

describe("SimVan payloads", () => {
  it("publishes one message with every compartment, which the bridge's parser reads", async () => {
    const s = van(closedDoors);
    s.run(1000);
    await s.v.publishNow();
    s.run(1000);
    await s.v.publishNow();
    expect(s.sent).toHaveLength(2);
    const times: number[] = [];
    for (const { vehicleId, payload } of s.sent) {
      const parsed = parseTelemetry(vanSubject(vehicleId), new TextEncoder().encode(payload));
      expect(parsed.ok).toBe(true);
      if (!parsed.ok) continue;
      expect(parsed.vehicleId).toBe("van-1");
      expect(parsed.readings.map((r) => r.compartmentId)).toEqual(["F", "C", "T", "A"]);
      expect(parsed.readings.every((r) => r.doorOpen === false)).toBe(true);
      times.push(parsed.readings[0]!.at);
    }
    expect(times).toEqual([T0 + 1000, T0 + 2000]);
    expect(s.v.stats).toMatchObject({ messages: 2, readings: 8, ackedReadings: 8, errors: 0 });
  });

  it("publishes one message per compartment when asked", async () => {
    const s = van({ ...closedDoors, perCompartment: true });
    s.run(1000);
    await s.v.publishNow();
    expect(s.sent).toHaveLength(4);
    for (const { payload } of s.sent) {
      const parsed = parseTelemetry(vanSubject("van-1"), new TextEncoder().encode(payload));
      expect(parsed.ok && parsed.readings.length).toBe(1);
    }
  });

  it("stamps an injected reading after every reading before it, even within one millisecond", async () => {
    const s = van(closedDoors);
    await s.v.publishNow();
    const at = await s.v.inject("F", -5);
    await s.v.publishNow();
    const ats = s.sent.map(
      ({ payload }) => (JSON.parse(payload) as { readings: VanReading[] }).readings[0]!.at,
    );
    expect(ats).toEqual([T0, T0 + 1, T0 + 2]);
    expect(at).toBe(T0 + 1);
    const injected = JSON.parse(s.sent[1]!.payload) as { readings: VanReading[] };
    expect(injected.readings).toEqual([{ compartment: "F", celsius: -5, at, door: false }]);
  });

  it("makes a configure message the vehicle actor's schema accepts", () => {
    const msg = {
      type: "configure",
      compartments: compartmentConfigs(STANDARD_COMPARTMENTS, 300),
      driverId: "d-1",
      marketId: "km",
    };
    expect(VehicleMessage.safeParse(msg).success).toBe(true);
  });

  it("publishes to the MQTT topic, or to the NATS subject it maps to", async () => {
    const mqttSent: { topic: string; qos: number }[] = [];
    const client = {
      publish(topic: string, _payload: string, o: { qos: 0 | 1 }, done: (err?: Error) => void) {
        mqttSent.push({ topic, qos: o.qos });
        done();
      },
    };
    const natsSent: string[] = [];
    const nc = { publish: (subject: string) => void natsSent.push(subject) };
    const a = new SimVan("van-1", { transport: mqttTransport(client) });
    const b = new SimVan("van-2", { transport: natsTransport(nc) });
    const c = new SimVan("van-3", { transport: natsTransport(nc, "tenant1") });
    await Promise.all([a.publishNow(), b.publishNow(), c.publishNow()]);
    expect(mqttSent).toEqual([{ topic: "fleet/vehicle/van-1/temp", qos: 1 }]);
    expect(natsSent).toEqual(["fleet.vehicle.van-2.temp", "tenant1.fleet.vehicle.van-3.temp"]);
  });

  it("counts a failed publish and keeps going", async () => {
    const v = new SimVan("van-9", {
      transport: {
        publish: () => Promise.reject(new Error("broker gone")),
      },
    });
    await expect(v.publishNow()).rejects.toThrow("broker gone");
    expect(v.stats).toMatchObject({ messages: 1, readings: 4, ackedReadings: 0 });
  });
});
