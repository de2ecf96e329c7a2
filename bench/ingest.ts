/**
 * `npm run bench -- ingest`: courier fixes over websockets into the H3 index, and courier →
 * shopper latency, beside the raw ws → NATS → ws path measured in the same run.
 *
 * The gateway, tracker and an actor host run in this process (test/stack.ts); the couriers and
 * shoppers are real websocket clients in a child process (bench/ingest-load.ts). 2,000 couriers
 * connect; 50 of them carry an order whose shopper watches it. Phases: 10,000 fixes/s for 10 s
 * for latency (send → the shopper's push frame carrying that fix); then offered rates rising
 * from 20,000 to 60,000/s, 5 s each, with what the tracker took into the index read from its
 * own count: "sustained" is the highest rate taken while keeping up (≥ 95 % of offered).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WebSocketServer } from "ws";
import type WebSocket from "ws";
import { startStack } from "../test/stack.ts";
import type { LoadPlan, PhaseResult } from "./ingest-load.ts";
import type { ResultRow } from "./report.ts";

const COURIERS = Number(process.env.BENCH_INGEST_COURIERS ?? 2000);
const WATCHED = 50;
/** Offered rates for the ingest figure, ascending; each for STEP_SECONDS. */
const STEPS = [20_000, 30_000, 40_000, 50_000, 60_000];
const STEP_SECONDS = 5;
const RATE = 10_000;
const RATE_SECONDS = 10;

