import { describe, expect, it } from "vitest";
import type { PushFrame } from "../../protocol/index.ts";
import { VanBoard, vehicleSubject } from "./vans.ts";

const T0 = 1_700_000_000_000;

const reading = (
  vehicleId: string,
  compartmentId: string,
  celsius: number,
  inRange: boolean,
  at = T0,
) =>
  ({ kind: "temperature", vehicleId, compartmentId, celsius, inRange, at }) as Extract<
    PushFrame,
    { kind: "temperature" }
  >;

const alert = (code: string, subject: string, at = T0) =>
  ({
    kind: "alert",
    id: `${code}-${at}`,
    severity: "critical",
    code,
    message: "",
    subject,
    at,
  }) as Extract<PushFrame, { kind: "alert" }>;

describe("VanBoard", () => {
  it("lists the market's vans, those in trouble first, with each compartment's latest reading", () => {
    const board = new VanBoard();
    board.know("van-1", "c-1");
    board.know("van-2");
    board.add(reading("van-2", "chill", 3.1, true));
    board.add(reading("van-1", "chill", 6.2, false));
    board.add(reading("van-1", "chill", 5.0, false, T0 - 1000)); // older: ignored
    expect(board.list().map((v) => [v.vehicleId, v.state])).toEqual([
      ["van-1", "out_of_range"],
      ["van-2", "in_range"],
    ]);
    expect(board.get("van-1")).toMatchObject({
      driverId: "c-1",
      at: T0,
      compartments: [{ id: "chill", celsius: 6.2, inRange: false, excursion: false }],
    });
  });

  it("takes the layout from the readings route and excursions from the van's alerts", () => {
    const board = new VanBoard();
    board.layout("van-1", "c-1", [
      {
        id: "F",
        class: "frozen",
        minC: null,
        maxC: -18,
        latest: { celsius: -19, at: T0 },
        inExcursion: false,
      },
      { id: "C", class: "chilled", minC: 0, maxC: 4, latest: null, inExcursion: false },
    ]);
    expect(board.get("van-1")?.state).toBe("in_range");
    expect(board.alert(alert("temperature_excursion", "vehicle:van-1/F"))).toBe(true);
    expect(board.get("van-1")?.state).toBe("excursion");
    board.alert(alert("temperature_excursion_ended", "vehicle:van-1/F", T0 + 1));
    board.alert(alert("sensor_silent", "vehicle:van-1/C", T0 + 2));
    expect(board.get("van-1")?.state).toBe("silent");
    expect(board.alert(alert("late", "order:o-1"))).toBe(false);
  });

  it("reads the cold-chain alerts' subject", () => {
    expect(vehicleSubject("vehicle:van-1/chill")).toEqual({
      vehicleId: "van-1",
      compartmentId: "chill",
    });
    expect(vehicleSubject("vehicle:van-1")).toEqual({ vehicleId: "van-1", compartmentId: null });
    expect(vehicleSubject("order:o-1")).toBeNull();
    expect(vehicleSubject(undefined)).toBeNull();
  });
});
