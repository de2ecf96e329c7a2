// @vitest-environment jsdom
/**
 * The tracking page fed a sequence of frames through a fake wx SocketTask (test-only), with
 * fakes for wx.request and the map context.
 */
import { join } from "node:path";
import simulate from "miniprogram-simulate";
import type { RootComponent } from "miniprogram-simulate";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { buildMiniprogram } from "../scripts/build-miniprogram.ts";

const T = Date.now();
const MIN = 60_000;

type Listener<A> = (arg: A) => void;

/** Implements the wx SocketTask methods the page uses; the test plays the gateway. */
class FakeSocketTask {
  sent: Record<string, unknown>[] = [];
  closed = false;
  private open: Listener<unknown> | null = null;
  private message: Listener<{ data: string }> | null = null;
  private close_: Listener<{ code: number; reason: string }> | null = null;
  constructor(readonly url: string) {}
  send(option: { data: string }) {
    this.sent.push(JSON.parse(option.data));
  }
  close() {
    this.closed = true;
  }
  onOpen(l: Listener<unknown>) {
    this.open = l;
  }
  onMessage(l: Listener<{ data: string }>) {
    this.message = l;
  }
  onClose(l: Listener<{ code: number; reason: string }>) {
    this.close_ = l;
  }
  onError() {}
  serverOpens() {
    this.open?.({});
  }
  serverSends(frame: object) {
    this.message?.({ data: JSON.stringify(frame) });
  }
  serverCloses(code = 1006) {
    this.close_?.({ code, reason: "" });
  }
}

