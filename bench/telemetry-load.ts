/**
 * The telemetry benchmark's load generator, run as its own process so that its event loop is
 * not the one that receives the alerts it times. It reads a plan (JSON) from the file named by
 * its first argument, connects MQTT clients to nats-server's MQTT listener, drives simulated
 * vans (sim/van.ts) over them and prints JSON lines: marks (`{"mark","at"}`) and, last, its
 * results.
 *
 * - `ceiling`: every connection keeps `inFlightPerConnection` publishes awaiting their PUBACK
 *   (QoS 1) for `seconds`: as fast as the MQTT → TELEMETRY path takes them.
 * - `load`: every van publishes its compartments every `everyMs`, at a random phase. After the
 *   warm-up, every `probe.everyMs` the next probe van (round robin) publishes one warm reading
 *   of `probe.compartment` at once, on its own connection, so it is ordered with its regular
 *   readings; the main process times it to the alert on a /ws/live socket. Times are epoch ms
 *   with sub-millisecond precision (`performance.timeOrigin + performance.now()`), comparable
 *   across processes on one machine.
 */
import { readFileSync } from "node:fs";
import mqtt from "mqtt";
import type { MqttClient } from "mqtt";
import { mqttTransport, SimVan } from "../sim/van.ts";

export interface TelemetryLoadPlan {
  readonly mqttUrl: string;
  /** Van ids are `<prefix><i>`, i < count. */
  readonly vans: { readonly prefix: string; readonly count: number; readonly seed: number };
  /** Van indices that are probes: their doors stay shut, so their only excursions are probes. */
  readonly probeVans: readonly number[];
  /** MQTT connections the vans share (round robin); 0: one per van, as real loggers. */
  readonly connections: number;
  readonly qos: 0 | 1;
  readonly perCompartment: boolean;
  readonly doors: { readonly doorOpensPerMinute: number; readonly leftOpenChance: number };
  readonly phase:
    | { readonly kind: "ceiling"; readonly seconds: number; readonly inFlightPerConnection: number }
    | {
        readonly kind: "load";
        readonly everyMs: number;
        readonly warmupSeconds: number;
        readonly seconds: number;
        readonly probe: {
          readonly everyMs: number;
          readonly compartment: string;
          readonly celsius: number;
        };
      };
}

export interface Probe {
  readonly vehicleId: string;
  readonly compartment: string;
  /** Epoch ms (sub-ms precision) just before the publish. */
  readonly sentAt: number;
}

export interface TelemetryLoadResult {
  readonly kind: "ceiling" | "load";
  readonly connections: number;
  /** From the measuring window's start to its end (the whole flood for `ceiling`). */
  readonly measured: {
    readonly from: number;
    readonly to: number;
    readonly messages: number;
    readonly readings: number;
    readonly ackedMessages: number;
    readonly ackedReadings: number;
  };
  readonly errors: number;
  readonly doorOpenings: number;
  readonly probes: readonly Probe[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.timeOrigin + performance.now();
const mark = (what: string) => console.log(JSON.stringify({ mark: what, at: Date.now() }));

async function connectAll(plan: TelemetryLoadPlan): Promise<MqttClient[]> {
  const n = plan.connections > 0 ? plan.connections : plan.vans.count;
  const clients: MqttClient[] = [];
  for (let i = 0; i < n; i += 100) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(100, n - i) }, (_, j) =>
        mqtt.connectAsync(plan.mqttUrl, {
          clientId: `bench-${process.pid}-${i + j}`,
          clean: true,
          keepalive: 30,
          reconnectPeriod: 1000,
          connectTimeout: 20_000,
        }),
      ),
    );
    clients.push(...batch);
  }
  return clients;
}

function totals(vans: readonly SimVan[]) {
  const t = { messages: 0, readings: 0, ackedMessages: 0, ackedReadings: 0, errors: 0, doors: 0 };
  for (const v of vans) {
    t.messages += v.stats.messages;
    t.readings += v.stats.readings;
    t.ackedMessages += v.stats.ackedMessages;
    t.ackedReadings += v.stats.ackedReadings;
    t.errors += v.stats.errors;
    t.doors += v.stats.doorOpenings;
  }
  return t;
}

async function main(): Promise<void> {
  const plan = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as TelemetryLoadPlan;
  const clients = await connectAll(plan);
  let errors = 0;
  const probeSet = new Set(plan.probeVans);
  const vans = Array.from({ length: plan.vans.count }, (_, i) => {
    const van = new SimVan(`${plan.vans.prefix}${i}`, {
      seed: plan.vans.seed,
      perCompartment: plan.perCompartment,
      doors: probeSet.has(i) ? { doorOpensPerMinute: 0 } : plan.doors,
      transport: mqttTransport(clients[i % clients.length]!, plan.qos),
    });
    van.advance();
    return van;
  });
  console.error(`telemetry load: ${vans.length} vans over ${clients.length} MQTT connections`);

  let result: TelemetryLoadResult;
  const phase = plan.phase;
  if (phase.kind === "ceiling") {
    // Closed loop per connection: `inFlightPerConnection` workers, each publishing the next van
    // of its connection as soon as the previous publish was acknowledged.
    const byClient = clients.map((_, c) => vans.filter((__, i) => i % clients.length === c));
    let stop = false;
    const before = totals(vans);
    const from = Date.now();
    mark("start");
    const workers = byClient.flatMap((own) =>
      Array.from({ length: phase.inFlightPerConnection }, async (_, w) => {
        let k = w;
        while (!stop && own.length > 0) {
          await own[k++ % own.length]!.publishNow().catch(() => errors++);
        }
      }),
    );
    await sleep(phase.seconds * 1000);
    stop = true;
    const to = Date.now();
    mark("end");
    const after = totals(vans);
    await Promise.all(workers);
    result = {
      kind: "ceiling",
      connections: clients.length,
      measured: {
        from,
        to,
        messages: after.messages - before.messages,
        readings: after.readings - before.readings,
        ackedMessages: after.ackedMessages - before.ackedMessages,
        ackedReadings: after.ackedReadings - before.ackedReadings,
      },
      errors,
      doorOpenings: after.doors,
      probes: [],
    };
  } else {
    for (const v of vans) v.start(phase.everyMs);
    await sleep(phase.warmupSeconds * 1000);
    const before = totals(vans);
    const from = Date.now();
    mark("start");
    const probes: Probe[] = [];
    let next = 0;
    const probeVans = plan.probeVans.map((i) => vans[i]!);
    const prober =
      probeVans.length === 0
        ? null
        : setInterval(() => {
            const van = probeVans[next++ % probeVans.length]!;
            probes.push({ vehicleId: van.id, compartment: phase.probe.compartment, sentAt: now() });
            van.inject(phase.probe.compartment, phase.probe.celsius).catch(() => errors++);
          }, phase.probe.everyMs);
    await sleep(phase.seconds * 1000);
    if (prober) clearInterval(prober);
    const to = Date.now();
    mark("end");
    const after = totals(vans);
    await Promise.all(vans.map((v) => v.stop()));
    result = {
      kind: "load",
      connections: clients.length,
      measured: {
        from,
        to,
        messages: after.messages - before.messages,
        readings: after.readings - before.readings,
        ackedMessages: after.ackedMessages - before.ackedMessages,
        ackedReadings: after.ackedReadings - before.ackedReadings,
      },
      errors: errors + after.errors,
      doorOpenings: after.doors,
      probes,
    };
  }
  console.log(JSON.stringify(result));
  await Promise.all(clients.map((c) => c.endAsync().catch(() => {})));
  process.exit(0);
}

await main();
