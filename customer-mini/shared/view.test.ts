import { describe, expect, it } from "vitest";
import { applyDownFrame, initialTracking } from "./session.ts";
import type { DownFrame, PushFrame, TrackingState } from "./types.ts";
import {
  CERTIFICATE_MAX_ATTEMPTS,
  certificateAnswered,
  certificateDue,
  certificateRequested,
  printableCertificateUrl,
} from "./certificate.ts";
import { certificateCard, etaCard, temperatureBadge, timelineSteps, trackingView } from "./view.ts";

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
  const reading = (celsius: number, inRange: boolean): PushFrame => ({
    kind: "temperature",
    vehicleId: "v-1",
    compartmentId: "c",
    celsius,
    inRange,
    at: T,
  });
  const alert = (code: string, at = T): PushFrame => ({
    kind: "alert",
    id: `a-${code}-${at}`,
    severity: code.endsWith("_ended") ? "info" : "critical",
    code,
    message: "",
    subject: "vehicle:v-1/c",
    at,
  });
  const chilled = (...frames: PushFrame[]) => ({
    ...withFrames(...frames),
    temperatureClass: "chilled" as const,
  });

  it("is absent for ambient orders with no reading", () => {
    expect(temperatureBadge(initialTracking("o-1"), "zh-CN")).toBeNull();
  });

  it("shows the reading and whether it is in range", () => {
    expect(temperatureBadge(chilled(reading(2.5, true)), "zh-CN")).toEqual({
      state: "in_range",
      label: "冷藏 2.5°C",
      verdict: "温度正常",
      mark: "✓",
      note: "",
    });
  });

  it("does not call one reading out of range an excursion: the van judges that", () => {
    const bad = { ...withFrames(reading(-12, false)), temperatureClass: "frozen" as const };
    expect(temperatureBadge(bad, "zh-CN")).toMatchObject({
      state: "out_of_range",
      label: "冷冻 -12.0°C",
      verdict: "超出范围",
      mark: "!",
    });
  });

  it("turns red on the van's excursion alert, and remembers it once back in range", () => {
    const during = chilled(reading(6.8, false), alert("temperature_excursion"));
    expect(temperatureBadge(during, "zh-CN")).toMatchObject({
      state: "excursion",
      label: "冷藏 6.8°C",
      verdict: "温度异常",
    });
    const after = chilled(
      reading(6.8, false),
      alert("temperature_excursion"),
      alert("temperature_excursion_ended", T + MIN),
      { ...reading(3.2, true), at: T + MIN },
    );
    expect(temperatureBadge(after, "zh-CN")).toEqual({
      state: "in_range",
      label: "冷藏 3.2°C",
      verdict: "已恢复正常",
      mark: "✓",
      note: "配送途中曾出现温度异常，送达后可查看冷链温度证书",
    });
    expect(temperatureBadge(during, "en")).toMatchObject({ verdict: "temperature excursion" });
  });

  it("says when the sensor went silent, and ignores alerts that are not the cold chain's", () => {
    expect(
      temperatureBadge(chilled(reading(3, true), alert("sensor_silent")), "zh-CN"),
    ).toMatchObject({ state: "silent", verdict: "温度数据中断" });
    expect(temperatureBadge(chilled(reading(3, true), alert("order_late")), "zh-CN")).toMatchObject(
      { state: "in_range", verdict: "温度正常" },
    );
  });

  it("waits for the first reading of a chilled order", () => {
    const s = { ...initialTracking("o-1"), temperatureClass: "chilled" as const };
    expect(temperatureBadge(s, "zh-CN")).toEqual({
      state: "waiting",
      label: "冷藏",
      verdict: "",
      mark: "",
      note: "",
    });
  });
});

