/**
 * The driver app in headless Chromium against the whole live stack: a courier signs in, goes on
 * shift and rides a path with emulated geolocation; the dispatcher console shows the marker
 * move. Also the offline queue across a dropped connection and a refusal in the courier's words.
 * Screenshots go to test-results/screens/.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchChromium, screenshot, sleep, until } from "../test/browser.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KUNMING_STORE, startStack } from "../test/stack.ts";
import type { Stack } from "../test/stack.ts";

interface Point {
  lat: number;
  lng: number;
}

interface ConsoleHook {
  markers(): Array<{ courierId: string; lat: number; lng: number }>;
  couriers(): Array<{ courierId: string; lat: number; lng: number }>;
}

interface DriverState {
  signedIn: boolean;
  onShift: boolean;
  driverStatus: string;
  gps: string;
  lastFix: { lat: number; lng: number } | null;
  counts: { accepted: number; rejected: number; queued: number; sent: number } | null;
}

/** From the store near 南屏街 toward 翠湖: ~6 m a step, a brisk e-bike at 300 ms a step. */
function ride(from: Point, steps: number): Point[] {
  return Array.from({ length: steps }, (_, i) => ({
    lat: from.lat + i * 0.00004,
    lng: from.lng - i * 0.00004,
  }));
}

function driverState(page: Page): Promise<DriverState> {
  return page.evaluate(() =>
    (window as unknown as { __xiandaDriver: { state(): DriverState } }).__xiandaDriver.state(),
  );
}

