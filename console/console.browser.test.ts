/**
 * The dispatcher console in headless Chromium against the whole live stack: sign-in, the market's
 * couriers (markers, side panel, H3 supply shading), vans and alerts from the market channel, and
 * no alert lost or repeated across a dropped connection (resume by offset); the market's open
 * orders (panel, late badge, KPIs), store markers and demand / balance shading from `order` frames. Screenshots go to
 * test-results/screens/. The courier moving live from a driver app is in
 * driver-app/driver.browser.test.ts.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchChromium, screenshot, sleep, until } from "../test/browser.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PushFrame } from "../protocol/index.ts";
import { startStack } from "../test/stack.ts";
import type { Stack } from "../test/stack.ts";

interface ConsoleHook {
  state(): { status: string; frames: number; alerts: number };
  markers(): Array<{ courierId: string; lat: number; lng: number }>;
  orders(): Array<{ orderId: string; status: string; storeId?: string }>;
  dropConnection(holdMs: number): void;
}

function hook<T>(page: Page, read: (hook: ConsoleHook) => T): Promise<T> {
  return page.evaluate(`(${read.toString()})(window.__xiandaConsole)`) as Promise<T>;
}

describe("dispatcher console (Chromium, live stack)", () => {
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

  async function desk(): Promise<Page> {
    const context = await browser.newContext({
      viewport: { width: 1280, height: 800 },
      locale: "zh-CN",
      timezoneId: "Asia/Shanghai",
    });
    contexts.push(context);
    return context.newPage();
  }

  /** Publishes a push frame on the market's channel, as the tracker and alerting do. */
  async function push(frame: PushFrame): Promise<void> {
    stack.nc.publish(stack.topology.subjects.push("market", "km"), JSON.stringify(frame));
    await stack.nc.flush();
  }

  it("asks for a dispatcher token and refuses a courier's", async () => {
    const page = await desk();
    await page.goto(`${stack.url}/console`);
    await page.getByRole("heading", { name: "调度员登录" }).waitFor();
    await page.fill("#login-token", await stack.tokens.courier("c-1"));
    await page.getByRole("button", { name: "登录" }).click();
    expect(await page.textContent("#login-error")).toBe("这不是调度员或门店令牌");
    await screenshot(page, "console-login");

    await page.fill("#login-token", await stack.tokens.dispatcher("km"));
    await page.getByRole("button", { name: "登录" }).click();
    await page.waitForSelector('#conn[data-state="open"]');
    expect(await page.textContent("#market")).toBe("昆明");
    expect(await page.textContent("#conn")).toBe("实时连接正常");
  });

  it("shows couriers, supply, vans and alerts, and loses no alert across a reconnect", async () => {
    const page = await desk();
    await page.goto(`${stack.url}/console#token=${await stack.tokens.dispatcher("km")}`);
    await page.waitForSelector('#conn[data-state="open"]');

    const now = Date.now();
    // Couriers around 五华 and 盘龙: three share a cell near 东风广场.
    const couriers = [
      { courierId: "c-101", lat: 25.0406, lng: 102.7123, status: "busy" },
      { courierId: "c-102", lat: 25.0409, lng: 102.7129, status: "idle" },
      { courierId: "c-103", lat: 25.0401, lng: 102.7118, status: "offered" },
      { courierId: "c-104", lat: 25.0475, lng: 102.7065, status: "busy" },
      { courierId: "c-105", lat: 25.0552, lng: 102.7211, status: "idle" },
      { courierId: "c-106", lat: 25.0318, lng: 102.7302, status: "busy" },
      { courierId: "c-107", lat: 25.0263, lng: 102.7001, status: "idle" },
      { courierId: "c-108", lat: 25.0621, lng: 102.6953, status: "offline" },
    ].map((c, i) => ({ ...c, at: now - i * 7_000 }));
    await push({ kind: "couriers", marketId: "km", couriers, at: now });
    await push({
      kind: "temperature",
      vehicleId: "van-3",
      compartmentId: "冷藏",
      celsius: 6.8,
      inRange: false,
      at: now,
    });
    await push({
      kind: "temperature",
      vehicleId: "van-1",
      compartmentId: "冷冻",
      celsius: -19.5,
      inRange: true,
      at: now,
    });
    await push({
      kind: "alert",
      id: "a-1",
      severity: "critical",
      code: "excursion",
      message: "冷藏仓温度 6.8°C，已超出 0–4°C 超过 5 分钟",
      subject: "van-3",
      at: now - 60_000,
    });

    await page.waitForSelector('.courier-row[data-courier-id="c-108"]');
    const markers = await hook(page, (h) => h.markers());
    expect(markers.map((m) => m.courierId).sort()).toEqual(couriers.map((c) => c.courierId));
    const rows = page.locator(".courier-row");
    expect(await rows.count()).toBe(8);
    // Offers first, then deliveries, idle, off shift.
    expect(await rows.first().getAttribute("data-courier-id")).toBe("c-103");
    expect(await rows.last().getAttribute("data-courier-id")).toBe("c-108");
    expect(await rows.last().textContent()).toMatch(/已下班.*c-108.*秒前/);
    expect(await page.textContent("#sum-active")).toBe("7");
    expect(await page.textContent("#sum-busy")).toBe("4");
    // Supply: off-shift couriers are not supply; three couriers share one res-8 cell.
    const cells = page.locator("path.supply-cell");
    expect(await cells.count()).toBe(5);
    expect(await page.locator("path.supply-cell.level-3").count()).toBe(1);
    await page.waitForSelector(".van-row");
    expect(await page.locator(".van-row").first().textContent()).toContain("温度超标");
    await page.waitForSelector('[data-alert-id="a-1"]');

    // The network drops; two alerts are published meanwhile; the console resumes after its
    // last offset and shows both, once.
    await hook(page, (h) => h.dropConnection(2_500));
    await until(
      "the console to notice",
      async () => (await hook(page, (h) => h.state().status)) === "waiting",
    );
    await push({
      kind: "alert",
      id: "a-2",
      severity: "warning",
      code: "order_late",
      message: "订单 o-2291 预计晚到 12 分钟",
      subject: "o-2291",
      at: Date.now(),
    });
    await push({
      kind: "alert",
      id: "a-3",
      severity: "info",
      code: "store_delay",
      message: "鲜果铺（南屏街店）备货延迟约 5 分钟",
      subject: "s-1",
      at: Date.now() + 1,
    });
    expect(await page.textContent("#conn")).toMatch(/已断开，\d+ 秒后重连/);
    await page.waitForSelector('[data-alert-id="a-2"]', { timeout: 10_000 });
    await page.waitForSelector('[data-alert-id="a-3"]');
    await page.waitForSelector('#conn[data-state="open"]');
    expect(
      await page
        .locator(".alert-row")
        .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-alert-id"))),
    ).toEqual(["a-3", "a-2", "a-1"]);
    expect(await page.textContent("#sum-alerts")).toBe("3");
    await screenshot(page, "console-fleet");

    await page.getByRole("button", { name: "EN" }).click();
    expect(await page.textContent("#conn")).toBe("Live");
    expect(await rows.first().textContent()).toContain("Offer pending");
    await screenshot(page, "console-fleet-en");
  }, 60_000);

  it("lists open orders by promised time, flags late ones, and maps stores and demand", async () => {
    const page = await desk();
    await page.goto(`${stack.url}/console#token=${await stack.tokens.dispatcher("km")}`);
    await page.waitForSelector('#conn[data-state="open"]');

    const now = Date.now();
    const min = 60_000;
    const stores = {
      "s-nanping": { lat: 25.0395, lng: 102.7105 },
      "s-cuihu": { lat: 25.049, lng: 102.704 },
      "s-guandu": { lat: 25.021, lng: 102.735 },
    } as const;
    await push({
      kind: "couriers",
      marketId: "km",
      couriers: [
        { courierId: "c-201", lat: 25.0402, lng: 102.7112, at: now, status: "busy" },
        { courierId: "c-202", lat: 25.045, lng: 102.709, at: now, status: "busy" },
        { courierId: "c-203", lat: 25.0212, lng: 102.7352, at: now, status: "idle" },
        { courierId: "c-204", lat: 25.0213, lng: 102.7349, at: now, status: "idle" },
      ],
      at: now,
    });
    const order = (
      orderId: string,
      storeId: keyof typeof stores,
      promisedIn: number,
      temperatureClass: "ambient" | "chilled" | "frozen" = "ambient",
    ): PushFrame => ({
      kind: "order",
      orderId,
      marketId: "km",
      status: "created",
      at: now - 20 * min,
      courierId: null,
      storeId,
      temperatureClass,
      promisedAt: now + promisedIn * min,
      pickup: stores[storeId],
      dropoff: { lat: stores[storeId].lat + 0.008, lng: stores[storeId].lng - 0.006 },
    });
    const change = (orderId: string, status: string, ago: number, courierId: string | null) =>
      push({ kind: "order", orderId, marketId: "km", status, at: now - ago * min, courierId });

    await push(order("o-3001", "s-nanping", 25, "chilled"));
    await push(order("o-3002", "s-nanping", -3));
    await push(order("o-3003", "s-cuihu", 35, "frozen"));
    await push(order("o-3004", "s-cuihu", 15));
    await push(order("o-3005", "s-guandu", 45));
    await push(order("o-3006", "s-guandu", 5));
    await change("o-3002", "assigned", 10, "c-201");
    await change("o-3003", "preparing", 5, null);
    await change("o-3004", "picked_up", 4, "c-202");
    await change("o-3005", "ready", 2, null);
    await change("o-3006", "delivered", 1, "c-203");

    await page.waitForSelector('.order-row[data-order-id="o-3006"].finished');
    await page.waitForSelector('.order-row[data-order-id="o-3005"][data-status="ready"]');
    const ids = await page
      .locator(".order-row")
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-order-id")));
    // Soonest promise first (the late one), the delivered one greyed at the end.
    expect(ids).toEqual(["o-3002", "o-3004", "o-3001", "o-3003", "o-3005", "o-3006"]);
    const late = page.locator('.order-row[data-order-id="o-3002"]');
    expect(await late.getAttribute("class")).toContain("late");
    expect(await late.locator(".badge.late").textContent()).toBe("超时");
    expect(await late.textContent()).toMatch(
      /骑手已接单.*o-3002.*门店 s-nanping.*已超 3 分钟.*c-201/,
    );
    expect(await page.locator(".badge.late").count()).toBe(1);
    const cold = page.locator('.order-row[data-order-id="o-3001"]');
    expect(await cold.locator(".badge.cold").textContent()).toBe("❄ 冷藏");
    expect(await cold.textContent()).toContain("待派骑手");
    expect(await page.locator('.order-row[data-order-id="o-3003"] .badge.cold').textContent()).toBe(
      "❄ 冷冻",
    );
    expect(await page.locator('.order-row[data-order-id="o-3004"]').textContent()).toContain(
      "已取货",
    );
    expect(await page.locator('.order-row[data-order-id="o-3006"]').textContent()).toContain(
      "已送达",
    );
    expect(await page.textContent("#order-count")).toBe("(5)");
    expect(await page.textContent("#sum-waiting")).toBe("3");
    expect(await page.textContent("#sum-delivering")).toBe("2");
    expect(await page.textContent("#sum-late")).toBe("1");
    expect(await page.textContent("#sum-delivered")).toBe("1");

    // One marker per store, labelled with its id, counting the orders waiting there.
    await page.waitForSelector('.store-icon[data-store-id="s-guandu"]');
    expect(await page.locator(".store-icon").count()).toBe(3);
    expect(await page.locator('.store-icon[data-store-id="s-nanping"]').textContent()).toBe(
      "店s-nanping2",
    );
    // Demand: orders still at a store (o-3004 is picked up, o-3006 delivered), per res-8 cell.
    expect(await page.locator("path.demand-cell").count()).toBe(3);
    expect(await page.locator("path.demand-cell.level-2").count()).toBe(1);
    expect(await page.locator("path.supply-cell").count()).toBeGreaterThan(0);
    // Couriers are coloured by the status the tracker sends.
    expect(
      await page
        .locator('.courier-icon[data-courier-id="c-203"] .courier-marker')
        .getAttribute("class"),
    ).toContain("status-idle");
    expect(
      await page
        .locator('.courier-icon[data-courier-id="c-201"] .courier-marker')
        .getAttribute("class"),
    ).toContain("status-busy");
    await screenshot(page, "console-orders");

    // The balance view: the store with orders and no idle courier is short, the one with two
    // idle couriers and one order has spare.
    await page.getByRole("button", { name: "供需差" }).click();
    expect(await page.locator("path.demand-cell").count()).toBe(0);
    expect(await page.locator("path.supply-cell").count()).toBe(0);
    expect(await page.locator("path.balance-cell.short").count()).toBeGreaterThan(0);
    expect(await page.locator("path.balance-cell.spare").count()).toBeGreaterThan(0);
    expect(await page.locator('.legend-block[data-for="balance"]').isVisible()).toBe(true);
    await screenshot(page, "console-orders-balance");

    // A later frame moves an order on.
    await change("o-3001", "assigned", 0, "c-204");
    await page.waitForSelector('.order-row[data-order-id="o-3001"][data-status="assigned"]');
    expect(await page.locator('.order-row[data-order-id="o-3001"]').textContent()).toContain(
      "c-204",
    );
  }, 60_000);
});
