/**
 * Dispatch end to end in headless Chromium against the whole live stack (NATS, an actor host with
 * the market's dispatch engine, the tracker, the gateway serving the apps):
 *
 * 1. A full order: the shop's back end creates it through the store API, the store's screen takes
 *    it on and says it is ready, the market's engine offers it to the courier on shift, who
 *    accepts in the driver app, arrives, shows the pickup code the store types in, and delivers
 *    with the shopper's PIN and a photo; the shopper's tracking page shows it delivered.
 * 2. A dispatcher drags an assigned order onto another courier in the console (with a reason);
 *    the new courier's driver app shows the job and the first courier's no longer does.
 *
 * Screenshots go to test-results/screens/dispatch-*.png.
 */
import { deflateSync } from "node:zlib";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, screenshot, until } from "../test/browser.ts";
import { KUNMING_DOOR, KUNMING_STORE, startStack } from "../test/stack.ts";
import type { Stack } from "../test/stack.ts";

interface Point {
  lat: number;
  lng: number;
}

interface DriverHook {
  state(): {
    onShift: boolean;
    gps: string;
    driverStatus: string;
    liveStatus: string;
    work: { route: Array<{ orderId: string; kind: string }>; jobs: Array<{ orderId: string }> };
    queued: Array<{ key: string; kind: string }>;
  };
}

const STORE_ID = "s-flow";
const ALL_DAY = [{ open: "00:00", close: "24:00" }];

function driver(page: Page): Promise<ReturnType<DriverHook["state"]>> {
  return page.evaluate(() =>
    (window as unknown as { __xiandaDriver: DriverHook }).__xiandaDriver.state(),
  );
}

