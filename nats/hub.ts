/**
 * The hub's history of every city. Each city runs on a nats-server leaf node with a JetStream
 * domain of its own (deploy/nats/cluster/city.conf) and keeps its streams there, so it goes on
 * dispatching when its link to the hub is cut. The hub (a cluster, deploy/nats/cluster/hub.conf)
 * keeps, per city, a stream that *sources* the city's events and one that sources its telemetry
 * across the domains (`$JS.<domain>.API`). The server remembers how far each source has copied,
 * so when a cut link returns the copy resumes where it stopped and the hub's history fills in,
 * in the city's order, each message once.
 *
 * The history streams have no subjects of their own: a hub stream listening on a city's subjects
 * would also capture the city's publishes over the leaf link and answer them with a second
 * PubAck. Cities therefore also use their domain as their namespace (`XIANDA_NAMESPACE`), so no
 * two cities' subjects meet on the hub.
 */
import { jetstreamManager, JetStreamApiError } from "@nats-io/jetstream";
import type { StreamConfig, StreamSource } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import { TopologyError } from "./errors.ts";
import type { Topology } from "./topology.ts";

/** A city whose history the hub keeps. */
export interface CityHistorySource {
  /** The city's JetStream domain: its leaf node's `jetstream { domain }`. */
  readonly domain: string;
  /** The city's topology (its namespace names the streams that are copied). */
  readonly topology: Topology;
}

export interface HubHistoryOptions {
  /** Replicas of the history streams on the hub. Default 1; 3 on the hub cluster. */
  readonly replicas?: number;
  /** How long the hub keeps a city's events (ms). Default: as long as the city does. */
  readonly eventRetentionMs?: number;
  /** How long the hub keeps temperature evidence (ms). Default: as long as the city does. */
  readonly telemetryRetentionMs?: number;
}

/** The hub's streams for one city. */
export interface HubHistoryStreams {
  readonly domain: string;
  /** Copy of the city's events (`EVT`), e.g. `HISTORY_KUNMING_EVT`. */
  readonly events: string;
  /** Copy of the city's van readings (`TELEMETRY`), e.g. `HISTORY_KUNMING_TELEMETRY`. */
  readonly telemetry: string;
}

const DOMAIN = /^[a-z][a-z0-9]{0,15}$/;

/** The names of the hub's history streams for a city's domain. */
export function hubHistoryNames(domain: string): HubHistoryStreams {
  if (!DOMAIN.test(domain)) {
    throw new TypeError(`a city's domain must be lowercase letters and digits, got "${domain}"`);
  }
  const city = domain.toUpperCase();
  return { domain, events: `HISTORY_${city}_EVT`, telemetry: `HISTORY_${city}_TELEMETRY` };
}

/** The JetStream API prefix of a domain, as seen from another domain. */
export function domainApi(domain: string): string {
  return `$JS.${domain}.API`;
}

/** The hub's stream configurations for one city. */
export function hubHistoryConfigs(
  city: CityHistorySource,
  options: HubHistoryOptions = {},
): StreamConfig[] {
  const names = hubHistoryNames(city.domain);
  const o = city.topology.options;
  const source = (name: string): StreamSource => ({
    name,
    external: { api: domainApi(city.domain), deliver: "" },
  });
  const base = {
    storage: "file",
    retention: "limits",
    discard: "old",
    num_replicas: options.replicas ?? 1,
    duplicate_window: nanos(o.duplicateWindowMs),
  } as const;
  return [
    {
      ...base,
      name: names.events,
      description: `xianda: ${city.domain}'s events, sourced from its leaf node`,
      max_age: nanos(options.eventRetentionMs ?? o.eventRetentionMs),
      sources: [source(city.topology.streams.events)],
    },
    {
      ...base,
      name: names.telemetry,
      description: `xianda: ${city.domain}'s temperature evidence, sourced from its leaf node`,
      max_age: nanos(options.telemetryRetentionMs ?? o.telemetryRetentionMs),
      sources: [source(city.topology.streams.telemetry)],
    },
  ] as StreamConfig[];
}

/**
 * Creates the hub's history streams for each city, or brings them in line (retention, replicas,
 * where they source from). Run against the hub; it does not need the cities' links to be up.
 */
export async function ensureHubHistory(
  nc: NatsConnection,
  cities: readonly CityHistorySource[],
  options: HubHistoryOptions = {},
): Promise<HubHistoryStreams[]> {
  const jsm = await jetstreamManager(nc);
  for (const city of cities) {
    for (const config of hubHistoryConfigs(city, options)) {
      let current: StreamConfig | null = null;
      try {
        current = (await jsm.streams.info(config.name)).config;
      } catch (err) {
        if (!(err instanceof JetStreamApiError) || err.code !== 10059) throw err; // not found
      }
      if (current === null) {
        await jsm.streams.add(config);
        continue;
      }
      if ((current.subjects ?? []).length > 0 || current.storage !== config.storage) {
        throw new TopologyError(
          `stream ${config.name} on the hub is not a history stream (it has subjects or another storage); remove it first`,
        );
      }
      const key = (c: StreamConfig) =>
        JSON.stringify([
          c.max_age,
          c.num_replicas,
          c.description,
          c.duplicate_window,
          (c.sources ?? []).map((s) => [s.name, s.external?.api ?? null]),
        ]);
      if (key(current) !== key(config)) {
        await jsm.streams.update(config.name, { ...current, ...config });
      }
    }
  }
  return cities.map((c) => hubHistoryNames(c.domain));
}
