/**
 * `npm start`: xianda live on embedded defaults. Uses NATS at NATS_URL or starts one, runs an
 * actor host (with the tracker), a gateway serving the apps, and a small demo: couriers that are
 * real websocket clients deliver orders round a few Kunming streets, one after another. Prints
 * the console, a driver-app session and the current order's tracking link; Ctrl-C stops all.
 *
 * A refrigerated van reports its compartments over MQTT (nats-server's MQTT listener when we
 * started the server, else straight to NATS) and carries chilled orders, handed off into its
 * chilled compartment through the store API; each delivery prints its cold-chain certificate.
 * The full simulated city (demand curve, many couriers and vans) is the simulator's issue; this
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
import mqtt from "mqtt";
import type { MqttClient } from "mqtt";
import { SimCourier } from "../sim/courier.ts";
import {
  compartmentConfigs,
  mqttTransport,
  natsTransport,
  SimVan,
  STANDARD_COMPARTMENTS,
} from "../sim/van.ts";
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
/**
 * A refrigerated van: its logger publishes its four compartments every 2 s over MQTT (to the
 * nats-server we started) or straight to NATS, and its driver carries chilled orders, handed off
 * into compartment C through the store API, which checks the compartment first.
 */
const VAN = "van-km-1";
const VAN_DRIVER = "c-demo-van";
let vanLogger: SimVan | null = null;
let vanMqtt: MqttClient | null = null;
async function vanRound(): Promise<void> {
  const configured = await actors.call(
    { type: "vehicle", id: VAN },
    {
      type: "configure",
      compartments: compartmentConfigs(STANDARD_COMPARTMENTS, 120),
      marketId: MARKET,
      driverId: VAN_DRIVER,
    },
    { by: { role: "dispatcher", id: "d-demo" }, id: `setup.vehicle.${VAN}` },
  );
  if (!configured.ok) throw new Error(`van not configured: ${configured.refusal.message}`);
  if (nats!.mqttPort !== null)
    vanMqtt = await mqtt.connectAsync(`mqtt://127.0.0.1:${nats!.mqttPort}`);
  vanLogger = new SimVan(VAN, {
    transport: vanMqtt ? mqttTransport(vanMqtt) : natsTransport(nc, topology.subjects.namespace),
  });
  vanLogger.start(2000);
  const sim = new SimCourier(
    { lat: KUNMING_STORE.lat - 0.003, lng: KUNMING_STORE.lng + 0.004 },
    {
      gateway: base.replace(/^http/, "ws"),
      token: await token({ sub: VAN_DRIVER, role: "courier", mkt: MARKET }),
    },
  );
  sims.push(sim);
  await sim.connect();
  // Let the van report a few readings: a compartment nobody has heard from takes no goods.
  await sim.wait(5000);
  const storeToken = await token({ sub: "s-1", role: "store" });
  const doors = [
    { lat: 25.0249, lng: 102.7326 },
    { lat: 25.0512, lng: 102.6941 },
  ];
  for (let n = 0; !stopping; n++) {
    const orderId = `demo-van-${Date.now().toString(36)}`;
    const door = doors[n % doors.length]!;
    const { pickupCode } = await flows.assignedOrder({
      orderId,
      courierId: VAN_DRIVER,
      marketId: MARKET,
      door,
      temperatureClass: "chilled",
      vehicle: { mode: "van", vehicleId: VAN },
    });
    console.log(
      `  shopper tracking     ${base}/t/${await token({ sub: `u-${orderId}`, role: "shopper", ord: orderId }, 2)}   (${orderId}, chilled, ${VAN})`,
    );
    await sim.driveTo(KUNMING_STORE);
    if (stopping) return;
    await actors.call(
      { type: "order", id: orderId },
      { type: "arrive_at_store", courierId: VAN_DRIVER },
      { by: { role: "courier", id: VAN_DRIVER } },
    );
    const res = await fetch(`${base}/v1/stores/s-1/orders/${orderId}/hand-off`, {
      method: "POST",
      headers: { authorization: `Bearer ${storeToken}`, "content-type": "application/json" },
      body: JSON.stringify({ pickupCode, courierId: VAN_DRIVER, compartmentId: "C" }),
    });
    if (res.status !== 202) {
      // The compartment is out of range (a door left open): the store keeps the goods for now.
      const body = (await res.json()) as { error?: { message?: string } };
      console.log(`  hand-off refused     ${orderId}: ${body.error?.message ?? res.status}`);
      await sim.wait(30_000);
      continue;
    }
    await sim.driveTo(door);
    if (stopping) return;
    await flows.deliver(orderId, VAN_DRIVER);
    delivered++;
    console.log(
      `  cold-chain certificate  ${base}/v1/orders/${orderId}/certificate.html?token=${await token({ sub: `u-${orderId}`, role: "shopper", ord: orderId }, 2)}`,
    );
    await sim.wait(5000);
  }
}
void vanRound().catch((err) => {
  if (!stopping) console.error(`demo van stopped: ${(err as Error).message}`);
});

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
  vanLogger?.stop();
  await vanMqtt?.endAsync();
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
