/** The terminal summary from the market channel's frames. */
import { describe, expect, it } from "vitest";
import type { PushFrame } from "../../protocol/index.ts";
import { shanghaiTime, SummaryBook, summaryLine } from "./summary.ts";

const T0 = Date.parse("2026-03-10T12:00:00+08:00");
const MIN = 60_000;

const order = (orderId: string, status: string, at: number, extra = {}): PushFrame => ({
  kind: "order",
  orderId,
  marketId: "km",
  status,
  at,
  ...extra,
});
const alert = (code: string, subject: string, at = T0): PushFrame => ({
  kind: "alert",
  id: `${code}-${subject}-${at}`,
  severity: "warning",
  code,
  message: code,
  subject,
  at,
});

describe("SummaryBook", () => {
  it("counts orders placed and delivered, on time by the promise, click-to-door", () => {
    const book = new SummaryBook();
    book.apply(order("o1", "created", T0, { promisedAt: T0 + 30 * MIN }));
    book.apply(order("o2", "created", T0 + MIN, { promisedAt: T0 + 20 * MIN }));
    book.apply(order("o3", "created", T0 + 2 * MIN, { promisedAt: T0 + 40 * MIN }));
    book.apply(order("o1", "assigned", T0 + 2 * MIN));
    book.apply(order("o1", "delivered", T0 + 20 * MIN));
    book.apply(order("o2", "delivered", T0 + 31 * MIN));
    // A repeated frame (a resumed connection) counts once.
    book.apply(order("o2", "delivered", T0 + 31 * MIN));
    const c = book.read();
    expect(c.placed).toBe(3);
    expect(c.delivered).toBe(2);
    expect(c.onTime).toBe(0.5);
    expect(c.meanClickToDoorMinutes).toBeCloseTo(25, 9);
  });

  it("reports click-to-door in simulated minutes on an accelerated clock", () => {
    const book = new SummaryBook(10);
    book.apply(order("o1", "created", T0));
    book.apply(order("o1", "delivered", T0 + 3 * MIN));
    expect(book.read().meanClickToDoorMinutes).toBeCloseTo(30, 9);
    expect(book.read().onTime).toBeNull();
  });

  it("keeps a cold-chain alert open until it ends, a dispatch alert until the order is served", () => {
    const book = new SummaryBook();
    book.apply(alert("temperature_excursion", "vehicle:van-km-1/C"));
    book.apply(alert("sensor_silent", "vehicle:van-km-2/F"));
    book.apply(alert("no_courier", "order:o9"));
    book.apply(alert("offer_unanswered", "order:o8")); // information, not an open alert
    expect(book.read()).toMatchObject({ openColdAlerts: 2, openDispatchAlerts: 1 });
    book.apply(alert("temperature_excursion_ended", "vehicle:van-km-1/C"));
    expect(book.read()).toMatchObject({ openColdAlerts: 1, openDispatchAlerts: 1 });
    book.apply(order("o9", "ready", T0));
    expect(book.read().openDispatchAlerts).toBe(1);
    book.apply(order("o9", "assigned", T0));
    expect(book.read()).toMatchObject({ openColdAlerts: 1, openDispatchAlerts: 0 });
  });
});

describe("summaryLine", () => {
  it("says it in one line, Chinese then English labels", () => {
    const line = summaryLine(
      T0 + 3_000,
      {
        placed: 14,
        delivered: 6,
        onTime: 5 / 6,
        meanClickToDoorMinutes: 9.84,
        openColdAlerts: 1,
        openDispatchAlerts: 0,
      },
      { busy: 4, idle: 8, offShift: 0 },
    );
    expect(line).toBe(
      "12:00:03  下单 placed 14 · 送达 delivered 6 · 准时 on-time 83% · 平均送达 click-to-door 9.8 分钟 min · " +
        "告警 alerts 1 (冷链 cold 1, 调度 dispatch 0) · 骑手 couriers 忙 busy 4 / 闲 idle 8",
    );
    expect(line).not.toContain("\n");
    const empty = summaryLine(
      T0,
      {
        placed: 0,
        delivered: 0,
        onTime: null,
        meanClickToDoorMinutes: null,
        openColdAlerts: 0,
        openDispatchAlerts: 0,
      },
      { busy: 0, idle: 10, offShift: 2 },
    );
    expect(empty).toContain("准时 on-time — · 平均送达 click-to-door — 分钟 min");
    expect(empty).toContain("/ 下班 off 2");
    expect(shanghaiTime(Date.parse("2026-03-10T23:59:59+08:00"))).toBe("23:59:59");
  });
});
