import { describe, expect, it } from "vitest";
import type { PushFrame } from "../../protocol/index.ts";
import { VanSeries, beijingClock, chartSvg } from "./van-chart.ts";
import type { VehicleReadings } from "./van-chart.ts";

const T0 = Date.UTC(2025, 5, 2, 2, 0); // 10:00 Beijing time
const MIN = 60_000;

const answer: VehicleReadings = {
  vehicleId: "van-1",
  driverId: "c-1",
  from: T0 - 120 * MIN,
  to: T0,
  compartments: [
    {
      id: "chill",
      class: "chilled",
      minC: 0,
      maxC: 4,
      latest: { celsius: 3, at: T0 - MIN },
      inExcursion: false,
      readings: [
        { at: T0 - 30 * MIN, celsius: 3.2 },
        { at: T0 - 20 * MIN, celsius: 6.5 },
        { at: T0 - 10 * MIN, celsius: 3.1 },
      ],
      excursions: [
        { kind: "temperature", startedAt: T0 - 20 * MIN, endedAt: T0 - 10 * MIN, peakC: 6.5 },
      ],
    },
  ],
};

const labels = {
  title: "冷藏仓 chill 近 2 小时温度",
  noReadings: "该时段无温度记录",
  excursion: (_kind: string, from: string, to: string) => `超温 ${from}–${to}`,
  now: "至今",
};

const frame = (celsius: number, at: number) =>
  ({
    kind: "temperature",
    vehicleId: "van-1",
    compartmentId: "chill",
    celsius,
    inRange: celsius <= 4,
    at,
  }) as Extract<PushFrame, { kind: "temperature" }>;

const alert = (code: string, at: number) =>
  ({
    kind: "alert",
    id: `${code}-${at}`,
    severity: "critical",
    code,
    message: "",
    subject: "vehicle:van-1/chill",
    at,
  }) as Extract<PushFrame, { kind: "alert" }>;

describe("VanSeries", () => {
  it("adds live readings to the history and keeps them across a reload", () => {
    const series = new VanSeries("van-1");
    series.load(answer);
    expect(series.add(frame(3.4, T0 + MIN))).toBe(true);
    expect(series.add(frame(3.3, T0 + MIN))).toBe(false);
    series.load(answer);
    expect(series.list()[0]!.readings.map((r) => r.celsius)).toEqual([3.2, 6.5, 3.1, 3.4]);
  });

  it("opens an excursion from the first reading of the run out of range, and closes it", () => {
    const series = new VanSeries("van-1");
    series.load(answer);
    series.add(frame(5.5, T0 + MIN));
    series.add(frame(7.25, T0 + 2 * MIN));
    expect(series.alert(alert("temperature_excursion", T0 + 2 * MIN))).toBe(true);
    expect(series.alert(alert("temperature_excursion", T0 + 2 * MIN))).toBe(false);
    expect(series.list()[0]!.excursions.at(-1)).toEqual({
      kind: "temperature",
      startedAt: T0 + MIN,
      endedAt: null,
      peakC: 7.25,
    });
    series.alert(alert("temperature_excursion_ended", T0 + 5 * MIN));
    expect(series.list()[0]!.excursions.at(-1)?.endedAt).toBe(T0 + 5 * MIN);
  });
});

describe("chartSvg", () => {
  it("shades the allowed range, marks excursions red and draws the readings", () => {
    const series = new VanSeries("van-1");
    series.load(answer);
    const svg = chartSvg(series.list()[0]!, { from: T0 - 120 * MIN, to: T0 }, labels);
    expect(svg).toMatch(/^<svg class="van-chart"/);
    expect(svg).toContain('aria-label="冷藏仓 chill 近 2 小时温度"');
    expect(svg.match(/class="band"/g)).toHaveLength(1);
    expect(svg).toContain('class="exc temperature"');
    expect(svg).toContain("<title>超温 09:40–09:50</title>");
    expect(svg.match(/class="pt out"/g)).toHaveLength(1);
    expect(svg.match(/class="pt"/g)).toHaveLength(2);
    // Time ticks on Beijing time.
    expect(svg).toContain(">09:00<");
    expect(svg).not.toContain("NaN");
  });

  it("says when there is nothing to draw, and escapes its labels", () => {
    const svg = chartSvg(
      { id: "c", class: "custom", minC: null, maxC: null, readings: [], excursions: [] },
      { from: T0 - 60 * MIN, to: T0 },
      { ...labels, noReadings: "<none>" },
    );
    expect(svg).toContain("&lt;none&gt;");
    expect(svg).not.toContain('class="band"');
  });

  it("tells Beijing time", () => {
    expect(beijingClock(T0)).toBe("10:00");
  });
});
