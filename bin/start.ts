/**
 * `npm start`: xianda live on embedded defaults. Uses NATS at NATS_URL or starts one (with an
 * MQTT listener for the vans' loggers), runs an actor host (with the tracker and the telemetry
 * bridge), the projector and a gateway serving the apps, and a simulated city on it
 * (sim/city): stores and pickup points in the city's real extent, couriers on e-bikes and in
 * refrigerated vans who are real clients of the gateway, shops placing orders by the day's
 * demand curve. The market's own dispatch engine gives out the work. Prints the console, a
 * driver-app session for `c-you`, shopper tracking links and a live summary every 5 s; Ctrl-C
 * stops everything it started.
 *
 * The simulation's knobs (read here, the entry point): SIM_CITY (Kunming; Zhaotong, Wenshan,
 * Changsha, Nanjing), SIM_COURIERS (12), SIM_VANS (2 of them), SIM_WEATHER (clear, rain,
 * heavy_rain), SIM_SPEEDUP (1: the wall clock), SIM_START (HH:MM, where an accelerated day
 * starts), SIM_SEED (1).
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pino from "pino";
import { ActorClient } from "../actors/index.ts";
import { createFileProofStore, createGateway, signToken } from "../gateway/index.ts";
import { connectNats } from "../nats/index.ts";
import type { TokenClaims } from "../protocol/index.ts";
import { z } from "zod";
import mqtt from "mqtt";
import type { MqttClient } from "mqtt";
import { OsrmClient } from "../geo/index.ts";
import {
  cityByName,
  CityWorld,
  defaultVans,
  simClock,
  todayAt,
  WEATHER,
  weatherByName,
} from "../sim/city/index.ts";
import type { City, RouteSource, Weather } from "../sim/city/index.ts";
import { mqttTransport, natsTransport } from "../sim/van.ts";
import { buildApps } from "./apps.ts";
import { loadConfig } from "./config.ts";
import { piiKeyring } from "./pii.ts";
import { actorCityAdmin } from "./demo-flows.ts";
import { ensureNats, NatsServerMissingError } from "./nats-server.ts";
import type { LocalNats } from "./nats-server.ts";
import {
  actorHostFrom,
  telemetrySingleton,
  topologyFrom,
  trackerSingleton,
  wavePlannerSingleton,
} from "./wiring.ts";
import { certificateSigner, openHistory } from "./history.ts";
import { publicJwks } from "../coldchain/index.ts";
import { Projector } from "../projector/index.ts";

const config = loadConfig();
const log = pino({ level: config.LOG_LEVEL === "info" ? "warn" : config.LOG_LEVEL });

/** The simulation's settings (only this entry point reads them). */
const SimSettings = z.object({
  SIM_CITY: z.string().default("kunming"),
  SIM_COURIERS: z.coerce.number().int().min(1).max(90).default(12),
  SIM_VANS: z.coerce.number().int().min(0).max(20).optional(),
  SIM_SPEEDUP: z.coerce.number().positive().max(3600).default(1),
  SIM_WEATHER: z.string().default("clear"),
  SIM_START: z.string().optional(),
  SIM_SEED: z.coerce.number().int().default(1),
});
let city: City;
let weather: Weather;
let sim: z.infer<typeof SimSettings>;
try {
  sim = SimSettings.parse(
    Object.fromEntries(Object.entries(process.env).filter(([k, v]) => k.startsWith("SIM_") && v)),
  );
  city = cityByName(sim.SIM_CITY);
  weather = weatherByName(sim.SIM_WEATHER);
} catch (err) {
  console.error(
    err instanceof z.ZodError
      ? `invalid simulation settings:\n${err.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n")}`
      : (err as Error).message,
  );
  process.exit(2);
}

let nats: LocalNats;
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

let stopping = false;

const nc = await connectNats({ servers: nats.url, name: "xianda-start" });
const topology = topologyFrom(config);
const tracker = trackerSingleton(config, topology, log);
const telemetry = telemetrySingleton(config, topology, log);
const waves = wavePlannerSingleton(config, topology, log);
const host = actorHostFrom(config, nc, topology, log, [tracker, telemetry, waves]);
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
  // Shoppers' contacts: XIANDA_PII_KEYS, else a keyring kept under DATA_DIR (made on first start).
  pii: await piiKeyring(config),
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

const MARKET = city.marketId;
const speedup = sim.SIM_SPEEDUP;
const clock = simClock({
  speedup,
  ...(sim.SIM_START ? { startAt: todayAt(sim.SIM_START) } : {}),
});
console.log(
  `\n鲜达 xianda is running · ${city.name} ${city.nameEn} · ${WEATHER[weather].label} ${weather} · ` +
    (speedup === 1 ? "实时 wall clock" : `${speedup}× 加速 accelerated`) +
    "\n",
);
console.log(
  `  dispatcher console   ${base}/console#token=${await token({ sub: "d-demo", role: "dispatcher", mkt: MARKET })}`,
);
console.log(
  `  driver app (c-you)   ${base}/driver#token=${await token({ sub: "c-you", role: "courier", mkt: MARKET })}`,
);
console.log(`  API docs             ${base}/docs`);

