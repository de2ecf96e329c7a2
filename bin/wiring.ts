/** Building the runtime's parts from the typed config: shared by every entry point. */
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { ActorClient, ActorHost, allActorLogics, WavePlanner } from "../actors/index.ts";
import type { Singleton } from "../actors/index.ts";
import { EtaModel, OsrmClient } from "../geo/index.ts";
import { connectNats, ensureTopology, Topology, TopologyMissingError } from "../nats/index.ts";
import type { TopologyHandles } from "../nats/index.ts";
import { TelemetryBridge } from "../telemetry/index.ts";
import { Tracker, WaveFeed } from "../tracking/index.ts";
import type { Config } from "./config.ts";

export function topologyFrom(config: Config): Topology {
  return new Topology({
    namespace: config.XIANDA_NAMESPACE,
    partitions: config.XIANDA_PARTITIONS,
    replicas: config.XIANDA_REPLICAS,
  });
}

/** The tracker runs once per deployment: on whichever host holds partition 0. */
export function trackerSingleton(
  config: Config,
  topology: Topology,
  log: Logger,
): Singleton & { readonly current: () => Tracker | null } {
  let current: Tracker | null = null;
  return {
    current: () => current,
    name: "tracker",
    partition: 0,
    async start() {
      // Its own connection: a tracker that falls behind a flood of fixes must not make the
      // server drop the host's connection as a slow consumer.
      const credentials = config.NATS_CREDS_TRACKER ?? config.NATS_CREDS;
      const own = await connectNats({
        servers: config.NATS_URL,
        name: "xianda-tracker",
        ...(credentials ? { credentialsFile: credentials } : {}),
      });
      // The host applied or checked the topology before it took the partition.
      const { positions } = await ensureTopology(own, topology, { mode: "check" });
      const actors = new ActorClient({ nc: own, topology });
      const eta = new EtaModel(
        config.OSRM_URL ? { source: new OsrmClient({ baseUrl: config.OSRM_URL }) } : {},
      );
      const tracker = new Tracker({ nc: own, topology, positions, actors, eta, log });
      await tracker.start();
      current = tracker;
      return {
        async stop() {
          current = null;
          await tracker.stop();
          actors.close();
          await own.drain();
        },
      };
    },
  };
}

/**
 * The telemetry bridge (TELEMETRY stream → vehicle actors) runs once per deployment, on the host
 * holding partition 1 (the tracker has partition 0: two busy singletons, two hosts when there
 * are two).
 */
export function telemetrySingleton(
  config: Config,
  topology: Topology,
  log: Logger,
): Singleton & { readonly current: () => TelemetryBridge | null } {
  let current: TelemetryBridge | null = null;
  return {
    current: () => current,
    name: "telemetry-bridge",
    partition: 1 % topology.partitions,
    async start() {
      const credentials = config.NATS_CREDS_BRIDGE ?? config.NATS_CREDS;
      const own = await connectNats({
        servers: config.NATS_URL,
        name: "xianda-telemetry-bridge",
        ...(credentials ? { credentialsFile: credentials } : {}),
      });
      const { leases } = await ensureTopology(own, topology, { mode: "check" });
      const actors = new ActorClient({ nc: own, topology });
      const bridge = new TelemetryBridge({ nc: own, topology, actors, leases, log });
      await bridge.start();
      current = bridge;
      return {
        async stop() {
          current = null;
          await bridge.stop();
          actors.close();
          await own.drain();
        },
      };
    },
  };
}

/**
 * The waves' services run once per deployment, on the host holding partition 2: the planner
 * (each wave's `plan_requested` → a plan on a worker thread → `plan_ready`) and the wave feed
 * (routes to drivers, plan changes and alerts to the console).
 */
export function wavePlannerSingleton(config: Config, topology: Topology, log: Logger): Singleton {
  return {
    name: "wave-planner",
    partition: 2 % topology.partitions,
    async start() {
      // The tracker's user fits: it reads EVT through ordered consumers and sends commands.
      const credentials = config.NATS_CREDS_TRACKER ?? config.NATS_CREDS;
      const own = await connectNats({
        servers: config.NATS_URL,
        name: "xianda-wave-planner",
        ...(credentials ? { credentialsFile: credentials } : {}),
      });
      await ensureTopology(own, topology, { mode: "check" });
      const actors = new ActorClient({ nc: own, topology });
      const planner = new WavePlanner({ nc: own, topology, actors, log });
      await planner.start();
      const feed = new WaveFeed({ nc: own, topology, log });
      await feed.start();
      return {
        async stop() {
          feed.stop();
          await planner.stop();
          actors.close();
          await own.drain();
        },
      };
    },
  };
}

export function actorHostFrom(
  config: Config,
  nc: NatsConnection,
  topology: Topology,
  log: Logger,
  singletons: readonly Singleton[] = [],
): ActorHost {
  return new ActorHost({
    singletons,
    nc,
    topology,
    logics: allActorLogics,
    hostId: config.HOST_ID,
    log,
    leaseTtlMs: config.LEASE_TTL_MS,
    renewMs: config.LEASE_RENEW_MS,
    partition: { idleMs: config.ACTOR_IDLE_MS },
    topologyMode: config.XIANDA_TOPOLOGY,
  });
}

/**
 * A service that never manages the topology (gateway, projector) checks it at start and waits
 * while it is missing (the first deployment, before `npm run nats:setup` or the first host).
 */
export async function awaitTopology(
  nc: NatsConnection,
  topology: Topology,
  log: Logger,
  timeoutMs = 60_000,
): Promise<TopologyHandles> {
  const deadline = Date.now() + timeoutMs;
  for (let logged = false; ; logged = true) {
    try {
      return await ensureTopology(nc, topology, { mode: "check" });
    } catch (err) {
      if (!(err instanceof TopologyMissingError) || Date.now() > deadline) throw err;
      if (!logged) log.warn({ err: err.message }, "waiting for the JetStream topology");
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
