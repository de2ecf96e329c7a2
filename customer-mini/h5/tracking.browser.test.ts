/**
 * The shopper's H5 tracking page in headless Chromium against the live stack (actor host,
 * tracker, gateway): a courier streams fixes over the driver websocket, the page shows the
 * marker moving and an ETA; expired and forged tokens show the "link expired" state.
 * Screenshots go to test-results/screens/tracking-*.png.
 */
import { SignJWT } from "jose";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchChromium, screenshot, sleep, until } from "../../test/browser.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { KUNMING_DOOR, KUNMING_STORE, startStack } from "../../test/stack.ts";
import type { Stack } from "../../test/stack.ts";

/** A courier's phone, reduced to its driver websocket. */
async function driverSocket(url: string, token: string): Promise<WebSocket> {
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}/ws/driver?token=${token}`);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return ws;
}

function sendFix(ws: WebSocket, at: { lat: number; lng: number }): void {
  ws.send(
    JSON.stringify({
      type: "location",
      fix: { lat: at.lat, lng: at.lng, accuracy: 6, at: Date.now(), speed: 6 },
      coord: "wgs84",
    }),
  );
}

/** `n` points from the store towards the door, ~15 m apart (a fix every 1.2 s: ~45 km/h). */
function path_(n: number): { lat: number; lng: number }[] {
  return Array.from({ length: n }, (_, i) => ({
    lat: KUNMING_STORE.lat + (KUNMING_DOOR.lat - KUNMING_STORE.lat) * 0.01 * i,
    lng: KUNMING_STORE.lng + (KUNMING_DOOR.lng - KUNMING_STORE.lng) * 0.01 * i,
  }));
}

describe("H5 tracking page (Chromium, live stack)", () => {
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

  async function phone(): Promise<Page> {
    const context = await browser.newContext({
      viewport: { width: 360, height: 740 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      locale: "zh-CN",
      timezoneId: "Asia/Shanghai",
    });
    contexts.push(context);
    return context.newPage();
  }

  const shot = (page: Page, name: string) => screenshot(page, `tracking-${name}`);

  const markerAt = (page: Page) =>
    page.evaluate(() => {
      const el = document.querySelector<HTMLElement>(".courier-marker");
      const icon = el?.parentElement;
      return el && icon
        ? {
            lat: Number(el.dataset.lat),
            lng: Number(el.dataset.lng),
            transform: icon.style.transform,
            coarse: el.classList.contains("coarse"),
          }
        : null;
    });

  it("shows the courier moving towards the door and an ETA window", async () => {
    const orderId = "o-h5";
    const courierId = "c-h5";
    await stack.assignedOrder({ orderId, courierId, temperatureClass: "chilled" });
    const driver = await driverSocket(stack.url, await stack.tokens.courier(courierId));
    const route = path_(12);
    sendFix(driver, route[0]!);

    const page = await phone();
    await page.goto(`${stack.url}/t/${await stack.tokens.shopper(orderId)}`);
    await until("the assigned status", async () =>
      (await page.textContent("#headline")) === "骑手正赶往商家取货" ? true : null,
    );
    // Before pickup the gateway coarsens the position; the page draws it as an area.
    let lastFix = 0;
    await until("a coarse courier marker", async () => {
      if (Date.now() - lastFix > 1200) {
        sendFix(driver, route[0]!);
        lastFix = Date.now();
      }
      return (await markerAt(page))?.coarse ?? null;
    });
    expect(await page.textContent("#courier-note")).toBe("骑手取货前仅显示大致位置");
    expect(await page.textContent("#temp-label")).toBe("冷藏");
    await shot(page, "before-pickup");

    await stack.pickUp(orderId);
    await until("the picked-up status", async () =>
      (await page.textContent("#headline")) === "骑手正在配送" ? true : null,
    );

    const seen: { lat: number; lng: number; transform: string }[] = [];
    for (const point of route.slice(1, 8)) {
      await sleep(1200);
      sendFix(driver, point);
      const at = await until("the marker to follow the fix", async () => {
        const m = await markerAt(page);
        // The gateway's fix filter smooths jitter: near the fix, not necessarily on it.
        const near = m && Math.abs(m.lat - point.lat) < 5e-5 && Math.abs(m.lng - point.lng) < 5e-5;
        return m && !m.coarse && near && !seen.some((s) => s.lat === m.lat) ? m : null;
      });
      seen.push(at);
    }
    // The marker went through every fix, north-west towards the door, and moved on screen.
    expect(seen.map((s) => s.lat)).toEqual([...seen.map((s) => s.lat)].sort((a, b) => a - b));
    expect(new Set(seen.map((s) => s.transform)).size).toBeGreaterThan(3);

    await sleep(1100); // let the last glide finish before the picture
    await shot(page, "live");
    // The tracker sends an ETA window with the fixes (every second in the test stack).
    const etaText = await until("an ETA window", async () => {
      const t = await page.textContent("#eta-text");
      return t && /^预计 \d\d:\d\d(–\d\d:\d\d)? 送达$/.test(t) ? t : null;
    });
    expect(etaText).toMatch(/^预计/);
    expect(await page.textContent("#eta-minutes")).toMatch(/^约 \d+ 分钟$|^即将送达$/);
    const steps = await page.$$eval(".step", (els) =>
      els.map((e) => [e.querySelector(".label")?.textContent, e.className]),
    );
    expect(steps).toContainEqual(["配送中", "step current"]);
    expect(steps[0]).toEqual(["已下单", "step done"]);
    driver.close();
  }, 90_000);

  it("shows the expired state for an expired token", async () => {
    await stack.assignedOrder({ orderId: "o-h5-old", courierId: "c-h5-old" });
    const page = await phone();
    await page.goto(`${stack.url}/t/${await stack.tokens.shopper("o-h5-old", -60)}`);
    await page.waitForSelector("#expired");
    expect(await page.textContent("#expired h1")).toBe("链接已失效");
    expect(await page.textContent("#expired-reason")).toBe("订单已完成，追踪链接已过期");
    await shot(page, "expired");
  });

  it("shows the expired state when the gateway refuses a forged token", async () => {
    const forged = await new SignJWT({ role: "shopper", ord: "o-h5" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("shopper-o-h5")
      .setExpirationTime("1h")
      .sign(new TextEncoder().encode("not-the-gateway-secret-0123456789abcdef"));
    const page = await phone();
    await page.goto(`${stack.url}/t/${forged}`);
    await page.waitForSelector("#expired");
    expect(await page.textContent("#expired-reason")).toBe("此追踪链接无效");
    await shot(page, "forged");
  });

  it("speaks English when the link asks for it", async () => {
    const page = await phone();
    await page.goto(`${stack.url}/t/${await stack.tokens.shopper("o-h5")}?lang=en`);
    await until("the English headline", async () =>
      (await page.textContent("#headline")) === "The courier is on the way to you" ? true : null,
    );
    await sleep(500);
    await shot(page, "live-en");
  });
});
