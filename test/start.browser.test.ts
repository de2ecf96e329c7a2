/**
 * What a newcomer sees: `npm start`, then the printed console link in a browser. Within a minute
 * the simulated city's couriers move on the map and an order is delivered (Chromium, headless).
 * The screenshot goes to /tmp/start-console.png and test-results/screens/start-console.png.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { copyFile } from "node:fs/promises";
import { rmSync } from "node:fs";
import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { destroyTopology, Topology } from "../nats/index.ts";
import { launchChromium, SCREENS, screenshot, sleep } from "./browser.ts";
import { connectForTest, NATS_URL } from "./nats-helpers.ts";

interface ConsoleHook {
  state(): { status: string; frames: number };
  markers(): Array<{ courierId: string; lat: number; lng: number }>;
  orders(): Array<{ orderId: string; status: string }>;
  kpis(): { delivered: number; onTime: number | null; meanClickToDoorMinutes: number | null };
}

describe("npm start in a browser", () => {
  const namespace = `startb${Math.random().toString(36).slice(2, 8)}`;
  const dataDir = `/tmp/xianda-start-${namespace}`;
  let child: ChildProcess | null = null;
  let browser: Browser | null = null;

  afterAll(async () => {
    await browser?.close();
    child?.kill("SIGKILL");
    const nc = await connectForTest("start.browser.test");
    await destroyTopology(nc, new Topology({ namespace, partitions: 32 }));
    await nc.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("shows couriers moving and an order delivered on the printed console link within a minute", async () => {
    child = spawn(process.execPath, ["--import", "tsx", "bin/start.ts"], {
      env: {
        ...process.env,
        NATS_URL,
        XIANDA_NAMESPACE: namespace,
        GATEWAY_PORT: "0",
        METRICS_PORT: "0",
        DATA_DIR: dataDir,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr!.on("data", (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child!.on("exit", resolve));

    const [launched] = await Promise.all([
      launchChromium(),
      waitFor(() => consoleUrl(out), 45_000),
    ]);
    browser = launched;
    const url = consoleUrl(out)!;
    const page = await browser.newPage({
      viewport: { width: 1440, height: 900 },
      locale: "zh-CN",
      timezoneId: "Asia/Shanghai",
    });
    const hook = <T>(read: (h: ConsoleHook) => T): Promise<T> =>
      page.evaluate(`(${read.toString()})(window.__xiandaConsole)`) as Promise<T>;
    await page.goto(url);
    const opened = Date.now();
    await page.waitForSelector('#conn[data-state="open"]', { timeout: 20_000 });

    // Within a minute of opening the console: a courier's marker moves, an order is delivered.
    const first = new Map<string, { lat: number; lng: number }>();
    let moved: string | null = null;
    let delivered = 0;
    while (Date.now() - opened < 60_000 && (moved === null || delivered === 0)) {
      for (const m of await hook((h) => h.markers())) {
        const seen = first.get(m.courierId);
        if (!seen) first.set(m.courierId, { lat: m.lat, lng: m.lng });
        else if (Math.abs(seen.lat - m.lat) + Math.abs(seen.lng - m.lng) > 1e-4)
          moved = m.courierId;
      }
      delivered = Math.max(
        (await hook((h) => h.kpis().delivered)) ?? 0,
        Number((await page.textContent("#sum-delivered")) ?? "0"),
      );
      if (moved === null || delivered === 0) await sleep(500);
    }
    const seconds = Math.round((Date.now() - opened) / 1000);
    await sleep(1500); // let the map settle on the last frames
    await screenshot(page, "start-console");
    await copyFile(path.join(SCREENS, "start-console.png"), "/tmp/start-console.png");

    expect(first.size, "couriers on the map").toBeGreaterThanOrEqual(10);
    expect(moved, `a courier moving within a minute (after ${seconds} s)`).not.toBeNull();
    expect(delivered, `an order delivered within a minute (after ${seconds} s)`).toBeGreaterThan(0);
    expect(await page.textContent("#market")).toContain("昆明");

    child.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(out).not.toMatch(/"level":50/);
  }, 180_000);
});

function consoleUrl(out: string): string | null {
  return /dispatcher console +(http:\/\/\S+\/console#token=\S+)/.exec(out)?.[1] ?? null;
}

async function waitFor<T>(probe: () => T | null, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error("timed out waiting for npm start's console link");
    await sleep(200);
  }
}
