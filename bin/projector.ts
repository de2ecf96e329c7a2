/**
 * The projector process: `npm run projector`. Cold-chain evidence from the EVT stream into
 * Postgres (readings, excursions) and a signed certificate per delivered chilled or frozen
 * order. Run one or more (they share durable consumers; every write is idempotent).
 */
import pino from "pino";
import { ActorClient } from "../actors/index.ts";
import { connectNats } from "../nats/index.ts";
import { Projector } from "../projector/index.ts";
import { loadConfig } from "./config.ts";
import { certificateSigner, openHistory } from "./history.ts";
import { awaitTopology, topologyFrom } from "./wiring.ts";

const config = loadConfig();
const log = pino({ level: config.LOG_LEVEL, base: { service: "projector" } });
const nc = await connectNats({
  servers: config.NATS_URL,
  name: "xianda-projector",
  ...(config.NATS_CREDS ? { credentialsFile: config.NATS_CREDS } : {}),
});
const topology = topologyFrom(config);
await awaitTopology(nc, topology, log);
const history = await openHistory(config);
const actors = new ActorClient({ nc, topology });
const projector = new Projector({
  nc,
  topology,
  db: history.db,
  actors,
  signer: await certificateSigner(config),
  log,
  settleMs: config.CERT_SETTLE_MS,
});
await projector.start();
log.info({ driver: history.driver }, "projector running");

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "stopping");
  await projector.stop();
  actors.close();
  await history.close();
  await nc.drain();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