export async function benchIngest(): Promise<ResultRow[]> {
  // 2,000 couriers and their shoppers come from one address here.
  const stack = await startStack({ limits: { maxConnectionsPerIp: 10_000 } });
  const dir = mkdtempSync(join(tmpdir(), "xianda-ingest-"));
  const relay = await rawRelay(stack.nc, `benchraw${process.pid}`);
  try {
    const couriers = await Promise.all(
      Array.from({ length: COURIERS }, async (_, i) => ({
        id: `bc${i}`,
        token: await stack.tokens.courier(`bc${i}`, "km"),
      })),
    );
    const shoppers: LoadPlan["shoppers"][number][] = [];
    for (let i = 0; i < WATCHED; i += 10) {
      await Promise.all(
        Array.from({ length: Math.min(10, WATCHED - i) }, async (_, j) => {
          const k = i + j;
          const orderId = `bo${k}`;
          await stack.assignedOrder({ orderId, courierId: `bc${k}` });
          shoppers.push({ token: await stack.tokens.shopper(orderId), orderId, courierIndex: k });
        }),
      );
    }
    const plan: LoadPlan = {
      ws: stack.url.replace(/^http/, "ws"),
      raw: { up: `${relay.url}/up`, down: `${relay.url}/down` },
      couriers,
      shoppers,
      // Latency first, on a quiet system; then the ingest steps, which end in overload.
      phases: [
        { kind: "step", perSecond: RATE, seconds: 5 }, // warm-up, unmeasured
        { kind: "rate", perSecond: RATE, seconds: RATE_SECONDS },
        ...STEPS.map((perSecond) => ({ kind: "step" as const, perSecond, seconds: STEP_SECONDS })),
      ],
    };
    console.log(`ingest: ${COURIERS} couriers, ${shoppers.length} watched orders set up`);
    const planFile = join(dir, "plan.json");
    writeFileSync(planFile, JSON.stringify(plan));

    // Sample the tracker's count of fixes taken into the index while the load runs.
    const samples: { t: number; updates: number }[] = [];
    const sampler = setInterval(
      () => samples.push({ t: Date.now(), updates: stack.tracker.updates }),
      50,
    );
    const output = await runChild(planFile);
    clearInterval(sampler);
    const lines = output.trim().split("\n");
    const { results, raw } = JSON.parse(lines.at(-1)!) as {
      results: PhaseResult[];
      raw: PhaseResult;
    };
    const starts = new Map<number, number>();
    for (const line of lines.slice(0, -1)) {
      const m = JSON.parse(line) as { mark?: string; at?: number };
      if (m.mark?.startsWith("start:")) starts.set(Number(m.mark.slice(6)), m.at!);
    }
    const updatesAt = (t: number) =>
      samples.find((s) => s.t >= t)?.updates ?? samples.at(-1)?.updates ?? 0;
    // What the index took during each step (from 1 s in, once the pipes are full, to its end).
    const steps = STEPS.map((offered, i) => {
      const start = starts.get(i + 2)! + 1000;
      const end = starts.get(i + 2)! + STEP_SECONDS * 1000;
      const ingested = ((updatesAt(end) - updatesAt(start)) / (end - start)) * 1000;
      console.log(`offered ${offered}/s: ingested into the H3 index ${Math.round(ingested)}/s`);
      return { offered, ingested };
    });
    // Sustained: the highest rate taken while keeping up with what was offered (≥ 95 %).
    const sustained = steps.filter((s) => s.ingested >= 0.95 * s.offered).at(-1)?.ingested ?? 0;
    const peak = Math.max(...steps.map((s) => s.ingested));

    if (process.env.BENCH_INGEST_DEBUG) {
      const lag = await stack.tracker.registry.getSingleMetricAsString(
        "xianda_tracker_fix_lag_seconds",
      );
      console.log(lag);
    }
    const rate = results.find((r) => r.kind === "rate")!;
    console.log(
      `at ${RATE}/s: courier→shopper p50 ${rate.latency!.p50.toFixed(2)} ms, p99 ${rate.latency!.p99.toFixed(2)} ms (${rate.latency!.count} samples); raw ws→NATS→ws p50 ${raw.latency!.p50.toFixed(2)} ms, p99 ${raw.latency!.p99.toFixed(2)} ms`,
    );
    const row = (r: Omit<ResultRow, "bench">): ResultRow => ({ bench: "ingest", ...r });
    return [
      row({
        figure: `fixes ingested into the H3 index, sustained (${COURIERS} couriers over ws)`,
        value: sustained,
        unit: "updates/s",
        target: 50_000,
        better: "higher",
      }),
      row({
        figure: "fixes ingested into the H3 index, peak under overload",
        value: peak,
        unit: "updates/s",
        target: null,
        better: "higher",
      }),
      row({
        figure: `raw ws→NATS→ws p99 at ${RATE}/s (ceiling)`,
        value: raw.latency!.p99,
        unit: "ms",
        target: null,
        better: "lower",
      }),
      row({
        figure: `courier→shopper p50 at ${RATE}/s`,
        value: rate.latency!.p50,
        unit: "ms",
        target: null,
        better: "lower",
      }),
      row({
        figure: `courier→shopper p99 at ${RATE}/s`,
        value: rate.latency!.p99,
        unit: "ms",
        target: 25,
        better: "lower",
        ceiling: raw.latency!.p99,
        ratio: rate.latency!.p99 / raw.latency!.p99,
      }),
    ];
  } finally {
    await relay.close();
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function runChild(planFile: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "bench/ingest-load.ts", planFile], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.on("exit", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`load generator exited ${code}`)),
    );
  });
}

/** The raw ceiling: ws in, one NATS hop, ws out, nothing else. */
async function rawRelay(nc: import("@nats-io/transport-node").NatsConnection, subject: string) {
  const server = createServer();
  const wss = new WebSocketServer({ server });
  const downs = new Set<WebSocket>();
  const sub = nc.subscribe(subject, {
    callback: (_err, msg) => {
      const text = new TextDecoder().decode(msg.data);
      if (!text.includes('"watched":true')) return;
      for (const d of downs) d.send(text);
    },
  });
  wss.on("connection", (ws, req) => {
    if (req.url === "/down") {
      downs.add(ws);
      ws.on("close", () => downs.delete(ws));
    } else {
      ws.on("message", (data) => nc.publish(subject, data as Buffer));
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}`,
    close: async () => {
      sub.unsubscribe();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await new Promise((r) => server.close(r));
    },
  };
}
