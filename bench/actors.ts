/**
 * `npm run bench -- actors`: commands/s through real host processes (1 and 2 hosts, JetStream
 * file storage) and turn latency at half the 2-host rate, beside the raw JetStream ceilings
 * measured in the same run: acked publish (the library's `js.publish`, and the pipelined path the
 * runtime uses) and KV put.
 */
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import * as hdr from "hdr-histogram-js";
import { ActorClient } from "../actors/index.ts";
import {
  AckedPublisher,
  connectNats,
  destroyTopology,
  ensureTopology,
  Topology,
} from "../nats/index.ts";
import { startHost } from "../test/hosts.ts";
import type { HostProcess } from "../test/hosts.ts";
import { histogramQuantile } from "./report.ts";
import type { ResultRow } from "./report.ts";

const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const ACTORS = 1000;
const FLOOD = 40_000;
/** The throughput target with 2 hosts; turn latency is judged at half of it. */
const TARGET_RATE = 8000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rate(
  n: number,
  concurrency: number,
  op: (i: number) => Promise<unknown>,
): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await op(next++);
    }),
  );
  return (n / (performance.now() - t0)) * 1000;
}

async function ceilings(nc: NatsConnection) {
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const stream = `BENCH_RAW_${process.pid}`;
  await jsm.streams.add({ name: stream, subjects: [`benchraw${process.pid}.>`], storage: "file" });
  const payload = new TextEncoder().encode(
    JSON.stringify({
      id: "0123456789abcdefghij",
      at: Date.now(),
      origin: "client",
      msg: { type: "add", n: 1 },
    }),
  );
  const library = await rate(30_000, 500, (i) =>
    js.publish(`benchraw${process.pid}.${i % ACTORS}`, payload),
  );
  const publisher = new AckedPublisher(nc);
  const pipelined = await rate(100_000, 2000, (i) =>
    publisher.publish(`benchraw${process.pid}.${i % ACTORS}`, payload),
  );
  publisher.close();
  await jsm.streams.delete(stream);
  const kvm = new Kvm(nc);
  const kv = await kvm.create(`benchkv${process.pid}`, { history: 1, storage: "file" });
  const kvPut = await rate(30_000, 500, (i) => kv.put(`k.${i % ACTORS}`, payload));
  await kv.destroy();
  return { library, pipelined, kvPut };
}

/**
 * The two commit shapes DESIGN.md asks to compare, at the storage level, with the pipelined
 * publisher and 1,000 actors each committing in turn with compare-and-set:
 *   record + event: the actor record to KV (expected revision), then the event (Msg-Id'd);
 *   event as write: one publish of the event carrying the state, with the expected last
 *   sequence of the actor's own subject.
 */
async function commitShapes(nc: NatsConnection) {
  const jsm = await jetstreamManager(nc);
  const tag = `shape${process.pid}`;
  await jsm.streams.add({ name: `${tag}_EVT`, subjects: [`${tag}.evt.>`], storage: "file" });
  const kvm = new Kvm(nc);
  const kv = await kvm.create(`${tag}kv`, { history: 1, storage: "file" });
  const publisher = new AckedPublisher(nc);
  const body = new TextEncoder().encode(
    JSON.stringify({ state: { log: Array.from({ length: 40 }, (_, i) => i) } }),
  );
  const TURNS = 40_000;
  async function run(commit: (actor: number, revision: number, turn: number) => Promise<number>) {
    const revisions = new Array<number>(ACTORS).fill(0);
    let next = 0;
    const t0 = performance.now();
    // One chain per actor (a turn waits for the actor's previous commit), all actors at once.
    await Promise.all(
      Array.from({ length: ACTORS }, async (_, actor) => {
        while (next < TURNS) {
          const turn = next++;
          revisions[actor] = await commit(actor, revisions[actor]!, turn);
        }
      }),
    );
    return (TURNS / (performance.now() - t0)) * 1000;
  }
  const recordAndEvent = await run(async (actor, revision, turn) => {
    const ack = await publisher.publish(`$KV.${tag}kv.a${actor}`, body, {
      expectedLastSubjectSequence: revision,
    });
    await publisher.publish(`${tag}.evt.a${actor}.x`, body, { msgId: `${tag}.${turn}` });
    return ack.seq;
  });
  const eventAsWrite = await run(async (actor, revision, turn) => {
    // The per-subject sequence is the stream sequence of the subject's last message.
    const ack = await publisher.publish(`${tag}.evt.b${actor}`, body, {
      expectedLastSubjectSequence: revision,
      msgId: `${tag}.b.${turn}`,
    });
    return ack.seq;
  });
  publisher.close();
  await kv.destroy();
  await jsm.streams.delete(`${tag}_EVT`);
  return { recordAndEvent, eventAsWrite };
}

interface Histogram {
  buckets: { le: number; count: number }[];
}

