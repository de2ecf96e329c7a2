/**
 * `npm start`: xianda live on embedded defaults. Uses NATS at NATS_URL or starts one, runs an
 * actor host (with the tracker), a gateway serving the apps, and a small demo: couriers that are
 * real websocket clients deliver orders round a few Kunming streets, one after another. Prints
 * the console, a driver-app session and the current order's tracking link; Ctrl-C stops all.
 *
 * The full simulated city (demand curve, many couriers, vans) is the simulator's issue; this
 * demo drives the same paths through the same APIs.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pino from "pino";
import { ActorClient } from "../actors/index.ts";
import { createFileProofStore, createGateway, signToken } from "../gateway/index.ts";
import { connectNats } from "../nats/index.ts";
import type { TokenClaims } from "../protocol/index.ts";
import { SimCourier } from "../sim/courier.ts";
import { buildApps } from "./apps.ts";
import { loadConfig } from "./config.ts";
import { DemoFlows, KUNMING_DOOR, KUNMING_STORE } from "./demo-flows.ts";
import { ensureNats, NatsServerMissingError } from "./nats-server.ts";
import { actorHostFrom, telemetrySingleton, topologyFrom, trackerSingleton } from "./wiring.ts";
import { certificateSigner, openHistory } from "./history.ts";
import { publicJwks } from "../coldchain/index.ts";
import { Projector } from "../projector/index.ts";

const config = loadConfig();
const log = pino({ level: config.LOG_LEVEL === "info" ? "warn" : config.LOG_LEVEL });

let nats;
try {
  nats = await ensureNats(config.NATS_URL, config.DATA_DIR, config.MQTT_PORT);
} catch (err) {
  if (err instanceof NatsServerMissingError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}
console.log(
  nats.child
    ? `started nats-server (JetStream, store in ${config.DATA_DIR}/nats) at ${nats.url}, MQTT on ${nats.mqttPort}`
    : `using NATS at ${nats.url}`,
);

/** The demo keeps its token secret under DATA_DIR, so links survive a restart. */
function demoSecret(): string {
  if (config.XIANDA_AUTH_SECRET) return config.XIANDA_AUTH_SECRET;
  const file = join(config.DATA_DIR, "auth-secret");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(config.DATA_DIR, { recursive: true });
  const secret = randomBytes(32).toString("hex");
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
const secret = demoSecret();

const nc = await connectNats({ servers: nats.url, name: "xianda-start" });
const topology = topologyFrom(config);
const tracker = trackerSingleton(config, topology, log);
const telemetry = telemetrySingleton(config, topology, log);
const host = actorHostFrom(config, nc, topology, log, [tracker, telemetry]);
await host.start();
const actors = new ActorClient({ nc, topology });
// History (PGlite under DATA_DIR unless DATABASE_URL) and the projector that fills it and
// issues cold-chain certificates.
const history = await openHistory(config);
const signer = await certificateSigner(config);
const projector = new Projector({
  nc,
  topology,
  db: history.db,
  actors,
  signer,
  log,
  settleMs: config.CERT_SETTLE_MS,
});
await projector.start();
const gateway = createGateway({
  nc,
  topology,
  actors,
  auth: { secret },
  limits: { locationRate: config.LOCATION_RATE_PER_S },
  log,
  apps: buildApps(config),
  proofs: createFileProofStore(join(config.DATA_DIR, "proofs")),
  coldChain: { db: history.db, jwks: publicJwks(signer) },
});
const { port } = await gateway.listen(config.GATEWAY_PORT, config.GATEWAY_HOST).catch(() =>
  // The port is taken (another demo?): any free port will do.
  gateway.listen(0, config.GATEWAY_HOST),
);
const base = config.PUBLIC_URL ?? `http://${config.GATEWAY_HOST}:${port}`;
const token = (claims: Omit<TokenClaims, "exp">, hours = 12) =>
  signToken(
    { ...claims, exp: Math.floor(Date.now() / 1000) + hours * 3600 } as TokenClaims,
    secret,
  );

const MARKET = "km";
console.log(`\n鲜达 xianda is running · 昆明 五华区 demo\n`);
console.log(
  `  dispatcher console   ${base}/console#token=${await token({ sub: "d-demo", role: "dispatcher", mkt: MARKET })}`,
);
console.log(
  `  driver app (c-you)   ${base}/driver#token=${await token({ sub: "c-you", role: "courier", mkt: MARKET })}`,
);

const flows = new DemoFlows(actors);
const couriers = ["c-demo-1", "c-demo-2"];
let delivered = 0;
let stopping = false;
const sims: SimCourier[] = [];

/** One courier's endless round: take an order at the store, deliver it, come back. */
async function round(courierId: string, index: number): Promise<void> {
  const sim = new SimCourier(
    { lat: KUNMING_STORE.lat + 0.004 * (index + 1), lng: KUNMING_STORE.lng - 0.003 },
    {
      gateway: base.replace(/^http/, "ws"),
      token: await token({ sub: courierId, role: "courier", mkt: MARKET }),
    },
  );
  sims.push(sim);
  await sim.connect();
  const doors = [KUNMING_DOOR, { lat: 25.0302, lng: 102.7012 }, { lat: 25.0441, lng: 102.7297 }];
  for (let n = 1; !stopping; n++) {
    const orderId = `demo-${index + 1}-${Date.now().toString(36)}`;
    const door = doors[(n + index) % doors.length]!;
    await flows.assignedOrder({ orderId, courierId, marketId: MARKET, door });
    console.log(
      `  shopper tracking     ${base}/t/${await token({ sub: `u-${orderId}`, role: "shopper", ord: orderId }, 2)}   (${orderId}, ${courierId})`,
    );
    await sim.driveTo(KUNMING_STORE);
    await sim.wait(3000);
    if (stopping) return;
    await flows.pickUp(orderId);
    await sim.driveTo(door);
    if (stopping) return;
    await flows.deliver(orderId, courierId);
    delivered++;
    await sim.wait(5000);
  }
}
for (const [i, id] of couriers.entries()) {
  void round(id, i).catch((err) => {
    if (!stopping) console.error(`demo courier ${id} stopped: ${(err as Error).message}`);
  });
}

const summary = setInterval(() => {
  const t = tracker.current();
  console.log(
    `${new Date().toLocaleTimeString("zh-CN", { timeZone: "Asia/Shanghai" })}  ` +
      `partitions ${host.partitions.length}/${topology.partitions}  fixes ${t?.updates ?? 0}  ` +
      `delivered ${delivered}  couriers ${sims.map((s) => `${s.position.lat.toFixed(4)},${s.position.lng.toFixed(4)}`).join("  ")}`,
  );
}, 5000);

async function stop() {
  if (stopping) return;
  stopping = true;
  clearInterval(summary);
  console.log("\nstopping…");
  for (const sim of sims) sim.close();
  await gateway.close();
  await projector.stop();
  actors.close();
  await host.stop();
  await history.close();
  await nc.drain();
  await nats!.stop();
  process.exit(0);
}
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
