/**
 * A gateway process: `npm run gateway`. The HTTP API, the websocket hubs and the apps (driver
 * app, dispatcher console, shoppers' tracking page) on one port. Stateless: run as many as you
 * like behind a load balancer with the same XIANDA_AUTH_SECRET.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import pino from "pino";
import { ActorClient } from "../actors/index.ts";
import { connectRedis, createRateLimiter } from "../db/index.ts";
import {
  createFallbackRateLimiter,
  createFileProofStore,
  createGateway,
  createMemoryRateLimiter,
  parseWebhookEndpoints,
  WebhookService,
} from "../gateway/index.ts";
import { connectNats } from "../nats/index.ts";
import { buildApps } from "./apps.ts";
import { loadConfig } from "./config.ts";
import { awaitTopology, topologyFrom } from "./wiring.ts";
import { certificateSigner, openHistory } from "./history.ts";
import { publicJwks } from "../coldchain/index.ts";
import { piiKeyring } from "./pii.ts";

const config = loadConfig();

const log = pino({ level: config.LOG_LEVEL, base: { service: "gateway" } });

/** A warning at most every 10 s (an outage would otherwise log on every call). */
function throttledWarn(msg: string): (err: unknown) => void {
  let last = 0;
  return (err) => {
    if (Date.now() - last < 10_000) return;
    last = Date.now();
    log.warn({ err }, msg);
  };
}
if (!config.XIANDA_AUTH_SECRET) {
  log.fatal("XIANDA_AUTH_SECRET is required: every gateway of a deployment signs with it");
  process.exit(1);
}

const nc = await connectNats({
  servers: config.NATS_URL,
  name: "xianda-gateway",
  ...(config.NATS_CREDS ? { credentialsFile: config.NATS_CREDS } : {}),
});
const topology = topologyFrom(config);
await awaitTopology(nc, topology, log);
const actors = new ActorClient({ nc, topology });
const redis = config.REDIS_URL
  ? await connectRedis({
      url: config.REDIS_URL,
      // Commands fail at once while Redis is away (rather than queue until it returns).
      disableOfflineQueue: true,
      onError: throttledWarn("Redis connection lost; reconnecting"),
    })
  : null;
if (!redis) log.warn("REDIS_URL unset: location rate limits are per gateway process");
// Certificates and temperature charts read the history database; without one those routes
// answer 503 (a gateway in front of a deployment without Postgres still serves the rest).
const history = config.DATABASE_URL ? await openHistory(config) : null;
if (!history) log.warn("DATABASE_URL unset: certificate and temperature routes answer 503");
if (!config.XIANDA_PII_KEYS) {
  log.warn(
    "XIANDA_PII_KEYS unset: shoppers' contacts are encrypted with the keyring file under DATA_DIR, which every gateway of a deployment must share",
  );
}
const gateway = createGateway({
  nc,
  topology,
  actors,
  auth: { secret: config.XIANDA_AUTH_SECRET },
  ...(redis
    ? {
        // Redis down or slow: each gateway limits on its own until it answers again.
        rateLimiter: createFallbackRateLimiter(
          createRateLimiter(redis, {
            name: "courier-location",
            limit: config.LOCATION_RATE_PER_S,
            windowMs: 1000,
          }),
          createMemoryRateLimiter({ limit: config.LOCATION_RATE_PER_S, windowMs: 1000 }),
          { onFailure: throttledWarn("Redis rate limiter unavailable; limiting in this process") },
        ),
      }
    : {}),
  limits: { locationRate: config.LOCATION_RATE_PER_S },
  log,
  apps: buildApps(config),
  proofs: createFileProofStore(join(config.DATA_DIR, "proofs")),
  pii: await piiKeyring(config),
  ...(history
    ? { coldChain: { db: history.db, jwks: publicJwks(await certificateSigner(config)) } }
    : {}),
});
const { port } = await gateway.listen(config.GATEWAY_PORT, config.GATEWAY_HOST);
log.info({ port, host: config.GATEWAY_HOST }, "gateway listening");
const webhooks = config.WEBHOOKS_FILE
  ? new WebhookService({
      nc,
      topology,
      actors,
      endpoints: parseWebhookEndpoints(await readFile(config.WEBHOOKS_FILE, "utf8")),
      log,
    })
  : null;
await webhooks?.start();

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "stopping");
  await webhooks?.stop();
  await gateway.close();
  await history?.close();
  actors.close();
  await redis?.close();
  await nc.drain();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