function jwt(payload: object): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${b64({ alg: "HS256" })}.${b64(payload)}.sig`;
}

interface Fakes {
  sockets: FakeSocketTask[];
  requests: { url: string; header: Record<string, string> }[];
  translated: { markerId: number; destination: { latitude: number; longitude: number } }[];
  clipboard?: string;
  respond: Answer | ((url: string) => Answer);
}

interface Answer {
  statusCode: number;
  data: unknown;
  header?: Record<string, string>;
}

let root = "";
let fakes: Fakes;
type Page = RootComponent<Record<string, unknown>, Record<string, never>, Record<string, never>>;
let page: Page | null = null;

beforeAll(() => {
  root = buildMiniprogram();
});

afterEach(() => {
  page?.detach();
  page = null;
});

function openPage(token: string, respond: Fakes["respond"]) {
  fakes = { sockets: [], requests: [], translated: [], respond };
  const wx = (globalThis as unknown as { wx: Record<string, unknown> }).wx ?? {};
  Object.assign(wx, {
    connectSocket: (option: { url: string }) => {
      const task = new FakeSocketTask(option.url);
      fakes.sockets.push(task);
      return task;
    },
    request: (option: {
      url: string;
      header: Record<string, string>;
      success: (r: unknown) => void;
    }) => {
      fakes.requests.push({ url: option.url, header: option.header });
      option.success(
        typeof fakes.respond === "function" ? fakes.respond(option.url) : fakes.respond,
      );
    },
    setClipboardData: (option: { data: string; success?: () => void }) => {
      fakes.clipboard = option.data;
      option.success?.();
    },
    showToast: () => undefined,
    createMapContext: () => ({
      translateMarker: (o: Fakes["translated"][number]) => fakes.translated.push(o),
      includePoints: () => undefined,
    }),
    getAppBaseInfo: () => ({ language: "zh_CN" }),
  });
  (globalThis as unknown as { wx: unknown }).wx = wx;
  const id = simulate.load(join(root, "pages/track/index"), { rootPath: root });
  page = simulate.render(id) as Page;
  page.attach(document.createElement("parent-wrapper"));
  (page.instance as unknown as { onLoad(q: object): void }).onLoad({ token });
  return page;
}

/** Text under `selector`; "child-tag selector" looks inside that child component. */
function text(selector: string): string | null {
  const [first, ...rest] = selector.split(" ");
  const child = first && /^[a-z]+-[a-z-]+$/.test(first) ? page?.querySelector(`.${first}`) : null;
  const node = child ? child.querySelector(rest.join(" ")) : page?.querySelector(selector);
  return node?.dom?.textContent?.replace(/\s+/g, " ").trim() ?? null;
}

const data = () => page!.data as Record<string, any>;

function push(offset: number, frame: object) {
  return { type: "push", channel: "order:o-7", offset, frame };
}

describe("tracking page", () => {
  it("paints the snapshot, subscribes from its offset, and follows the courier", async () => {
    const token = jwt({ sub: "u-1", role: "shopper", ord: "o-7", exp: T / 1000 + 3600 });
    openPage(token, {
      statusCode: 200,
      data: {
        status: "assigned",
        courier: { courierId: "c-1", lat: 25.05, lng: 102.7, at: T - 2000, coarse: true },
        eta: null,
        offset: 20,
        temperatureClass: "chilled",
        destination: { lat: 25.03, lng: 102.72 },
      },
    });
    expect(fakes.requests[0]).toMatchObject({
      url: "https://api.xianda.example/v1/orders/o-7/track?coord=gcj02",
      header: { Authorization: `Bearer ${token}` },
    });
    const socket = fakes.sockets[0]!;
    expect(socket.url).toBe(
      `wss://api.xianda.example/ws/live?token=${encodeURIComponent(token)}&coord=gcj02`,
    );
    expect(text(".headline")).toBe("骑手正赶往商家取货");
    expect(text(".courier-note")).toBe("骑手取货前仅显示大致位置");
    expect(data().circles).toHaveLength(1); // coarse: an area, no route line
    expect(data().polyline).toEqual([]);
    expect(text("temp-badge .label")).toBe("冷藏");

    socket.serverOpens();
    expect(socket.sent[0]).toEqual({ type: "subscribe", channel: "order:o-7", offset: 20 });
    socket.serverSends({
      type: "welcome",
      role: "shopper",
      subject: "u-1",
      now: T,
      coord: "gcj02",
    });
    socket.serverSends({ type: "subscribed", channel: "order:o-7", offset: 20 });
    socket.serverSends(
      push(21, { kind: "status", orderId: "o-7", status: "picked_up", at: T - MIN }),
    );
    socket.serverSends(
      push(22, {
        kind: "courier",
        courierId: "c-1",
        lat: 25.045,
        lng: 102.705,
        at: T,
        coarse: false,
      }),
    );
    socket.serverSends(
      push(23, {
        kind: "eta",
        orderId: "o-7",
        leg: "to_customer",
        p50: T + 10 * MIN,
        p90: T + 16 * MIN,
        at: T,
      }),
    );
    socket.serverSends(
      push(24, {
        kind: "temperature",
        vehicleId: "v-1",
        compartmentId: "chill",
        celsius: 3.4,
        inRange: true,
        at: T,
        orderId: "o-7",
      }),
    );
    await simulate.sleep(0);
    expect(text(".headline")).toBe("骑手正在配送");
    expect(text("eta-card .eta-text")).toMatch(/^预计 \d\d:\d\d–\d\d:\d\d 送达$/);
    expect(text("eta-card .eta-minutes")).toBe("约 10 分钟");
    expect(text("temp-badge .badge")).toContain("冷藏 3.4°C");
    expect(text("temp-badge .verdict")).toBe("温度正常");
    expect(text("status-timeline .step-current .label")).toBe("配送中");
    // Exact position after pickup: a marker, the route line to the door, no area.
    const courier = data().markers.find((m: { id: number }) => m.id === 1);
    expect(courier).toMatchObject({ latitude: 25.045, longitude: 102.705, alpha: 1 });
    expect(data().polyline[0].points).toEqual([
      { latitude: 25.045, longitude: 102.705 },
      { latitude: 25.03, longitude: 102.72 },
    ]);
    expect(data().circles).toEqual([]);

    // The next fix glides the marker instead of re-setting the markers.
    socket.serverSends(
      push(25, {
        kind: "courier",
        courierId: "c-1",
        lat: 25.04,
        lng: 102.71,
        at: T + 2000,
        coarse: false,
        heading: 135,
      }),
    );
    expect(fakes.translated).toEqual([
      expect.objectContaining({
        markerId: 1,
        destination: { latitude: 25.04, longitude: 102.71 },
        rotate: 135,
      }),
    ]);
    expect(data().polyline[0].points[0]).toEqual({ latitude: 25.04, longitude: 102.71 });
  });

  it("reconnects after a drop and resumes from the last offset", async () => {
    const token = jwt({ ord: "o-7", exp: T / 1000 + 3600 });
    openPage(token, { statusCode: 200, data: { status: "picked_up", offset: 5 } });
    const first = fakes.sockets[0]!;
    first.serverOpens();
    first.serverSends({ type: "welcome", role: "shopper", subject: "u", now: T, coord: "gcj02" });
    first.serverSends(push(6, { kind: "status", orderId: "o-7", status: "at_customer", at: T }));
    first.serverCloses(1006);
    await simulate.sleep(0);
    expect(text(".banner")).toBe("网络不稳定，正在重新连接…");
    await simulate.sleep(1100); // first retry: at most 0.5 s
    const second = fakes.sockets[1]!;
    expect(second).toBeDefined();
    second.serverOpens();
    expect(second.sent[0]).toEqual({ type: "subscribe", channel: "order:o-7", offset: 6 });
    second.serverSends({ type: "subscribed", channel: "order:o-7", offset: 6 });
    second.serverSends(push(7, { kind: "status", orderId: "o-7", status: "delivered", at: T }));
    await simulate.sleep(0);
    expect(page?.querySelector(".banner")).toBeFalsy();
    expect(text(".headline")).toBe("订单已送达");
    expect(text("eta-card .eta-text")).toMatch(/^已于 \d\d:\d\d 送达$/);
  });

  it("marks an excursion the van reports, and shows the certificate after delivery", async () => {
    const token = jwt({ sub: "u-1", role: "shopper", ord: "o-7", exp: T / 1000 + 3600 });
    const certificate = {
      order: { id: "o-7", temperatureClass: "chilled" },
      compartment: { id: "chill", class: "chilled", range: { minC: 0, maxC: 4 } },
      window: { handedOffAt: T - 20 * MIN, deliveredAt: T },
      summary: {
        durationMs: 20 * MIN,
        readingCount: 12,
        minC: 2.4,
        maxC: 6.1,
        meanC: 3.2,
        excursions: [{ kind: "temperature", durationMs: 3 * MIN }],
        verdict: "excursion",
      },
      issuedAt: T,
    };
    openPage(token, (url) =>
      url.includes("/certificate")
        ? {
            statusCode: 200,
            data: certificate,
            header: { "xianda-certificate-verified": "true" },
          }
        : {
            statusCode: 200,
            data: { status: "picked_up", offset: 5, temperatureClass: "chilled" },
          },
    );
    const socket = fakes.sockets[0]!;
    socket.serverOpens();
    socket.serverSends({ type: "subscribed", channel: "order:o-7", offset: 5 });
    socket.serverSends(
      push(6, {
        kind: "temperature",
        vehicleId: "v-1",
        compartmentId: "chill",
        celsius: 6.1,
        inRange: false,
        at: T - 5 * MIN,
        orderId: "o-7",
      }),
    );
    await simulate.sleep(0);
    expect(text("temp-badge .verdict")).toBe("超出范围");
    socket.serverSends(
      push(7, {
        kind: "alert",
        id: "evt-1",
        severity: "critical",
        code: "temperature_excursion",
        message: "v-1 车厢 chill 温度超标 6.1 °C / temperature out of range",
        subject: "vehicle:v-1/chill",
        at: T - 4 * MIN,
      }),
    );
    await simulate.sleep(0);
    expect(page?.querySelector(".temp-badge")?.querySelector(".badge-excursion")).toBeTruthy();
    expect(text("temp-badge .verdict")).toBe("温度异常");
    expect(fakes.requests.some((r) => r.url.includes("/certificate"))).toBe(false);

    socket.serverSends(push(8, { kind: "status", orderId: "o-7", status: "delivered", at: T }));
    await simulate.sleep(20);
    expect(fakes.requests.at(-1)).toMatchObject({
      url: "https://api.xianda.example/v1/orders/o-7/certificate",
      header: { Authorization: `Bearer ${token}` },
    });
    expect(text(".cert-title")).toBe("冷链温度证书");
    expect(text(".cert-verdict")).toBe("途中出现温度异常");
    expect(text(".cert-check")).toBe("✓ 签名有效，与系统保存的温度记录一致");
    expect(text(".cert-lines")).toContain("超温 1 次，共 3 分 0 秒");
    page!.querySelector(".cert-copy")!.dispatchEvent("tap");
    await simulate.sleep(0);
    expect(fakes.clipboard).toBe(
      `https://api.xianda.example/v1/orders/o-7/certificate.html?lang=zh-CN&token=${encodeURIComponent(token)}`,
    );
  });

  it("shows the expired state when the gateway refuses the token", async () => {
    openPage(jwt({ ord: "o-7", exp: T / 1000 + 3600 }), {
      statusCode: 401,
      data: { code: "token_expired", message: "order delivered" },
    });
    await simulate.sleep(0);
    expect(fakes.sockets).toHaveLength(0);
    expect(text(".expired-title")).toBe("链接已失效");
    expect(text(".expired-reason")).toBe("订单已完成，追踪链接已过期");
    expect(page?.querySelector(".map")).toBeFalsy();
  });

  it("shows the expired state for a token that is not a tracking token", async () => {
    openPage("garbage", { statusCode: 200, data: {} });
    await simulate.sleep(0);
    expect(fakes.requests).toHaveLength(0);
    expect(text(".expired-reason")).toBe("此追踪链接无效");
  });
});