async function turnHistogram(hosts: HostProcess[]): Promise<Histogram> {
  const byLe = new Map<number, number>();
  for (const h of hosts) {
    const text = await (await fetch(`http://127.0.0.1:${h.metricsPort}/metrics`)).text();
    for (const line of text.split("\n")) {
      const m = /^xianda_actor_turn_seconds_bucket\{le="([^"]+)"[^}]*\} (\d+)/.exec(line);
      if (m) {
        const le = m[1] === "+Inf" ? Number.POSITIVE_INFINITY : Number(m[1]);
        byLe.set(le, (byLe.get(le) ?? 0) + Number(m[2]));
      }
    }
  }
  return { buckets: [...byLe].sort((a, b) => a[0] - b[0]).map(([le, count]) => ({ le, count })) };
}

function diff(after: Histogram, before: Histogram): Histogram {
  return {
    buckets: after.buckets.map((b) => ({
      le: b.le,
      count: b.count - (before.buckets.find((x) => x.le === b.le)?.count ?? 0),
    })),
  };
}

async function withHosts<T>(
  count: number,
  run: (ctx: {
    nc: NatsConnection;
    topology: Topology;
    client: ActorClient;
    hosts: HostProcess[];
  }) => Promise<T>,
): Promise<T> {
  const nc = await connectNats({ servers: NATS_URL, name: "bench-actors" });
  const topology = new Topology({ namespace: `bench${Date.now().toString(36)}`, partitions: 32 });
  await ensureTopology(nc, topology);
  const env = { XIANDA_NAMESPACE: topology.options.namespace, XIANDA_PARTITIONS: "32" };
  const started = await Promise.allSettled(
    Array.from({ length: count }, (_, i) => startHost(`bench-h${i + 1}`, env)),
  );
  const hosts = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const failed = started.find((s) => s.status === "rejected");
  if (failed) {
    for (const h of hosts) h.kill("SIGKILL");
    throw (failed as PromiseRejectedResult).reason;
  }
  const client = new ActorClient({ nc, topology });
  try {
    // Wait until the hosts hold every partition between them.
    for (let i = 0; i < 200; i++) {
      const ready = await Promise.all(
        hosts.map(
          async (h) =>
            (await (await fetch(`http://127.0.0.1:${h.metricsPort}/readyz`)).json()) as {
              partitions: number[];
            },
        ),
      );
      const held = ready.reduce((n, r) => n + r.partitions.length, 0);
      if (held === 32 && ready.every((r) => r.partitions.length > 0)) break;
      await sleep(100);
    }
    return await run({ nc, topology, client, hosts });
  } finally {
    client.close();
    for (const h of hosts) h.kill("SIGTERM");
    await Promise.all(hosts.map((h) => h.exited));
    await destroyTopology(nc, topology);
    await nc.close();
  }
}

async function appliedEvents(nc: NatsConnection, topology: Topology): Promise<number> {
  const jsm = await jetstreamManager(nc);
  return (await jsm.streams.info(topology.streams.events)).state.messages;
}

/** Sends FLOOD commands as fast as the log takes them; returns commands applied per second. */
async function flood(nc: NatsConnection, topology: Topology, client: ActorClient): Promise<number> {
  // Warm-up: activate every actor once.
  await Promise.all(
    Array.from({ length: ACTORS }, (_, i) =>
      client.send({ type: "probe", id: `a${i}` }, { type: "add", n: 0 }),
    ),
  );
  while ((await appliedEvents(nc, topology)) < ACTORS) await sleep(50);
  const base = await appliedEvents(nc, topology);
  const t0 = performance.now();
  let next = 0;
  const sending = Promise.all(
    Array.from({ length: 2000 }, async () => {
      while (next < FLOOD) {
        const i = next++;
        await client.send({ type: "probe", id: `a${i % ACTORS}` }, { type: "add", n: i });
      }
    }),
  );
  while ((await appliedEvents(nc, topology)) < base + FLOOD) await sleep(20);
  const elapsed = performance.now() - t0;
  await sending;
  return (FLOOD / elapsed) * 1000;
}

/** Sends `target` commands/s for 10 s with `call`; host turn latency and send→outcome latency. */
async function latencyAt(client: ActorClient, hosts: HostProcess[], target: number) {
  const e2e = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
  const before = await turnHistogram(hosts);
  const durationMs = 10_000;
  const t0 = performance.now();
  const inflight: Promise<void>[] = [];
  let sent = 0;
  while (performance.now() - t0 < durationMs) {
    const due = Math.floor(((performance.now() - t0) / 1000) * target);
    for (; sent < due; sent++) {
      const started = performance.now();
      const i = sent;
      inflight.push(
        client.call({ type: "probe", id: `a${i % ACTORS}` }, { type: "add", n: i }).then(() => {
          e2e.recordValue(Math.round((performance.now() - started) * 1000));
        }),
      );
    }
    await sleep(5);
  }
  await Promise.all(inflight);
  const turns = diff(await turnHistogram(hosts), before);
  return {
    target,
    sent,
    turnP50: histogramQuantile(turns.buckets, 0.5) * 1000,
    turnP99: histogramQuantile(turns.buckets, 0.99) * 1000,
    e2eP50: e2e.getValueAtPercentile(50) / 1000,
    e2eP99: e2e.getValueAtPercentile(99) / 1000,
  };
}