describe("certificate card", () => {
  const document = {
    order: { id: "o-1", temperatureClass: "chilled" },
    compartment: { id: "c", class: "chilled", range: { minC: 0, maxC: 4 } },
    window: { handedOffAt: T, deliveredAt: T + 18 * MIN + 30_000 },
    summary: {
      durationMs: 18 * MIN + 30_000,
      readingCount: 42,
      minC: 2.1,
      maxC: 5.2,
      meanC: 3.04,
      excursions: [{ kind: "temperature", durationMs: 130_000 }],
      verdict: "excursion",
    },
    issuedAt: T + 19 * MIN,
  };
  const delivered = {
    ...withFrames(status("delivered", T + 18 * MIN)),
    temperatureClass: "chilled" as const,
  };

  it("is asked for once a chilled order is delivered, and again while it is being issued", () => {
    expect(certificateDue({ ...delivered, status: "picked_up" }, T)).toBe(false);
    expect(certificateDue({ ...delivered, temperatureClass: "ambient" }, T)).toBe(false);
    expect(certificateDue(delivered, T)).toBe(true);
    const asked = certificateRequested(delivered);
    expect(certificateDue(asked, T)).toBe(false);
    expect(certificateCard(asked, "zh-CN")).toMatchObject({
      state: "loading",
      note: "正在生成冷链温度证书…",
    });
    const notYet = certificateAnswered(
      asked,
      404,
      { error: { code: "certificate_not_found", message: "" } },
      null,
      T,
    );
    expect(notYet.certificate).toEqual({ status: "pending", attempts: 1, retryAt: T + 3_000 });
    expect(certificateDue(notYet, T + 2_999)).toBe(false);
    expect(certificateDue(notYet, T + 3_000)).toBe(true);
    const none = certificateAnswered(
      asked,
      404,
      { error: { code: "not_certified", message: "" } },
      null,
      T,
    );
    expect(certificateCard(none, "zh-CN")).toBeNull();
    expect(certificateDue(none, T + 60_000)).toBe(false);
  });

  it("shows the verdict, the gateway's check and a summary", () => {
    const ready = certificateAnswered(certificateRequested(delivered), 200, document, "true", T);
    expect(certificateCard(ready, "zh-CN")).toEqual({
      state: "ready",
      title: "冷链温度证书",
      verdict: "途中出现温度异常",
      verdictState: "excursion",
      check: "✓ 签名有效，与系统保存的温度记录一致",
      checkState: "verified",
      lines: [
        "要求温度 0.0°C 至 4.0°C",
        "装车至送达 18 分 30 秒",
        "实测 2.1°C 至 5.2°C，平均 3.0°C",
        "温度记录 42 条",
        "超温 1 次，共 2 分 10 秒",
        "签发于 12:49（北京时间）",
      ],
      linkLabel: "查看 / 打印完整证书",
      note: "",
    });
    const tampered = certificateAnswered(delivered, 200, document, "false", T);
    expect(certificateCard(tampered, "en")).toMatchObject({
      checkState: "failed",
      check: "✗ Not verified: the certificate no longer matches the stored temperature records",
    });
    expect(trackingView(ready, "zh-CN", T).certificate?.verdict).toBe("途中出现温度异常");
  });

  it("gives up after a minute and on refusals", () => {
    let s: TrackingState = delivered;
    for (let i = 0; i < CERTIFICATE_MAX_ATTEMPTS; i++) {
      s = certificateAnswered(
        certificateRequested(s),
        404,
        { error: { code: "certificate_not_found" } },
        null,
        T,
      );
    }
    expect(s.certificate).toMatchObject({ status: "failed", retryAt: null });
    expect(certificateCard(s, "zh-CN")).toMatchObject({
      state: "failed",
      note: "证书暂时无法获取，请稍后刷新页面",
    });
    const refused = certificateAnswered(delivered, 403, { error: { code: "forbidden" } }, null, T);
    expect(certificateDue(refused, T + 3_600_000)).toBe(false);
  });

  it("builds the printable link with the token and language", () => {
    expect(printableCertificateUrl("https://gw", "o-1", "a.b.c", "en")).toBe(
      "https://gw/v1/orders/o-1/certificate.html?lang=en&token=a.b.c",
    );
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
