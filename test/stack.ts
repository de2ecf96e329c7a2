/**
 * The whole live stack in one process for integration and browser tests: an actor host, the
 * tracker and a gateway serving the apps, on the real nats-server, in a namespace of its own.
 * Also the few domain steps tests need to get an order to a courier (through the same actor
 * messages the apps and the store API send).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import { Registry } from "prom-client";
import { ActorClient, ActorHost, allActorLogics, WavePlanner } from "../actors/index.ts";
import type { Principal } from "../actors/index.ts";
import { buildConsoleApp } from "../console/build.ts";
import { buildTrackingPage } from "../customer-mini/h5/build.ts";
import { buildDriverApp } from "../driver-app/build.ts";
import {
  createFileProofStore,
  createGateway,
  createMemoryRateLimiter,
  signToken,
} from "../gateway/index.ts";
import type { GatewayLimits } from "../gateway/index.ts";
import { EtaModel } from "../geo/index.ts";
import { ensureTopology } from "../nats/index.ts";
import type { Topology } from "../nats/index.ts";
import { Tracker, WaveFeed } from "../tracking/index.ts";
import { DemoFlows } from "../bin/demo-flows.ts";
import { newKeyringEntry, parseKeyring } from "../pii/index.ts";
import type { AssignedOrderOptions } from "../bin/demo-flows.ts";
import { cleanup, connectForTest, testTopology, waitFor } from "./nats-helpers.ts";
import { loadSigner, publicJwks } from "../coldchain/index.ts";
import type { CertificateSigner } from "../coldchain/index.ts";
import { migrate, openDatabase } from "../db/index.ts";
import type { Database } from "../db/index.ts";
import { connectNats } from "../nats/index.ts";
import { Projector } from "../projector/index.ts";
import { TelemetryBridge } from "../telemetry/index.ts";

export { KUNMING_DOOR, KUNMING_STORE } from "../bin/demo-flows.ts";
export type { AssignedOrderOptions };

export interface Stack {
  readonly url: string;
  /** The history database (PGlite in memory), filled by the projector. */
  readonly db: Database;
  readonly projector: Projector;
  readonly signer: CertificateSigner;
  readonly nc: NatsConnection;
  readonly topology: Topology;
  readonly actors: ActorClient;
  readonly tracker: Tracker;
  readonly tokens: {
    courier(id: string, market?: string): Promise<string>;
    dispatcher(market?: string): Promise<string>;
    shopper(orderId: string, ttlSeconds?: number): Promise<string>;
    store(storeId: string): Promise<string>;
    admin(): Promise<string>;
  };
  /** Market, store and an on-shift courier; then an order placed, ready and assigned to it. */
  assignedOrder(options: AssignedOrderOptions): Promise<{ pickupCode: string; pin: string }>;
  /** The store hands the order to its courier with the pickup code. */
  pickUp(orderId: string, storeId?: string): Promise<void>;
  /** The courier delivers with the shopper's PIN. */
  deliver(orderId: string, courierId: string): Promise<void>;
  stop(): Promise<void>;
}

const SECRET = "test-secret-not-for-production-0123456789";

