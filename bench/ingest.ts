/**
 * `npm run bench -- ingest`: courier fixes over websockets into the H3 index, and courier →
 * shopper latency, beside the raw ws → NATS → ws path measured in the same run.
 *
 * As in production, the tracker runs in an actor host process (bin/host.ts) and the gateway in
 * another (this one); the couriers and shoppers are real websocket clients in a third process
 * (bench/ingest-load.ts). 2,000 couriers
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
import pino from "pino";
import { ActorClient } from "../actors/index.ts";
import { DemoFlows } from "../bin/demo-flows.ts";
import { createGateway, createMemoryRateLimiter, signToken } from "../gateway/index.ts";
import type { TokenClaims } from "../protocol/index.ts";
import { connectNats, destroyTopology, ensureTopology, Topology } from "../nats/index.ts";
import { startHost } from "../test/hosts.ts";
import { scrapeMetric } from "../test/hosts.ts";
import type { LoadPlan, PhaseResult } from "./ingest-load.ts";
import type { ResultRow } from "./report.ts";

const COURIERS = Number(process.env.BENCH_INGEST_COURIERS ?? 2000);
const WATCHED = 50;
/** Offered rates for the ingest figure, ascending; each for STEP_SECONDS. */
const STEPS = process.env.BENCH_INGEST_STEPS?.split(",").map(Number) ?? [
  20_000, 30_000, 40_000, 50_000, 60_000,
];
const STEP_SECONDS = 6;
const RATE = 10_000;
const RATE_SECONDS = 10;

/**
 * The production layout: an actor host process (`bin/host.ts`, which runs the tracker as its
 * singleton) and a gateway in this process, each with its own event loop.
 */
export async function startLayout(
  options: {
    /** Another server (the telemetry bench's private one, with MQTT). Default $NATS_URL. */
    natsUrl?: string;
    /** Default `ingest<pid>`; "" for MQTT, whose topics cannot carry a namespace. */
    namespace?: string;
  } = {},
) {
  const natsUrl = options.natsUrl ?? process.env.NATS_URL ?? "nats://127.0.0.1:4222";
  const nc = await connectNats({ servers: natsUrl, name: "bench-ingest" });
  const topology = new Topology({
    namespace: options.namespace ?? `ingest${process.pid}`,
    partitions: 4,
  });
  await ensureTopology(nc, topology);
  const host = await startHost("ingest-h1", {
    NATS_URL: natsUrl,
    XIANDA_NAMESPACE: topology.options.namespace,
    XIANDA_PARTITIONS: "4",
  });
  const fixes = () => scrapeMetric(host.metricsPort, "xianda_tracker_fixes_total");
  // The tracker starts with partition 0; its counter appears on the host's /metrics.
  for (let i = 0; i < 100; i++) {
    const text = await (await fetch(`http://127.0.0.1:${host.metricsPort}/metrics`)).text();
    if (text.includes("xianda_tracker_fixes_total")) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const actors = new ActorClient({ nc, topology });
  const secret = `bench-${process.pid}-secret-0123456789abcdef`;
  const gateway = createGateway({
    nc,
    topology,
    actors,
    auth: { secret },
    rateLimiter: createMemoryRateLimiter({ limit: 1000, windowMs: 1000 }),
    log: pino({ level: "silent" }),
    // 2,000 couriers and their shoppers come from one address here.
    limits: { maxConnectionsPerIp: 10_000 },
  });
  const { port } = await gateway.listen(0, "127.0.0.1");
  const token = (claims: Omit<TokenClaims, "exp">) =>
    signToken({ ...claims, exp: Math.floor(Date.now() / 1000) + 3600 } as TokenClaims, secret);
  return {
    nc,
    url: `http://127.0.0.1:${port}`,
    actors,
    flows: new DemoFlows(actors),
    fixes,
    courierToken: (id: string) => token({ sub: id, role: "courier", mkt: "km" }),
    shopperToken: (orderId: string) =>
      token({ sub: `u-${orderId}`, role: "shopper", ord: orderId }),
    dispatcherToken: (marketId: string) =>
      token({ sub: `bench-dispatcher-${marketId}`, role: "dispatcher", mkt: marketId }),
    host,
    async stop() {
      await gateway.close();
      actors.close();
      host.kill("SIGTERM");
      await host.exited;
      await destroyTopology(nc, topology);
      await nc.close();
    },
  };
}

export async function benchIngest(): Promise<ResultRow[]> {
  const stack = await startLayout();
  const dir = mkdtempSync(join(tmpdir(), "xianda-ingest-"));
  const relay = await rawRelay(stack.nc, `benchraw${process.pid}`);
  try {
    const couriers = await Promise.all(
      Array.from({ length: COURIERS }, async (_, i) => ({
        id: `bc${i}`,
        token: await stack.courierToken(`bc${i}`),
      })),
    );
    const shoppers: LoadPlan["shoppers"][number][] = [];
    for (let i = 0; i < WATCHED; i += 10) {
      await Promise.all(
        Array.from({ length: Math.min(10, WATCHED - i) }, async (_, j) => {
          const k = i + j;
          const orderId = `bo${k}`;
          await stack.flows.assignedOrder({ orderId, courierId: `bc${k}`, marketId: "km" });
          shoppers.push({ token: await stack.shopperToken(orderId), orderId, courierIndex: k });
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
    const sampler = setInterval(() => {
      const t = Date.now();
      // A host too busy to answer its /metrics in time misses a sample, not the run.
      void stack.fixes().then(
        (updates) => samples.push({ t, updates }),
        () => {},
      );
    }, 100);
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
    // What the index took during each step (from 2 s in, once the pipes are full, to its end).
    const steps = STEPS.map((offered, i) => {
      const start = starts.get(i + 2)! + 2000;
      const end = starts.get(i + 2)! + STEP_SECONDS * 1000;
      const ingested = ((updatesAt(end) - updatesAt(start)) / (end - start)) * 1000;
      console.log(`offered ${offered}/s: ingested into the H3 index ${Math.round(ingested)}/s`);
      return { offered, ingested };
    });
    // Sustained: the highest rate up to which every step kept up with what was offered (≥ 95 %).
    let sustained = 0;
    for (const s of steps) {
      if (s.ingested < 0.95 * s.offered) break;
      sustained = s.ingested;
    }
    const peak = Math.max(...steps.map((s) => s.ingested));

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

export function runChild(planFile: string): Promise<string> {
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
