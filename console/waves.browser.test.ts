/**
 * The wave plan in the dispatcher console (headless Chromium, live stack): a wave of orders from
 * two stores to five pickup points is planned at its cut-off by the host's planner; the console
 * opened with `?wave=` draws each van's route on the map and lists its stops; a drop-off stop
 * dragged onto an unused van is moved (the new cost is shown), a drag onto a locked van is
 * refused with the reason, and a re-plan is asked for. Screenshot in test-results/screens/.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WaveView } from "../actors/index.ts";
import { launchChromium, screenshot, until } from "../test/browser.ts";
import { waitFor } from "../test/nats-helpers.ts";
import { startStack } from "../test/stack.ts";
import type { Stack } from "../test/stack.ts";

const MIN = 60_000;

describe("wave plan in the console (Chromium, live stack)", () => {
  let stack: Stack;
  let browser: Browser;

  beforeAll(async () => {
    stack = await startStack({ wavePlanMs: 1000 });
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  async function plannedWave(): Promise<string> {
    const admin = { role: "admin" as const, id: "admin" };
    const dispatcher = { role: "dispatcher" as const, id: "d-1" };
    const stores = [
      { id: "cs-1", at: { lat: 25.043, lng: 102.705 } },
      { id: "cs-2", at: { lat: 25.03, lng: 102.725 } },
    ];
    const allDay = [{ open: "00:00", close: "24:00" }];
    for (const s of stores) {
      const registered = await stack.actors.call(
        { type: "store", id: s.id },
        {
          type: "register",
          name: s.id,
          marketId: "km",
          location: s.at,
          openHours: Object.fromEntries(
            ["1", "2", "3", "4", "5", "6", "7"].map((d) => [d, allDay]),
          ),
        },
        { by: admin },
      );
      expect(registered.ok).toBe(true);
    }
    const now = Date.now();
    const departAt = now + 60 * MIN;
    const names = ["翠湖驿站", "东风广场", "金碧社区", "篆新农贸", "北京路站"];
    const points = names.map((name, i) => ({
      id: `cp-${i + 1}`,
      name,
      location: { lat: 25.02 + 0.012 * i, lng: 102.69 + 0.011 * ((i * 2) % 5) },
      opensAt: departAt,
      closesAt: departAt + 8 * 60 * MIN,
      capacity: 50,
      chilledShelf: true,
      staffIds: [`staff-cp-${i + 1}`],
    }));
    const waveId = "km-20261122-am";
    const opened = await stack.actors.call(
      { type: "wave", id: waveId },
      {
        type: "open",
        marketId: "km",
        cutoffAt: now + 3_000,
        departAt,
        // Two hours on the road: the plan needs several vans, and one stays unused.
        horizonAt: departAt + 100 * MIN,
        depot: { lat: 25.035, lng: 102.71 },
        fleet: {
          vans: ["v-a", "v-b", "v-c", "v-d", "v-e", "v-f"].map((v, i) => ({
            vehicleId: v,
            courierId: `cc-${i + 1}`,
          })),
          capacity: { weightKg: 120, volumeL: 2000 },
          compartments: { frozen: 200, chilled: 600 },
        },
        pickupPoints: points,
      },
      { by: dispatcher },
    );
    expect(opened.ok).toBe(true);
    for (let i = 0; i < 40; i++) {
      const store = stores[i % 2]!;
      const joined = await stack.actors.call(
        { type: "wave", id: waveId },
        {
          type: "join",
          orderId: `wo-${i}`,
          storeId: store.id,
          pickup: store.at,
          destination: { kind: "pickup_point", pickupPointId: `cp-${(i % 5) + 1}` },
          load: { weightKg: 10, volumeL: 20 },
          temperatureClass: i % 3 === 0 ? "chilled" : "ambient",
          pickupCode: `C${1000 + i}`,
        },
        { by: { role: "system", id: "shop" } },
      );
      expect(joined.ok).toBe(true);
    }
    await waitFor(
      "the wave's plan",
      async () => {
        const { view } = await stack.actors.state<WaveView>({ type: "wave", id: waveId });
        return view.plan !== null && view.pending === null;
      },
      20_000,
    );
    return waveId;
  }

  async function consolePage(waveId: string): Promise<Page> {
    const context = await browser.newContext({
      viewport: { width: 1400, height: 900 },
      locale: "zh-CN",
      timezoneId: "Asia/Shanghai",
    });
    const page = await context.newPage();
    await page.goto(
      `${stack.url}/console?wave=${waveId}#token=${await stack.tokens.dispatcher("km")}`,
    );
    await page.waitForSelector("#wave-panel .wave-van");
    return page;
  }

  it("draws the plan, moves a stop with the new cost, refuses a locked van with the reason, and re-plans", async () => {
    const waveId = await plannedWave();
    const { view } = await stack.actors.state<WaveView>({ type: "wave", id: waveId });
    const plan = view.plan!;
    const used = plan.routes.filter((r) => r.stops.length > 0);
    const unused = plan.routes.filter((r) => r.stops.length === 0);
    expect(used.length).toBeGreaterThanOrEqual(2);
    expect(unused.length).toBeGreaterThanOrEqual(2);

    const page = await consolePage(waveId);
    expect(await page.textContent("#wave-panel h2")).toContain("波次排线");
    expect(await page.textContent("#wave-status")).toContain(`${plan.vans} 辆车`);
    expect(await page.locator("#wave-panel .wave-van").count()).toBe(6);
    // Each used van is a line on the map, each stop a marker.
    expect(await page.locator("path.wave-line").count()).toBe(used.length);
    const stops = used.reduce((n, r) => n + r.stops.length, 0);
    expect(await page.locator(".wave-marker").count()).toBe(stops);
    expect(await page.locator(".wave-marker.dropoff").first().textContent()).toMatch(/^\d+送$/);
    // The van with the most drop-off stops: it keeps a route after giving one away.
    const drops = (r: (typeof used)[number]) => r.stops.filter((s) => s.kind === "dropoff").length;
    const from = [...used].sort((a, b) => drops(b) - drops(a))[0]!;
    expect(drops(from)).toBeGreaterThanOrEqual(2);
    const dropIndex = from.stops.findIndex((s) => s.kind === "dropoff");
    const stopRow = page.locator(
      `.wave-stop[data-vehicle-id="${from.vehicleId}"][data-stop-index="${dropIndex}"]`,
    );
    expect(await stopRow.textContent()).toMatch(/送 .+ · \d+ 单 · \d\d:\d\d/);
    await screenshot(page, "console-wave-plan");

    // Lock one unused van; a drag onto it is refused with the reason.
    const locked = unused[0]!.vehicleId;
    await page.click(`.wave-van[data-vehicle-id="${locked}"] .wave-lock`);
    await page.waitForSelector(`.wave-van.locked[data-vehicle-id="${locked}"]`);
    expect(await page.textContent(`.wave-van[data-vehicle-id="${locked}"] .wave-lock`)).toBe(
      "解锁",
    );
    await stopRow.dragTo(page.locator(`.wave-van[data-vehicle-id="${locked}"]`));
    await until(
      "the refusal",
      async () => (await page.textContent("#wave-message"))?.includes("无法移动") ?? false,
    );
    expect(await page.textContent("#wave-message")).toContain("路线已锁定");

    // A drag onto the other unused van moves the stop: the wave re-checks it, the cost is shown.
    const target = unused[1]!.vehicleId;
    const before = plan.cost;
    await page
      .locator(`.wave-stop[data-vehicle-id="${from.vehicleId}"][data-stop-index="${dropIndex}"]`)
      .dragTo(page.locator(`.wave-van[data-vehicle-id="${target}"]`));
    await until(
      "the move",
      async () => (await page.textContent("#wave-message"))?.includes("已移到") ?? false,
    );
    const after = await stack.actors.state<WaveView>({ type: "wave", id: waveId });
    const moved = after.view.plan!;
    expect(moved.version).toBeGreaterThan(plan.version);
    expect(moved.routes.find((r) => r.vehicleId === target)!.stops.length).toBeGreaterThan(0);
    expect(await page.textContent("#wave-message")).toBe(
      `已移到 ${target}：行驶 ${before.toFixed(1)} → ${moved.cost.toFixed(1)} 分钟`,
    );
    await until(
      "the new van's line",
      async () => (await page.locator("path.wave-line").count()) === used.length + 1,
    );
    await screenshot(page, "console-wave-moved");

    // Re-plan: the planner runs again (the locked van is kept out of it).
    await page.click("#wave-replan");
    await until(
      "asked",
      async () => (await page.textContent("#wave-message")) === "已请求重新排线",
    );
    await waitFor(
      "the re-plan",
      async () => {
        const { view: v } = await stack.actors.state<WaveView>({ type: "wave", id: waveId });
        return v.plan!.requestId !== plan.requestId && v.pending === null ? v : null;
      },
      20_000,
    );
    await until("the console reloads the new plan", async () => {
      const shown = await page.evaluate("window.__xiandaConsole.wave()?.plan?.requestId ?? null");
      return shown !== plan.requestId && shown !== null;
    });
  }, 120_000);
});