export async function benchActors(): Promise<ResultRow[]> {
  const nc = await connectNats({ servers: NATS_URL, name: "bench-ceilings" });
  const raw = await ceilings(nc);
  const shapes = await commitShapes(nc);
  await nc.close();
  console.log(
    `commit shapes: record + event ${Math.round(shapes.recordAndEvent)} turns/s, event as write ${Math.round(shapes.eventAsWrite)} turns/s`,
  );
  console.log(
    `raw ceilings: js.publish acked ${Math.round(raw.library)}/s, pipelined acked ${Math.round(raw.pipelined)}/s, kv.put ${Math.round(raw.kvPut)}/s`,
  );

  const oneHost = await withHosts(1, ({ nc, topology, client }) => flood(nc, topology, client));
  console.log(`1 host: ${Math.round(oneHost)} commands/s`);

  const twoHosts = await withHosts(2, async ({ nc, topology, client, hosts }) => {
    const throughput = await flood(nc, topology, client);
    console.log(`2 hosts: ${Math.round(throughput)} commands/s`);
    // Latency at half the 8,000/s target (the figure) and at half of what was just
    // measured (stricter); BENCH_ACTORS_RATES overrides both, for exploring the curve.
    const rates = process.env.BENCH_ACTORS_RATES?.split(",").map(Number) ?? [
      TARGET_RATE / 2,
      Math.round(throughput / 2),
    ];
    const latencies: Awaited<ReturnType<typeof latencyAt>>[] = [];
    for (const r of rates) {
      const l = await latencyAt(client, hosts, r);
      latencies.push(l);
      console.log(
        `at ${r}/s (${l.sent} calls): turn p50 ${l.turnP50.toFixed(2)} ms, p99 ${l.turnP99.toFixed(2)} ms; send→outcome p50 ${l.e2eP50.toFixed(2)} ms, p99 ${l.e2eP99.toFixed(2)} ms`,
      );
    }
    return { throughput, latencies };
  });

  const row = (r: Omit<ResultRow, "bench">): ResultRow => ({ bench: "actors", ...r });
  const higher = { better: "higher" as const, target: null };
  const lower = { better: "lower" as const, target: null };
  return [
    row({
      figure: "raw acked publish, js.publish (ceiling)",
      value: raw.library,
      unit: "msg/s",
      ...higher,
    }),
    row({
      figure: "raw acked publish, pipelined (ceiling)",
      value: raw.pipelined,
      unit: "msg/s",
      ...higher,
    }),
    row({ figure: "raw KV put (ceiling)", value: raw.kvPut, unit: "op/s", ...higher }),
    row({
      figure: "commit shape: KV record + event (as built)",
      value: shapes.recordAndEvent,
      unit: "turns/s",
      ...higher,
    }),
    row({
      figure: "commit shape: event as the write (variant)",
      value: shapes.eventAsWrite,
      unit: "turns/s",
      ...higher,
    }),
    row({
      figure: "commands/s, 1 host",
      value: oneHost,
      unit: "cmd/s",
      ...higher,
      ceiling: raw.library,
      ratio: oneHost / raw.library,
    }),
    row({
      figure: "commands/s, 2 hosts",
      value: twoHosts.throughput,
      unit: "cmd/s",
      better: "higher",
      target: TARGET_RATE,
      ceiling: raw.library,
      ratio: twoHosts.throughput / raw.library,
    }),
    row({
      figure: "commands/s, 2 hosts vs pipelined ceiling",
      value: twoHosts.throughput,
      unit: "cmd/s",
      ...higher,
      ceiling: raw.pipelined,
      ratio: twoHosts.throughput / raw.pipelined,
    }),
    ...twoHosts.latencies.flatMap((l) => [
      row({
        figure: `turn p50 at ${l.target} cmd/s, 2 hosts`,
        value: l.turnP50,
        unit: "ms",
        ...lower,
      }),
      row({
        figure: `turn p99 at ${l.target} cmd/s, 2 hosts`,
        value: l.turnP99,
        unit: "ms",
        better: "lower",
        target: l.target === TARGET_RATE / 2 ? 20 : null,
      }),
      row({
        figure: `send→outcome p99 at ${l.target} cmd/s`,
        value: l.e2eP99,
        unit: "ms",
        ...lower,
      }),
    ]),
  ];
}