export async function startStack(
  options: {
    partitions?: number;
    limits?: Partial<GatewayLimits>;
    /** Another nats-server (one with an MQTT listener); default NATS_URL. */
    natsUrl?: string;
    /** How long after a delivery the certificate is built (ms). Default 500. */
    certificateSettleMs?: number;
    /** The wave planner's time budget per plan (ms). Default 2000. */
    wavePlanMs?: number;
  } = {},
): Promise<Stack> {
  const log = pino({ level: process.env.STACK_LOG_LEVEL ?? "silent" });
  const connect = (name: string) =>
    options.natsUrl ? connectNats({ servers: options.natsUrl, name }) : connectForTest(name);
  const nc = await connect("stack");
  const topology = testTopology({ partitions: options.partitions ?? 4 });
  const handles = await ensureTopology(nc, topology);
  const host = new ActorHost({
    nc,
    topology,
    logics: allActorLogics,
    log,
    renewMs: 200,
    leaseTtlMs: 600,
  });
  await host.start();
  await waitFor("partitions held", () => host.partitions.length === topology.partitions);
  const actors = new ActorClient({ nc, topology });
  const registry = new Registry();
  // The tracker has a connection of its own, as in production (bin/wiring.ts).
  const trackerNc = await connect("stack-tracker");
  const trackerActors = new ActorClient({ nc: trackerNc, topology });
  const tracker = new Tracker({
    nc: trackerNc,
    topology,
    positions: handles.positions,
    actors: trackerActors,
    eta: new EtaModel(),
    log,
    etaEveryMs: 1000,
    temperatureEveryMs: 1000,
  });
  await tracker.start();
  // The waves' planner and feed, as the host holding partition 2 runs them (bin/wiring.ts).
  const wavePlanner = new WavePlanner({
    nc: trackerNc,
    topology,
    actors: trackerActors,
    log,
    plan: { timeLimitMs: options.wavePlanMs ?? 2000 },
  });
  await wavePlanner.start();
  const waveFeed = new WaveFeed({ nc: trackerNc, topology, log });
  await waveFeed.start();
  // History and certificates: PGlite in memory, the projector, a signing key of the test's own.
  const history = await openDatabase();
  await migrate(history);
  const keyDir = await mkdtemp(join(tmpdir(), "xianda-stack-keys-"));
  const signer = await loadSigner({ file: join(keyDir, "cert-key.pem") });
  const projector = new Projector({
    nc,
    topology,
    db: history.db,
    actors,
    signer,
    log,
    settleMs: options.certificateSettleMs ?? 500,
  });
  await projector.start();
  // Van readings: TELEMETRY stream → vehicle actors (MQTT topics `<namespace>/fleet/vehicle/…`).
  const bridge = new TelemetryBridge({ nc, topology, actors, leases: handles.leases, log });
  await bridge.start();
  // Proof-of-delivery photos, as the gateway process keeps them (under DATA_DIR/proofs).
  const proofDir = await mkdtemp(join(tmpdir(), "xianda-stack-proofs-"));
  const gateway = createGateway({
    nc,
    topology,
    actors,
    auth: { secret: SECRET },
    rateLimiter: createMemoryRateLimiter({ limit: 1000, windowMs: 1000 }),
    ...(options.limits ? { limits: options.limits } : {}),
    log,
    metrics: registry,
    proofs: createFileProofStore(proofDir),
    coldChain: { db: history.db, jwks: publicJwks(signer) },
    // Shoppers' contacts: a key of the stack's own, as `npm start` makes one under DATA_DIR.
    pii: parseKeyring(newKeyringEntry("stack")),
    apps: {
      driver: await buildDriverApp(),
      console: await buildConsoleApp({ tileUrl: null }),
      tracking: await buildTrackingPage({ tileUrl: null }),
    },
  });
  const { port } = await gateway.listen(0, "127.0.0.1");
  const url = `http://127.0.0.1:${port}`;

  const token = (claims: { sub: string; role: string; mkt?: string; ord?: string }, ttl = 3600) =>
    signToken(
      { ...claims, exp: Math.floor(Date.now() / 1000) + ttl } as Parameters<typeof signToken>[0],
      SECRET,
    );
  const tokens: Stack["tokens"] = {
    courier: (id, market = "km") => token({ sub: id, role: "courier", mkt: market }),
    dispatcher: (market = "km") => token({ sub: "d-1", role: "dispatcher", mkt: market }),
    shopper: (orderId, ttl) =>
      token({ sub: `shopper-${orderId}`, role: "shopper", ord: orderId }, ttl),
    store: (storeId) => token({ sub: storeId, role: "store" }),
    admin: () => token({ sub: "admin", role: "admin" }),
  };

  const flows = new DemoFlows(actors);

  return {
    url,
    db: history.db,
    projector,
    signer,
    nc,
    topology,
    actors,
    tracker,
    tokens,
    assignedOrder: (o) => flows.assignedOrder(o),
    pickUp: (orderId) => flows.pickUp(orderId),
    deliver: (orderId, courierId) => flows.deliver(orderId, courierId),
    async stop() {
      await gateway.close();
      await bridge.stop();
      await projector.stop();
      await history.close();
      await rm(keyDir, { recursive: true, force: true });
      waveFeed.stop();
      await wavePlanner.stop();
      await tracker.stop();
      trackerActors.close();
      await trackerNc.close();
      actors.close();
      await host.stop();
      await cleanup(nc, topology);
      await nc.close();
      await rm(proofDir, { recursive: true, force: true });
    },
  };
}
