import { describe, expect, it } from "vitest";
import { applyDownFrame, initialTracking } from "./session.ts";
import type { DownFrame, PushFrame, TrackingState } from "./types.ts";
import { etaCard, temperatureBadge, timelineSteps, trackingView } from "./view.ts";

const T = Date.UTC(2025, 5, 2, 4, 30); // 12:30 in Kunming (UTC+8)
const MIN = 60_000;

function withFrames(...frames: PushFrame[]): TrackingState {
  return frames.reduce(
    (s, frame, i) =>
      applyDownFrame(
        s,
        { type: "push", channel: "order:o-1", offset: i + 1, frame } as DownFrame,
        T,
      ),
    initialTracking("o-1"),
  );
}

const status = (s: string, at: number): PushFrame => ({
  kind: "status",
  orderId: "o-1",
  status: s,
  at,
});

describe("ETA card", () => {
  it("shows the P50–P90 window in Beijing time", () => {
    const s = withFrames({
      kind: "eta",
      orderId: "o-1",
      leg: "to_customer",
      p50: T + 10 * MIN,
      p90: T + 22 * MIN,
      at: T,
    });
    expect(etaCard(s, "zh-CN", T)).toEqual({
      text: "预计 12:40–12:52 送达",
      minutes: "约 10 分钟",
      known: true,
      done: false,
    });
    expect(etaCard(s, "en", T).text).toBe("Arriving 12:40–12:52");
  });

  it("says one time when the window rounds to one minute, and 'arriving' when it is due", () => {
    const s = withFrames({
      kind: "eta",
      orderId: "o-1",
      leg: "to_customer",
      p50: T + 30_000,
      p90: T + 40_000,
      at: T,
    });
    expect(etaCard(s, "zh-CN", T)).toMatchObject({ text: "预计 12:30 送达", minutes: "即将送达" });
  });

  it("says when it was delivered, and that the time is being worked out before any ETA", () => {
    expect(etaCard(initialTracking("o-1"), "zh-CN", T).text).toBe("正在计算送达时间");
    const s = withFrames(status("delivered", T + 3 * MIN));
    expect(etaCard(s, "zh-CN", T)).toMatchObject({ text: "已于 12:33 送达", done: true });
  });
});

describe("status timeline", () => {
  it("marks milestones done, current and to do, with the time each was reached", () => {
    const s = withFrames(
      status("created", T - 20 * MIN),
      status("accepted", T - 19 * MIN),
      status("preparing", T - 18 * MIN),
      status("ready", T - 10 * MIN),
      status("assigned", T - 9 * MIN),
      status("at_store", T - 2 * MIN),
      status("picked_up", T),
    );
    expect(timelineSteps(s, "zh-CN")).toEqual([
      { key: "placed", label: "已下单", time: "12:10", state: "done" },
      { key: "accepted", label: "商家已接单", time: "12:11", state: "done" },
      { key: "preparing", label: "商品已备好", time: "12:12", state: "done" },
      { key: "courier", label: "骑手已到店", time: "12:21", state: "done" },
      { key: "delivering", label: "配送中", time: "12:30", state: "current" },
      { key: "delivered", label: "已送达", time: "", state: "todo" },
    ]);
  });

  it("ends with the failure and drops the steps never reached", () => {
    const s = withFrames(status("accepted", T - 5 * MIN), status("cancelled", T));
    expect(timelineSteps(s, "zh-CN").map((x) => [x.label, x.state])).toEqual([
      ["已下单", "done"],
      ["商家已接单", "done"],
      ["已取消", "failed"],
    ]);
  });

  it("marks every step done once delivered", () => {
    const s = withFrames(status("picked_up", T - 5 * MIN), status("delivered", T));
    expect(timelineSteps(s, "en").every((x) => x.state === "done")).toBe(true);
  });
});

describe("temperature badge", () => {
  it("is absent for ambient orders with no reading", () => {
    expect(temperatureBadge(initialTracking("o-1"), "zh-CN")).toBeNull();
  });

  it("shows the reading and whether it is in range", () => {
    const reading = (celsius: number, inRange: boolean): PushFrame => ({
      kind: "temperature",
      vehicleId: "v-1",
      compartmentId: "c",
      celsius,
      inRange,
      at: T,
    });
    const ok = { ...withFrames(reading(2.5, true)), temperatureClass: "chilled" as const };
    expect(temperatureBadge(ok, "zh-CN")).toEqual({
      state: "in_range",
      label: "冷藏 2.5°C",
      verdict: "温度正常",
    });
    const bad = { ...withFrames(reading(-12, false)), temperatureClass: "frozen" as const };
    expect(temperatureBadge(bad, "zh-CN")).toEqual({
      state: "excursion",
      label: "冷冻 -12.0°C",
      verdict: "温度异常",
    });
  });

  it("waits for the first reading of a chilled order", () => {
    const s = { ...initialTracking("o-1"), temperatureClass: "chilled" as const };
    expect(temperatureBadge(s, "zh-CN")).toEqual({ state: "waiting", label: "冷藏", verdict: "" });
  });
});

describe("tracking view", () => {
  it("describes a courier on the way, with the coarse note before pickup", () => {
    const s = withFrames(status("assigned", T), {
      kind: "courier",
      courierId: "c-1",
      lat: 25.04,
      lng: 102.71,
      at: T,
      coarse: true,
    });
    const view = trackingView(s, "zh-CN", T);
    expect(view.headline).toBe("骑手正赶往商家取货");
    expect(view.courier).toMatchObject({ lat: 25.04, coarse: true });
    expect(view.courierNote).toBe("骑手取货前仅显示大致位置");
    expect(view.expired).toBeNull();
  });

  it("describes an expired link", () => {
    const s = applyDownFrame(
      initialTracking("o-1"),
      { type: "error", code: "token_expired", message: "" },
      T,
    );
    expect(trackingView(s, "zh-CN", T).expired).toEqual({
      title: "链接已失效",
      reason: "订单已完成，追踪链接已过期",
      hint: "请在鲜达小程序的订单详情中查看最新状态",
    });
  });
});

describe("ETA card before the first ETA frame", () => {
  it("falls back to the time promised at checkout", () => {
    const s = { ...initialTracking("o-1"), promisedAt: T + 45 * MIN };
    expect(etaCard(s, "zh-CN", T)).toMatchObject({ text: "预计 13:15 前送达", known: false });
  });
});