describe("driver app (Chromium, live stack)", () => {
  let stack: Stack;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    stack = await startStack();
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await stack?.stop();
  });

  async function phone(start: Point): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({
      viewport: { width: 360, height: 740 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      locale: "zh-CN",
      timezoneId: "Asia/Shanghai",
      geolocation: { latitude: start.lat, longitude: start.lng, accuracy: 8 },
    });
    await context.grantPermissions(["geolocation"], { origin: stack.url });
    contexts.push(context);
    return { context, page: await context.newPage() };
  }

  /** A courier phone signed in through the link and on shift at `start`. */
  async function onShift(courierId: string, start: Point) {
    const { context, page } = await phone(start);
    await page.goto(`${stack.url}/driver#token=${await stack.tokens.courier(courierId)}`);
    await page.getByRole("button", { name: "上班" }).click();
    await until("on shift and located", async () => {
      const s = await driverState(page);
      return s.onShift && s.gps === "ok" && s.driverStatus === "open" && s;
    });
    return { context, page };
  }

  it("signs in, goes on shift and streams a path that the console shows moving", async () => {
    const path10 = ride(KUNMING_STORE, 10);
    const start = path10[0]!;

    // The dispatcher is watching first.
    const desk = await browser.newContext({
      viewport: { width: 1280, height: 800 },
      locale: "zh-CN",
      timezoneId: "Asia/Shanghai",
    });
    contexts.push(desk);
    const console = await desk.newPage();
    await console.goto(`${stack.url}/console#token=${await stack.tokens.dispatcher("km")}`);
    await console.waitForSelector('.pill[data-state="open"]');

    // The courier pastes the token on the sign-in screen.
    const { context, page } = await phone(start);
    await page.goto(`${stack.url}/driver`);
    await expect(page.getByRole("heading", { name: "骑手登录" }).isVisible()).resolves.toBe(true);
    await screenshotFull(page, "driver-login");
    await page.fill("#login-token", await stack.tokens.courier("c-path"));
    await page.getByRole("button", { name: "登录" }).click();
    await page.waitForSelector("#home:not([hidden])");
    expect(await page.textContent("#who-courier")).toBe("c-path");
    expect(await page.textContent("#who-market")).toBe("昆明");
    expect(await page.textContent("#shift-text")).toBe("未上班");

    await page.getByRole("button", { name: "上班" }).click();
    await until("the shift to start", async () => (await driverState(page)).onShift);
    expect(await page.textContent("#shift-text")).toContain("上班中");
    expect(await page.getByRole("button", { name: "下班" }).isVisible()).toBe(true);

    // Ride the path, one fix every 300 ms, while sampling the console's marker.
    const seen: Point[] = [];
    const sample = async () => {
      const marker = await console.$('[data-courier-id="c-path"]');
      if (marker === null) return;
      const lat = Number(await marker.getAttribute("data-lat"));
      const lng = Number(await marker.getAttribute("data-lng"));
      const last = seen.at(-1);
      if (last === undefined || last.lat !== lat || last.lng !== lng) seen.push({ lat, lng });
    };
    for (const point of path10) {
      await context.setGeolocation({ latitude: point.lat, longitude: point.lng, accuracy: 8 });
      await sleep(150);
      await sample();
      await sleep(150);
      await sample();
    }
    const end = path10.at(-1)!;
    // The gateway smooths GPS jitter, so the last position trails the last fix by a few metres.
    const near = (p: Point | undefined) =>
      p !== undefined && Math.abs(p.lat - end.lat) < 1.5e-4 && Math.abs(p.lng - end.lng) < 1.5e-4;
    await until("the console to show the courier at the end of the path", async () => {
      await sample();
      return near(seen.at(-1));
    });

    // The driver app saw every fix accepted and shows where it is.
    const state = await until("acks for the path", async () => {
      const s = await driverState(page);
      return (s.counts?.accepted ?? 0) >= path10.length && s;
    });
    expect(state.counts).toMatchObject({ rejected: 0, queued: 0 });
    expect(state.lastFix?.lat).toBeCloseTo(end.lat, 6);
    expect(Number(await page.textContent("#stat-accepted"))).toBeGreaterThanOrEqual(10);
    expect(await page.textContent("#conn")).toBe("已连接");

    // The console's marker moved north-west through several positions, never backwards.
    expect(seen.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i]!.lat).toBeGreaterThanOrEqual(seen[i - 1]!.lat);
      expect(seen[i]!.lng).toBeLessThanOrEqual(seen[i - 1]!.lng);
    }
    // The drawn marker (which glides) arrives where the last report says.
    await until("the marker to finish gliding", () =>
      console.evaluate(() => {
        const hook = (window as unknown as { __xiandaConsole: ConsoleHook }).__xiandaConsole;
        const drawn = hook.markers().find((m) => m.courierId === "c-path");
        const known = hook.couriers().find((c) => c.courierId === "c-path");
        return drawn !== undefined && known !== undefined && Math.abs(drawn.lat - known.lat) < 1e-9;
      }),
    );
    const row = console.locator('.courier-row[data-courier-id="c-path"]');
    await expect(row.textContent()).resolves.toMatch(/c-path.*(刚刚|秒前)/);

    await screenshotFull(page, "driver-on-shift");
    await screenshotFull(console, "console-live");
  }, 90_000);

  it("keeps fixes taken while disconnected and sends them on reconnect", async () => {
    const points = ride({ lat: 25.0452, lng: 102.7101 }, 6);
    const { context, page } = await onShift("c-offline", points[0]!);
    const before = await until("the first fix acked", async () => {
      const s = await driverState(page);
      return (s.counts?.accepted ?? 0) >= 1 && s;
    });

    // Lose the network for 4 s and keep riding.
    await page.evaluate(() =>
      (
        window as unknown as { __xiandaDriver: { dropConnection(ms: number): void } }
      ).__xiandaDriver.dropConnection(4_000),
    );
    for (const point of points.slice(1, 4)) {
      await context.setGeolocation({ latitude: point.lat, longitude: point.lng, accuracy: 8 });
      await sleep(300);
    }
    const offline = await driverState(page);
    expect(offline.driverStatus).toBe("waiting");
    expect(offline.counts?.queued).toBe(3);
    expect(await page.textContent("#stat-queued")).toBe("3");
    expect(await page.textContent("#conn")).toMatch(/已断开，\d+ 秒后重连/);
    await screenshotFull(page, "driver-offline");

    const after = await until("the queue to be sent and acked", async () => {
      const s = await driverState(page);
      return (
        s.counts?.queued === 0 &&
        (s.counts?.accepted ?? 0) >= (before.counts?.accepted ?? 0) + 3 &&
        s
      );
    });
    expect(after.counts?.rejected).toBe(0);
    expect(after.driverStatus).toBe("open");
  }, 60_000);

  it("says in Chinese why the shift cannot end while an order is in hand", async () => {
    const { page } = await onShift("c-busy", KUNMING_STORE);
    await stack.assignedOrder({ orderId: "o-busy", courierId: "c-busy" });
    await stack.pickUp("o-busy");

    await page.getByRole("button", { name: "下班" }).click();
    const message = page.locator("#shift-message");
    await message.waitFor({ state: "visible" });
    expect(await message.textContent()).toBe("还有未完成的订单，暂不能下班");
    expect((await driverState(page)).onShift).toBe(true);
    await screenshotFull(page, "driver-refusal");

    // The same screen in English.
    await page.getByRole("button", { name: "EN" }).click();
    expect(await message.textContent()).toBe("You still have unfinished orders");
    expect(await page.textContent("#shift-text")).toBe("On shift · sharing location");
    await screenshotFull(page, "driver-refusal-en");
  }, 60_000);

  it("shows the shopper masked and the address only while the order is the courier's", async () => {
    const admin = { role: "admin", id: "admin" } as const;
    const setup = async (
      type: string,
      id: string,
      msg: Record<string, unknown> & { type: string },
    ) => {
      const outcome = await stack.actors.call({ type, id }, msg, { by: admin });
      expect(outcome, JSON.stringify(outcome)).toMatchObject({ ok: true });
    };
    // A market of its own without automatic dispatch: the order goes to this courier by hand.
    await setup("market", "km-pii", {
      type: "configure",
      name: "翠湖",
      city: "昆明",
      autoDispatch: false,
    });
    await setup("store", "s-pii", {
      type: "register",
      name: "鲜果铺",
      marketId: "km-pii",
      location: KUNMING_STORE,
      openHours: Object.fromEntries(
        ["1", "2", "3", "4", "5", "6", "7"].map((d) => [d, [{ open: "00:00", close: "24:00" }]]),
      ),
    });
    const { page } = await phone(KUNMING_STORE);
    await page.goto(`${stack.url}/driver#token=${await stack.tokens.courier("c-pii", "km-pii")}`);
    await page.getByRole("button", { name: "上班" }).click();
    await until("on shift", async () => (await driverState(page)).onShift);

    const store = await stack.tokens.store("s-pii");
    const placed = await fetch(`${stack.url}/v1/stores/s-pii/orders`, {
      method: "POST",
      headers: { authorization: `Bearer ${store}`, "content-type": "application/json" },
      body: JSON.stringify({
        shopOrderId: "wx-pii-1",
        temperatureClass: "ambient",
        items: { summary: "1 × 鲜牛奶", count: 1 },
        amounts: { goodsFen: 1000, deliveryFeeFen: 500, discountFen: 0, totalFen: 1500 },
        dropoff: { kind: "door", location: { lat: 25.0475, lng: 102.7065 } },
        promisedAt: Date.now() + 45 * 60_000,
        deliveryPin: "4321",
        contact: {
          name: "张三",
          phone: "13812341234",
          address: "云南省昆明市五华区翠湖南路12号3栋502",
          doorNote: "放门口",
        },
      }),
    });
    expect(placed.status).toBe(201);
    const { orderId } = (await placed.json()) as { orderId: string };
    const accepted = await fetch(`${stack.url}/v1/stores/s-pii/orders/${orderId}/accept`, {
      method: "POST",
      headers: { authorization: `Bearer ${store}` },
    });
    expect(accepted.status).toBe(202);
    await until("accepted", async () => {
      const { view } = await stack.actors.state<{ status: string }>({ type: "order", id: orderId });
      return view.status === "accepted";
    });
    await setup("order", orderId, { type: "assign", courierId: "c-pii" });

    const contact = page.locator(`li.stop.kind-dropoff[data-order-id="${orderId}"] .contact`);
    await contact.waitFor({ state: "visible", timeout: 15_000 });
    expect(await contact.locator(".contact-who").textContent()).toBe("收货人 张* · 138****1234");
    expect(await contact.locator(".contact-address").textContent()).toBe(
      "地址：云南省昆明市五华区翠湖南路12号3栋502",
    );
    expect(await contact.locator(".contact-note").textContent()).toBe("备注：放门口");
    expect(await page.content()).not.toContain("13812341234");
    // Nothing of it is written to the phone's storage.
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }));
    expect(stored).not.toContain("翠湖南路");
    expect(stored).not.toContain("张*");
    await screenshotFull(page, "driver-contact");

    // Cancelled: the job and its address leave the screen.
    await setup("order", orderId, { type: "cancel", reason: "shopper_request" });
    await until("the address gone", async () => !(await page.content()).includes("翠湖南路"));
    expect(await page.locator(".contact").count()).toBe(0);
  }, 60_000);
});

function screenshotFull(page: Page, name: string): Promise<void> {
  return screenshot(page, name, true);
}
