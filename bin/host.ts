/**
 * An actor host process: `npm run host`. Runs every actor type, holds its share of partitions,
 * serves /metrics, /healthz and /readyz, and hands its partitions over on SIGTERM/SIGINT.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { connectNats } from "../nats/index.ts";
import { loadConfig } from "./config.ts";
import {
  actorHostFrom,
  telemetrySingleton,
  topologyFrom,
  trackerSingleton,
  wavePlannerSingleton,
} from "./wiring.ts";

const config = loadConfig();
const log = pino({ level: config.LOG_LEVEL, base: { service: "actor-host" } });

const nc = await connectNats({
  servers: config.NATS_URL,
  name: `xianda-host-${config.HOST_ID}`,
  ...(config.NATS_CREDS ? { credentialsFile: config.NATS_CREDS } : {}),
});
const topology = topologyFrom(config);
const tracker = trackerSingleton(config, topology, log);
const telemetry = telemetrySingleton(config, topology, log);
const waves = wavePlannerSingleton(config, topology, log);
const host = actorHostFrom(config, nc, topology, log, [tracker, telemetry, waves]);
await host.start();

const server = createServer(async (req, res) => {
  if (req.url === "/metrics") {
    res.setHeader("content-type", host.metrics.registry.contentType);
    const trackerMetrics = (await tracker.current()?.registry.metrics()) ?? "";
    const telemetryMetrics = (await telemetry.current()?.metrics.registry.metrics()) ?? "";
    res.end((await host.metrics.registry.metrics()) + trackerMetrics + telemetryMetrics);
  } else if (req.url === "/healthz") {
    res.end(JSON.stringify({ ok: !nc.isClosed() }));
  } else if (req.url === "/readyz") {
    const ready = !nc.isClosed() && host.partitions.length > 0;
    res.statusCode = ready ? 200 : 503;
    res.end(JSON.stringify({ ready, partitions: host.partitions }));
  } else {
    res.statusCode = 404;
    res.end();
  }
});
server.listen(config.METRICS_PORT, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  // Test harnesses read this line to find the port.
  log.info({ metricsPort: port, hostId: host.hostId }, "host ready");
});

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "stopping");
  server.close();
  await host.stop();
  await nc.drain();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
