/** Building the runtime's parts from the typed config: shared by every entry point. */
import type { Logger } from "pino";
import { ActorHost, allActorLogics } from "../actors/index.ts";
import type { NatsConnection } from "@nats-io/transport-node";
import { Topology } from "../nats/index.ts";
import type { Config } from "./config.ts";

export function topologyFrom(config: Config): Topology {
  return new Topology({
    namespace: config.XIANDA_NAMESPACE,
    partitions: config.XIANDA_PARTITIONS,
    replicas: config.XIANDA_REPLICAS,
  });
}

export function actorHostFrom(
  config: Config,
  nc: NatsConnection,
  topology: Topology,
  log: Logger,
): ActorHost {
  return new ActorHost({
    nc,
    topology,
    logics: allActorLogics,
    hostId: config.HOST_ID,
    log,
    leaseTtlMs: config.LEASE_TTL_MS,
    renewMs: config.LEASE_RENEW_MS,
    partition: { idleMs: config.ACTOR_IDLE_MS },
  });
}
