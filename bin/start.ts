/**
 * `npm start`: the platform, live, on embedded defaults. Uses NATS at NATS_URL or starts one,
 * runs an actor host, drives a steady synthetic load through the probe actors (with reminders)
 * and prints a live summary. Ctrl-C stops everything it started.
 */
import pino from "pino";
import { ActorClient } from "../actors/index.ts";
import { connectNats } from "../nats/index.ts";
import { loadConfig } from "./config.ts";
import { actorHostFrom, topologyFrom } from "./wiring.ts";
import { ensureNats, NatsServerMissingError } from "./nats-server.ts";

const config = loadConfig();
const log = pino({ level: config.LOG_LEVEL === "info" ? "warn" : config.LOG_LEVEL });

let nats;
try {
  nats = await ensureNats(config.NATS_URL, config.DATA_DIR);
} catch (err) {
  if (err instanceof NatsServerMissingError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}
console.log(
  nats.child
    ? `started nats-server (JetStream, store in ${config.DATA_DIR}/nats) at ${nats.url}`
    : `using NATS at ${nats.url}`,
);

const nc = await connectNats({ servers: nats.url, name: "xianda-start" });
const topology = topologyFrom(config);
const host = actorHostFrom(config, nc, topology, log);
await host.start();
const client = new ActorClient({ nc, topology });

const PROBES = 200;
const RATE = 500; // commands per second
let sent = 0;
let refused = 0;
let failed = 0;
const started = performance.now();
const load = setInterval(() => {
  const due = Math.floor(((performance.now() - started) / 1000) * RATE);
  for (; sent < due; sent++) {
    const probe = { type: "probe", id: `demo-${sent % PROBES}` };
    const msg =
      sent % 50 === 0
        ? { type: "arm", tag: `ping-${sent}`, delayMs: 2000 }
        : sent % 97 === 0
          ? { type: "refuse", reason: "a refusal, to show one" }
          : { type: "add", n: sent };
    client.call(probe, msg).then(
      (outcome) => {
        if (!outcome.ok) refused++;
      },
      () => failed++,
    );
  }
}, 20);

async function metric(name: string): Promise<number> {
  const m = await host.metrics.registry.getSingleMetric(name)?.get();
  return (m?.values ?? []).reduce((sum, v) => sum + v.value, 0);
}

let lastApplied = 0;
const summary = setInterval(async () => {
  const applied = await metric("xianda_actor_commands_total");
  const fired = await metric("xianda_actor_timers_fired_total");
  const rate = (applied - lastApplied) / 2;
  lastApplied = applied;
  console.log(
    `${new Date().toLocaleTimeString("zh-CN", { timeZone: "Asia/Shanghai" })}  ` +
      `partitions ${host.partitions.length}/${topology.partitions}  applied ${applied} (${rate.toFixed(0)}/s)  ` +
      `refused ${refused}  reminders ${fired}  send errors ${failed}`,
  );
}, 2000);

console.log(
  `xianda platform running: actor host ${host.hostId}, ${RATE} commands/s over ${PROBES} probe actors. Ctrl-C stops.`,
);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  clearInterval(load);
  clearInterval(summary);
  console.log("\nstopping…");
  client.close();
  await host.stop();
  await nc.drain();
  await nats!.stop();
  process.exit(0);
}
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