/** A 2×2 PNG, standing in for the camera's picture (the app re-encodes it as JPEG). */
function tinyPng(): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes: Buffer) => {
    let c = 0xffffffff;
    for (const b of bytes) c = crcTable[(c ^ b) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([length, body, sum]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(2, 0);
  header.writeUInt32BE(2, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  const rows = Buffer.from([0, 18, 161, 80, 255, 255, 255, 0, 255, 255, 255, 18, 161, 80]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(rows)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

describe("dispatch end to end (Chromium, live stack)", () => {
  let stack: Stack;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    stack = await startStack();
    browser = await launchChromium();
    // The market (offers wait a minute for an answer) and the store, as an admin sets them up.
    const setUp = async (
      type: string,
      id: string,
      msg: { type: string } & Record<string, unknown>,
    ) => {
      const outcome = await stack.actors.call({ type, id }, msg, {
        by: { role: "admin", id: "admin" },
      });
      if (!outcome.ok)
        throw new Error(`${type}/${id} refused ${msg.type}: ${outcome.refusal.code}`);
    };
    await setUp("market", "km", {
      type: "configure",
      name: "五华区",
      city: "昆明",
      offerTimeoutMs: 60_000,
    });
    await setUp("store", STORE_ID, {
      type: "register",
      name: "鲜果铺南屏街店",
      marketId: "km",
      location: KUNMING_STORE,
      openHours: Object.fromEntries(["1", "2", "3", "4", "5", "6", "7"].map((d) => [d, ALL_DAY])),
    });
  }, 60_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await stack?.stop();
  });

  async function newPage(
    options: { phone?: Point } = {},
  ): Promise<{ context: BrowserContext; page: Page }> {
    const at = options.phone;
    const context = await browser.newContext({
      viewport: at ? { width: 390, height: 844 } : { width: 1366, height: 860 },
      ...(at
        ? {
            deviceScaleFactor: 2,
            isMobile: true,
            hasTouch: true,
            geolocation: { latitude: at.lat, longitude: at.lng, accuracy: 8 },
          }
        : {}),
      locale: "zh-CN",
      timezoneId: "Asia/Shanghai",
    });
    if (at) await context.grantPermissions(["geolocation"], { origin: stack.url });
    contexts.push(context);
    return { context, page: await context.newPage() };
  }

  /**
   * The courier actor's own position, which the market's engine plans from. The gateway's
   * /ws/driver publishes fixes to the tracker only, and nothing yet passes them on to the
   * courier actor (reported as a server gap): until it does, the test sends the courier's
   * position as the courier would, through the same actor message.
   */
  async function positionCourier(courierId: string, at: Point): Promise<void> {
    const outcome = await stack.actors.call(
      { type: "courier", id: courierId },
      { type: "location", lat: at.lat, lng: at.lng, at: Date.now(), accuracy: 8 },
      { by: { role: "courier", id: courierId } },
    );
    if (!outcome.ok)
      throw new Error(`courier/${courierId} refused location: ${outcome.refusal.code}`);
  }

  /** A courier's phone: signed in by link, on shift through the app, located. */
  async function courierOnShift(courierId: string, at: Point): Promise<Page> {
    const { page } = await newPage({ phone: at });
    await page.goto(`${stack.url}/driver#token=${await stack.tokens.courier(courierId)}`);
    await page.getByRole("button", { name: "上班" }).click();
    await until(`${courierId} on shift and located`, async () => {
      const s = await driver(page);
      return s.onShift && s.gps === "ok" && s.driverStatus === "open" && s.liveStatus === "open";
    });
    await positionCourier(courierId, at);
    return page;
  }

  async function api(path: string, token: string, body?: unknown) {
    const response = await fetch(`${stack.url}${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it("takes an order from the shop to the shopper's door through the store screen and the driver app", async () => {
    const courierId = "c-flow";
    const near = { lat: KUNMING_STORE.lat + 0.002, lng: KUNMING_STORE.lng - 0.002 };
    const phone = await courierOnShift(courierId, near);
    await expect(phone.locator("#route-empty").isVisible()).resolves.toBe(true);

    // The store's screen is open; the shop's back end places an order.
    const storeToken = await stack.tokens.store(STORE_ID);
    const { page: desk } = await newPage();
    await desk.goto(`${stack.url}/console#token=${storeToken}`);
    await desk.waitForSelector("#store:not([hidden])");
    const created = await api(`/v1/stores/${STORE_ID}/orders`, storeToken, {
      shopOrderId: "wx-20261122-0001",
      shopperId: "u-77",
      temperatureClass: "chilled",
      items: { summary: "2 × 云南蓝莓 125g, 1 × 鲜牛奶 950ml", count: 3 },
      amounts: { goodsFen: 6380, deliveryFeeFen: 500, discountFen: 0, totalFen: 6880 },
      dropoff: { kind: "door", location: KUNMING_DOOR },
      promisedAt: Date.now() + 45 * 60_000,
      deliveryPin: "4821",
    });
    expect(created.status).toBe(201);
    const orderId = String(created.body["orderId"]);

    // The store takes it on and says it is ready.
    const incoming = desk.locator(`#store-incoming li[data-order-id="${orderId}"]`);
    await incoming.waitFor();
    expect(await incoming.textContent()).toContain("云南蓝莓");
    await incoming.getByRole("button", { name: "接单" }).click();
    const pending = desk.locator(`#store-pending li[data-order-id="${orderId}"]`);
    await pending.waitFor();
    await screenshot(desk, "dispatch-store-preparing");
    await pending.getByRole("button", { name: "备好了" }).click();
    await until("the store to show it ready", async () =>
      ((await pending.textContent()) ?? "").includes("已备好"),
    );

    // The market's engine offers it to the courier: the offer card counts down.
    const offer = phone.locator(`.offer[data-order-id="${orderId}"]`);
    await offer.waitFor({ timeout: 20_000 });
    const seconds = Number(
      ((await offer.locator(".countdown-seconds").textContent()) ?? "").replace(/\D/g, ""),
    );
    expect(seconds).toBeGreaterThan(30);
    expect(seconds).toBeLessThanOrEqual(60);
    expect(await offer.textContent()).toContain("冷藏");
    await screenshot(phone, "dispatch-driver-offer", true);
    await offer.getByRole("button", { name: "接单" }).click();

    // Accepted: the route has the pickup first, then the drop-off; the code is on the pickup.
    const pickupStop = phone.locator(`.stop[data-order-id="${orderId}"][data-kind="pickup"]`);
    const dropoffStop = phone.locator(`.stop[data-order-id="${orderId}"][data-kind="dropoff"]`);
    await until("the route with both stops", async () => {
      const route = (await driver(phone)).work.route.filter((s) => s.orderId === orderId);
      return route.map((s) => s.kind).join(",") === "pickup,dropoff";
    });
    await until("the store to know the courier", async () =>
      ((await pending.textContent()) ?? "").includes(courierId),
    );
    await pickupStop.getByRole("button", { name: "我已到店" }).click();
    const codeElement = pickupStop.locator("[data-pickup-code]");
    const code = await until("the pickup code", async () => {
      const value = await codeElement.getAttribute("data-pickup-code");
      return value !== null && value !== "" && value;
    });
    expect(await pickupStop.textContent()).toContain("请向门店出示此取货码");
    await until("the arrival to be sent", async () => (await driver(phone)).queued.length === 0);
    await screenshot(phone, "dispatch-driver-pickup-code", true);

    // The store types in the code the courier shows; a wrong one is refused first.
    await pending.locator(".pickup-input").fill("ZZZZ99");
    await pending.getByRole("button", { name: "核销交接" }).click();
    await until("the wrong code refused", async () =>
      ((await desk.textContent("#store-message")) ?? "").includes("取货码不正确"),
    );
    await pending.locator(".pickup-input").fill(code);
    await screenshot(desk, "dispatch-store-hand-off");
    await pending.getByRole("button", { name: "核销交接" }).click();
    await pending.waitFor({ state: "detached" });

    // Picked up: only the drop-off is left. In a lift with no signal, the courier arrives and
    // proves the delivery; both actions wait in the queue, in order.
    await until("the pickup stop to be done", async () => (await pickupStop.count()) === 0);
    await phone.context().setOffline(true);
    await dropoffStop.getByRole("button", { name: "我已到达顾客处" }).click();
    await dropoffStop.locator("input.pin").fill("4821");
    await dropoffStop
      .locator('input[type="file"]')
      .setInputFiles({ name: "door.png", mimeType: "image/png", buffer: tinyPng() });
    await dropoffStop.locator("img.thumb").waitFor();
    await screenshot(phone, "dispatch-driver-proof", true);
    await dropoffStop.getByRole("button", { name: "确认送达" }).click();
    const queued = (await driver(phone)).queued;
    expect(queued.map((q) => q.kind)).toEqual(["arrived_customer", "deliver"]);
    expect(await phone.textContent("#queue-title")).toBe("离线操作 2 个，联网后按顺序自动发送");
    expect(await dropoffStop.textContent()).toContain("已记录，等待发送");
    // Kept in localStorage with their idempotency keys, for a reload (no page loads offline).
    const stored = await phone.evaluate(() => localStorage.getItem("xianda.driver.actions"));
    expect((JSON.parse(stored ?? "[]") as Array<{ key: string }>).map((q) => q.key)).toEqual(
      queued.map((q) => q.key),
    );
    await screenshot(phone, "dispatch-driver-offline-queue", true);

    // Back online: sent in order, each once; the delivery is confirmed.
    await phone.context().setOffline(false);
    await until(
      "the route to be empty",
      async () => (await driver(phone)).work.route.length === 0,
      30_000,
    );
    expect((await driver(phone)).queued).toEqual([]);
    await phone.locator("#route-empty").waitFor();
    expect(await phone.textContent("#work-message")).toContain(`送达 ${orderId}：已确认`);
    // Each queued action was applied once.
    const timeline = (await api(`/v1/stores/${STORE_ID}/orders/${orderId}`, storeToken)).body[
      "timeline"
    ] as Array<{ status: string }>;
    const statuses = timeline.map((e) => e.status);
    expect(statuses.filter((s) => s === "at_customer")).toHaveLength(1);
    expect(statuses.filter((s) => s === "delivered")).toHaveLength(1);

    // The order went through the store API, the engine, the courier and the order actor.
    const order = await api(`/v1/stores/${STORE_ID}/orders/${orderId}`, storeToken);
    expect(order.body["status"]).toBe("delivered");
    expect(order.body["courierId"]).toBe(courierId);

    // The shopper's page says delivered.
    const link = await api(`/v1/orders/${orderId}/tracking-token`, storeToken, {});
    expect(link.status).toBe(201);
    const { page: shopper } = await newPage({ phone: KUNMING_DOOR });
    await shopper.goto(`${stack.url}${String(link.body["url"])}`);
    await until("the tracking page to say delivered", async () =>
      ((await shopper.textContent("body")) ?? "").includes("已送达"),
    );
    await screenshot(shopper, "dispatch-shopper-delivered", true);
  }, 120_000);

  it("lets a dispatcher drag an order onto another courier, whose driver app then shows it", async () => {
    const first = await courierOnShift("c-first", {
      lat: KUNMING_STORE.lat - 0.003,
      lng: KUNMING_STORE.lng,
    });
    const second = await courierOnShift("c-second", {
      lat: KUNMING_STORE.lat + 0.001,
      lng: KUNMING_STORE.lng + 0.003,
    });
    const { page: console } = await newPage();
    await console.goto(`${stack.url}/console#token=${await stack.tokens.dispatcher("km")}`);
    await console.waitForSelector('.pill[data-state="open"]');

    // An order under way with the first courier (assigned, not yet picked up).
    const orderId = "o-move";
    await stack.assignedOrder({ orderId, courierId: "c-first", storeId: STORE_ID });
    await until("the first courier's app to show the job", async () =>
      (await driver(first)).work.route.some((s) => s.orderId === orderId),
    );
    const row = console.locator(`.order-row[data-order-id="${orderId}"]`);
    await until("the console to show it with the first courier", async () =>
      ((await row.textContent()) ?? "").includes("c-first"),
    );
    const target = console.locator('.courier-row[data-courier-id="c-second"]');
    await target.waitFor();
    await console
      .locator(`.route-row[data-courier-id="c-first"] [data-order-id="${orderId}"]`)
      .first()
      .waitFor();
    await screenshot(console, "dispatch-console-before");

    const dialog = console.locator("#reason-dialog");
    // Live frames re-render the lists; a row replaced in the middle of a drag drops nothing,
    // so a drag that did not open the dialog is made again (as a person would).
    for (let attempt = 1; ; attempt++) {
      await row.dragTo(target);
      try {
        await dialog.waitFor({ state: "visible", timeout: 5000 });
        break;
      } catch (err) {
        if (attempt >= 4) throw err;
      }
    }
    expect(await console.textContent("#reason-title")).toBe(
      `把订单 ${orderId} 改派给骑手 c-second`,
    );
    // A reason is required.
    await dialog.getByRole("button", { name: "确认" }).click();
    await expect(console.locator("#reason-error").isVisible()).resolves.toBe(true);
    await console.fill("#reason-input", "骑手 c-first 电动车故障");
    await screenshot(console, "dispatch-console-reason");
    await dialog.getByRole("button", { name: "确认" }).click();

    // The second courier's app shows the job with its pickup code; the first's no longer does.
    await until("the second courier's app to show the job", async () =>
      (await driver(second)).work.route.some((s) => s.orderId === orderId),
    );
    const stop = second.locator(`.stop[data-order-id="${orderId}"][data-kind="pickup"]`);
    await stop.waitFor();
    expect(await stop.locator("[data-pickup-code]").getAttribute("data-pickup-code")).toMatch(
      /^P\d{4}$/,
    );
    await until("the first courier's app to drop it", async () =>
      (await driver(first)).work.route.every((s) => s.orderId !== orderId),
    );
    await until("the console to show the second courier", async () =>
      ((await row.textContent()) ?? "").includes("c-second"),
    );
    await console
      .locator(`.route-row[data-courier-id="c-second"] [data-order-id="${orderId}"]`)
      .first()
      .waitFor();
    expect(await console.textContent("#desk-message")).toContain("改派已提交");
    await screenshot(console, "dispatch-console-after");
    await screenshot(second, "dispatch-driver-reassigned", true);

    // The market's audit trail has who, why and to whom.
    const market = await api("/v1/markets/km", await stack.tokens.dispatcher("km"));
    const audit = market.body["audit"] as Array<Record<string, unknown>>;
    expect(audit.at(-1)).toMatchObject({
      orderId,
      courierId: "c-second",
      reason: "骑手 c-first 电动车故障",
      by: { role: "dispatcher", id: "d-1" },
    });
  }, 120_000);
});
