import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { loadScenario, writeOutput } from "./io.ts";
import { replay } from "./replay.ts";
import { fakeStopwatch } from "./testing.ts";

const scenarioDir = (name: string) =>
  fileURLToPath(new URL(`../scenarios/${name}`, import.meta.url));
const FILES = ["orders.csv", "moves.csv", "metrics.json"] as const;

describe("replay output", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("writes the same files byte for byte from the same scenario", async () => {
    const scenario = await loadScenario(scenarioDir("kunming-van-chilled"));
    for (let run = 0; run < 2; run++) {
      const dir = await mkdtemp(join(tmpdir(), "xianda-replay-"));
      dirs.push(dir);
      await writeOutput(dir, replay(scenario, { stopwatch: fakeStopwatch() }));
    }
    for (const name of FILES) {
      const [a, b] = await Promise.all(dirs.map((d) => readFile(join(d, name), "utf8")));
      expect(a!.length).toBeGreaterThan(100);
      expect(a).toBe(b);
    }
  }, 120_000);

  it("replays the 3,000-order day to the end within a generous bound", async () => {
    const scenario = await loadScenario(scenarioDir("kunming-day"));
    expect(scenario.orders).toHaveLength(3_000);
    const started = performance.now();
    const { metrics } = replay(scenario);
    const seconds = (performance.now() - started) / 1000;
    // The figure itself is in BENCHMARKS.md; this only catches a replay gone badly wrong.
    expect(seconds).toBeLessThan(240);
    expect(metrics.orders.deliveredPct).toBeGreaterThan(95);
    expect(metrics.engine.ticks).toBeGreaterThan(1_000);
  }, 300_000);
});
