/**
 * The cold chain end to end in headless Chromium against the whole stack (NATS, actor host,
 * tracker, projector on PGlite, gateway): a chilled order rides in a van compartment; the
 * shopper's page shows the compartment's temperature, turns red when the van reports an
 * excursion, and after delivery shows the certificate with its verdict and whether it still
 * verifies (and stops verifying once a reading is edited in the database); the dispatcher
 * console lists the van, charts its compartment with the range and the excursion, live, and
 * lists the cold-chain alerts. Screenshots go to /tmp/cold-chain-*.png.
 */
import { sql } from "drizzle-orm";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Principal } from "../actors/index.ts";
import { launchChromium, sleep, until } from "../test/browser.ts";
import { startStack } from "../test/stack.ts";
import type { Stack } from "../test/stack.ts";

const VAN = "van-bt";
const DRIVER = "c-bt";
const COMPARTMENT = "chill";
const ORDER = "o-cold-bt";
const MIN = 60_000;
const bridge: Principal = { role: "system", id: "telemetry-bridge" };

async function shot(page: Page, name: string, fullPage = false): Promise<void> {
  await page.screenshot({ path: `/tmp/cold-chain-${name}.png`, fullPage });
}

describe("cold chain: shopper page and dispatcher console (Chromium, live stack)", () => {
  let stack: Stack;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  /** TELEMETRY stream sequences: large, unique, increasing. */
  let seq = 880_000_000;
  const sent: Array<{ seq: number; celsius: number; at: number }> = [];

  async function reading(celsius: number, at = Date.now()): Promise<void> {
    seq += 1;
    const outcome = await stack.actors.send(
      { type: "vehicle", id: VAN },
      { type: "readings", readings: [{ seq, compartmentId: COMPARTMENT, celsius, at }] },
      { by: bridge },
    );
    expect(outcome).toBeTruthy();
    sent.push({ seq, celsius, at });
    // Sensor times never repeat (the van would take the second for a duplicate).
    await sleep(20);
  }

  beforeAll(async () => {
    stack = await startStack({ certificateSettleMs: 300 });
    browser = await launchChromium();
    const dispatcher: Principal = { role: "dispatcher", id: "d-1" };
    const configured = await stack.actors.call(
      { type: "vehicle", id: VAN },
      {
        type: "configure",
        driverId: DRIVER,
        marketId: "km",
        compartments: [{ id: COMPARTMENT, class: "chilled", graceSeconds: 0 }],
      },
      { by: dispatcher },
    );
    expect(configured, JSON.stringify(configured)).toMatchObject({ ok: true });
    const shift = await stack.actors.call(
      { type: "courier", id: DRIVER },
      {
        type: "go_on_shift",
        marketId: "km",
        vehicle: { mode: "van", vehicleId: VAN },
        capacity: { maxOrders: 5, slots: { ambient: 2, chilled: 2, frozen: 1 } },
      },
      { by: { role: "courier", id: DRIVER } },
    );
    expect(shift, JSON.stringify(shift)).toMatchObject({ ok: true });
    // The last 40 minutes: in range, a warm spell (an excursion: no grace), back in range.
    const now = Date.now();
    const history = [3.1, 3.3, 2.9, 3.0, 5.6, 6.4, 3.2, 2.8, 3.0, 3.4, 3.1, 2.9, 3.0];
    for (const [i, celsius] of history.entries()) {
      await reading(celsius, now - (40 - i * 3) * MIN);
    }
  }, 90_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await stack?.stop();
  });

  async function newPage(viewport: { width: number; height: number }, mobile: boolean) {
    const context = await browser.newContext({
      viewport,
      deviceScaleFactor: mobile ? 2 : 1,
      isMobile: mobile,
      hasTouch: mobile,
      locale: "zh-CN",
      timezoneId: "Asia/Shanghai",
    });
    contexts.push(context);
    return { context, page: await context.newPage() };
  }

  const badge = (page: Page) =>
    page.evaluate(() => ({
      state: document.getElementById("temp-badge")?.dataset.state ?? null,
      text: document.getElementById("temp-badge")?.textContent ?? "",
      hidden: document.getElementById("temp-badge")?.hidden ?? true,
      note: document.getElementById("temp-note")?.textContent ?? "",
    }));

  it("shows the temperature, the excursion and the certificate; the console charts the van", async () => {
    // The dispatcher's console is open from the start: it hears the alerts as they come.
    const { page: desk } = await newPage({ width: 1280, height: 800 }, false);
    await desk.goto(`${stack.url}/console#token=${await stack.tokens.dispatcher("km")}`);
    await desk.waitForSelector('#conn[data-state="open"]');
    await desk.waitForSelector(`.van-row[data-vehicle-id="${VAN}"]`, { timeout: 15_000 });

    const { pickupCode } = await stack.assignedOrder({
      orderId: ORDER,
      courierId: DRIVER,
      temperatureClass: "chilled",
    });
    const { context: phone, page } = await newPage({ width: 360, height: 740 }, true);
    const shopperToken = await stack.tokens.shopper(ORDER);
    await page.goto(`${stack.url}/t/${shopperToken}`);
    await until("the assigned status", async () =>
      (await page.textContent("#headline")) === "骑手正赶往商家取货" ? true : null,
    );
    expect(await page.textContent("#temp-label")).toBe("冷藏");

    // The store hands the order into the van's chilled compartment.
    const handOff = await fetch(`${stack.url}/v1/stores/s-1/orders/${ORDER}/hand-off`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${await stack.tokens.store("s-1")}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({ pickupCode, vehicleId: VAN, compartmentId: COMPARTMENT }),
    });
    expect(handOff.status, await handOff.text()).toBe(202);
    await until("the picked-up status", async () =>
      (await page.textContent("#headline")) === "骑手正在配送" ? true : null,
    );

    // A reading from the compartment reaches the order's channel.
    await reading(2.6);
    const inRange = await until(
      "the in-range badge",
      async () => {
        const b = await badge(page);
        return b.state === "in_range" && b.text.includes("2.6") ? b : null;
      },
      15_000,
    );
    expect(inRange.text).toBe("❄冷藏 2.6°C✓温度正常");
    await shot(page, "shopper-in-range");

    // Warm: with no grace period the van calls it an excursion at once.
    await reading(7.4);
    const excursion = await until("the excursion badge", async () => {
      const b = await badge(page);
      return b.state === "excursion" ? b : null;
    });
    expect(excursion.text).toContain("冷藏 7.4°C");
    expect(excursion.text).toContain("温度异常");
    expect(await page.$eval("#temp-badge", (el) => getComputedStyle(el).backgroundColor)).toBe(
      "rgb(254, 226, 226)",
    );
    await shot(page, "shopper-excursion");

    // The console: the alert in its list, the van in trouble, its chart with the red bands.
    await desk.waitForSelector('.alert-row[data-code="temperature_excursion"]', {
      timeout: 10_000,
    });
    expect(await desk.textContent('.alert-row[data-code="temperature_excursion"]')).toContain(
      "温度超标",
    );
    await until("the van marked in excursion", async () =>
      (await desk.getAttribute(`.van-row[data-vehicle-id="${VAN}"]`, "class"))?.includes(
        "state-excursion",
      )
        ? true
        : null,
    );
    await desk.click(`.van-row[data-vehicle-id="${VAN}"]`);
    await desk.waitForSelector(
      `#van-detail .van-chart-block[data-compartment-id="${COMPARTMENT}"] svg`,
    );
    await until("the history's excursions and the live one on the chart", async () =>
      (await desk.locator("#van-detail .exc.temperature").count()) >= 2 ? true : null,
    );
    expect(await desk.locator("#van-detail .band").count()).toBe(1);
    const points = await desk.locator("#van-detail .pt").count();
    expect(points).toBeGreaterThanOrEqual(sent.length);
    expect(await desk.locator("#van-detail .pt.out").count()).toBeGreaterThanOrEqual(3);

    // Back in range: the chart follows live, the shopper is told it is over but happened.
    await reading(3.0);
    await until("the new reading on the chart", async () =>
      (await desk.locator("#van-detail .pt").count()) > points ? true : null,
    );
    await until("the open excursion closed", async () =>
      (await desk.locator("#van-detail .exc.open").count()) === 0 ? true : null,
    );
    const recovered = await until("the recovered badge", async () => {
      const b = await badge(page);
      return b.state === "in_range" && b.text.includes("3.0") ? b : null;
    });
    expect(recovered.text).toContain("已恢复正常");
    expect(recovered.note).toBe("配送途中曾出现温度异常，送达后可查看冷链温度证书");
    await desk.waitForSelector('.alert-row[data-code="temperature_excursion_ended"]');
    await shot(desk, "console-van");
    await desk.locator(".panel.alerts").scrollIntoViewIfNeeded();
    await shot(desk, "console-alerts");

    // Delivered: the certificate comes a moment later, with its verdict and the check.
    await stack.deliver(ORDER, DRIVER);
    await until(
      "the certificate card",
      async () => ((await page.textContent("#cert-verdict")) || null) ?? null,
      20_000,
    );
    expect(await page.textContent("#cert-title")).toBe("冷链温度证书");
    expect(await page.textContent("#cert-verdict")).toBe("途中出现温度异常");
    expect(await page.textContent("#cert-check")).toBe("✓ 签名有效，与系统保存的温度记录一致");
    const lines = await page.locator("#cert-lines li").allTextContents();
    expect(lines[0]).toBe("要求温度 0.0°C 至 4.0°C");
    expect(lines.join("\n")).toMatch(/超温 1 次，共/);
    await page.locator("#certificate").scrollIntoViewIfNeeded();
    await shot(page, "shopper-certificate", true);

    // The printable page opens from the card's link, with the same check on top.
    const [printable] = await Promise.all([phone.waitForEvent("page"), page.click("#cert-link")]);
    await printable.waitForLoadState();
    expect(await printable.textContent("#verification-status")).toContain("核验通过");
    expect(await printable.textContent("h1")).toBe("冷链温度证书");
    await shot(printable, "printable", true);
    await printable.close();

    // A reading edited in the database since issue: the certificate no longer verifies.
    const edited = sent.at(-2)!;
    await stack.db.execute(
      sql`UPDATE temperature_readings SET celsius = celsius + 5 WHERE stream_seq = ${edited.seq}`,
    );
    await page.reload();
    await until("the failed check", async () =>
      (await page.textContent("#cert-check"))?.startsWith("✗") ? true : null,
    );
    expect(await page.textContent("#cert-check")).toBe(
      "✗ 核验未通过：证书与系统当前保存的温度记录不符",
    );
    await page.locator("#certificate").scrollIntoViewIfNeeded();
    await shot(page, "shopper-certificate-tampered", true);
    const tampered = await phone.newPage();
    await tampered.goto(
      `${stack.url}/v1/orders/${ORDER}/certificate.html?lang=en&token=${shopperToken}`,
    );
    expect(await tampered.textContent("#verification-status")).toContain("Not verified");
    await shot(tampered, "printable-tampered");
    await stack.db.execute(
      sql`UPDATE temperature_readings SET celsius = ${edited.celsius} WHERE stream_seq = ${edited.seq}`,
    );

    // English console.
    await desk.getByRole("button", { name: "EN" }).click();
    expect(await desk.textContent("#van-detail-title")).toBe(`Van ${VAN} · temperatures`);
    await shot(desk, "console-van-en");
  }, 120_000);
});
