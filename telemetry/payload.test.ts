import { describe, expect, it } from "vitest";
import { parseTelemetry, vehicleOfSubject } from "./payload.ts";

const bytes = (v: unknown) =>
  new TextEncoder().encode(typeof v === "string" ? v : JSON.stringify(v));
const AT = Date.UTC(2026, 10, 22, 4, 0, 0);

describe("telemetry payloads", () => {
  it("reads the vehicle from the subject, with or without a namespace", () => {
    expect(vehicleOfSubject("fleet.vehicle.van-7.temp")).toBe("van-7");
    expect(vehicleOfSubject("ns.fleet.vehicle.van-7.temp", "ns.")).toBe("van-7");
    expect(vehicleOfSubject("fleet.vehicle.van-7.door")).toBeNull();
    expect(vehicleOfSubject("fleet.vehicle.a b.temp")).toBeNull();
  });

  it("reads one reading, several, or a bare list, with the loggers' field aliases", () => {
    expect(
      parseTelemetry(
        "fleet.vehicle.v1.temp",
        bytes({ compartment: "C", celsius: 2.5, at: AT, door: "open" }),
      ),
    ).toEqual({
      ok: true,
      vehicleId: "v1",
      readings: [{ compartmentId: "C", celsius: 2.5, at: AT, doorOpen: true }],
    });
    const several = parseTelemetry(
      "fleet.vehicle.v1.temp",
      bytes({
        readings: [
          { compartmentId: "F", temp: -19, ts: AT / 1000 },
          { compartment: "C", celsius: 3, at: "2026-11-22T12:00:00+08:00", doorOpen: false },
        ],
      }),
    );
    expect(several).toEqual({
      ok: true,
      vehicleId: "v1",
      readings: [
        { compartmentId: "F", celsius: -19, at: AT },
        { compartmentId: "C", celsius: 3, at: AT, doorOpen: false },
      ],
    });
    const bare = parseTelemetry(
      "fleet.vehicle.v1.temp",
      bytes([{ compartment: "C", celsius: 1, at: AT }]),
    );
    expect(bare.ok && bare.readings.length).toBe(1);
  });

  it("rejects what it cannot read, with the reason", () => {
    const reason = (payload: unknown, subject = "fleet.vehicle.v1.temp") => {
      const r = parseTelemetry(subject, bytes(payload));
      return r.ok ? "ok" : r.reason;
    };
    expect(reason("{oops")).toBe("malformed");
    expect(reason({ compartment: "C", celsius: null, at: AT })).toBe("not_a_number");
    expect(reason({ compartment: "C", celsius: "NaN", at: AT })).toBe("not_a_number");
    expect(reason({ celsius: 2, at: AT })).toBe("malformed");
    expect(reason({ compartment: "C", celsius: 2 })).toBe("malformed");
    expect(reason({ compartment: "C", celsius: 2, at: "2026-11-22 12:00" })).toBe("malformed");
    expect(reason({ compartment: "C", celsius: 2, at: AT, door: "ajar" })).toBe("malformed");
    expect(reason({ readings: [] })).toBe("malformed");
    expect(
      reason(Array.from({ length: 65 }, () => ({ compartment: "C", celsius: 2, at: AT }))),
    ).toBe("malformed");
    expect(reason({ compartment: "C", celsius: 2, at: AT }, "fleet.vehicle.v1")).toBe("malformed");
    // One bad reading rejects the message: a logger that sends garbage once is not trusted twice in it.
    expect(
      reason({
        readings: [
          { compartment: "C", celsius: 2, at: AT },
          { compartment: "F", at: AT },
        ],
      }),
    ).toBe("not_a_number");
  });
});