// The vans' loggers speak MQTT to the nats-server we started; to a server we found, NATS.
let vanMqtt: MqttClient | null = null;
if (nats.mqttPort !== null) vanMqtt = await mqtt.connectAsync(`mqtt://127.0.0.1:${nats.mqttPort}`);
const vanTransport = vanMqtt
  ? mqttTransport(vanMqtt)
  : natsTransport(nc, topology.subjects.namespace);

let route: RouteSource | undefined;
if (config.OSRM_URL) {
  const osrm = new OsrmClient({ baseUrl: config.OSRM_URL });
  route = async (from, to, mode) => (await osrm.route(from, to, mode))?.geometry ?? null;
}

let links = 0;
let certificates = 0;
// The simulation talks to the gateway where it listens, whatever the public URL says.
const local = `http://${config.GATEWAY_HOST === "0.0.0.0" ? "127.0.0.1" : config.GATEWAY_HOST}:${port}`;
const world = new CityWorld({
  city,
  gateway: local,
  tokens: (claims, hours) => token(claims, hours),
  admin: actorCityAdmin(actors),
  couriers: sim.SIM_COURIERS,
  ...(sim.SIM_VANS !== undefined ? { vans: sim.SIM_VANS } : {}),
  weather,
  clock,
  seed: sim.SIM_SEED,
  // At night the curve is nearly flat: the demo keeps an order every few minutes coming.
  minOrdersPerMinute: sim.SIM_COURIERS / 40,
  vanTransport,
  ...(route ? { route } : {}),
  onOrder: (order) => {
    // The first few orders' tracking pages, then one now and then.
    if (links >= 3 && (links - 3) % 25 !== 24) {
      links++;
      return;
    }
    links++;
    void token({ sub: `u-${order.orderId}`, role: "shopper", ord: order.orderId }, 2).then((t) =>
      console.log(
        `  shopper tracking     ${base}/t/${t}   (${order.storeName}, ${order.temperatureClass}, ${order.orderId})`,
      ),
    );
  },
  onDelivered: (d) => {
    // A van's first cold deliveries: their signed temperature certificates.
    if (d.vehicleId === null || d.temperatureClass === "ambient" || certificates >= 2) return;
    certificates++;
    void token({ sub: `u-${d.orderId}`, role: "shopper", ord: d.orderId }, 2).then((t) =>
      console.log(
        `  cold-chain certificate  ${base}/v1/orders/${d.orderId}/certificate.html?token=${t}   (${d.temperatureClass}, ${d.vehicleId})`,
      ),
    );
  },
  onAlert: (alert) => {
    // The cold chain's alerts as they come and go (dispatch alerts are in the summary's count).
    if (!/^(temperature_excursion|sensor_silent)/.test(alert.code)) return;
    console.log(
      `  ${alert.code.endsWith("_ended") ? "冷链恢复 cold chain ok" : "冷链告警 cold-chain alert"}   ${alert.message}`,
    );
  },
  onSummary: (line) =>
    console.log(
      `${line} · 定位 fixes ${tracker.current()?.updates ?? 0} · 分区 partitions ${host.partitions.length}/${topology.partitions}`,
    ),
  onProblem: (message) => log.info({ problem: message }, "simulation"),
});

/** The nats-server we started has exited. */
const natsGone = () =>
  nats.child !== null && (nats.child.exitCode !== null || nats.child.signalCode !== null);

async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  console.log("\nstopping…");
  // Whatever still waits after 15 s is cut short: Ctrl-C always ends it.
  setTimeout(() => {
    nats.child?.kill("SIGKILL");
    process.exit(code);
  }, 15_000).unref();
  // From a terminal, Ctrl-C reaches the nats-server we started as well (one process group): give
  // it a moment to go; if it has, nothing is left that could stop gracefully.
  if (nats.child !== null) await new Promise((r) => setTimeout(r, 300));
  if (natsGone()) {
    await world.stop({ offShift: false });
    await history.close().catch(() => {});
    process.exit(code);
  }
  await world.stop();
  await vanMqtt?.endAsync();
  await gateway.close();
  await projector.stop();
  actors.close();
  await host.stop();
  await history.close();
  await nc.drain();
  if (!natsGone()) await nats.stop();
  process.exit(code);
}
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());

console.log(
  `\n  ${city.name}: ${world.places.stores.length} 家门店 stores · ` +
    `${world.places.pickupPoints.length} 个自提点 pickup points · ${sim.SIM_COURIERS} 名骑手 couriers ` +
    `(${Math.min(sim.SIM_COURIERS, sim.SIM_VANS ?? defaultVans(sim.SIM_COURIERS))} 辆冷藏车 vans, loggers over ` +
    `${nats.mqttPort !== null ? `MQTT :${nats.mqttPort}` : "NATS"}) · the first orders go to couriers ` +
    `waiting at their stores; a line every 5 s\n`,
);
try {
  await world.start();
} catch (err) {
  if (!stopping) {
    console.error(`the simulated city could not start: ${(err as Error).message}`);
    await stop(1);
  }
}
