/**
 * xianda's JetStream topology as code: the streams and KV buckets one deployment needs, applied
 * idempotently at start by every process that uses them (creating what is missing, updating
 * what may change, refusing what cannot).
 */
import { jetstream, jetstreamManager, JetStreamApiError } from "@nats-io/jetstream";
import type { JetStreamManager, StreamConfig } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { KV } from "@nats-io/kv";
import { nanos } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import { TopologyError, TopologyMissingError } from "./errors.ts";
import { Subjects } from "./subjects.ts";

export interface TopologyOptions {
  /** Prefix for every subject, stream and bucket ("" in production). Default "". */
  namespace: string;
  /**
   * Number of command partitions. Fixed for the life of a deployment (it decides where every
   * actor lives); `ensureTopology` refuses to start with a different number. Default 32.
   */
  partitions: number;
  /** Stream and bucket replicas: 1 on one server, 3 in a cluster. Default 1. */
  replicas: number;
  /** Commands are kept this long (ms) for replay and audit. Default 7 days. */
  commandRetentionMs: number;
  /** Events are kept this long (ms); Postgres keeps history beyond. Default 30 days. */
  eventRetentionMs: number;
  /** Temperature evidence is kept this long (ms), never thinned before. Default 400 days. */
  telemetryRetentionMs: number;
  /** Largest command accepted, in bytes. Default 64 KiB. */
  maxCommandBytes: number;
  /** Window in which a repeated `Nats-Msg-Id` is dropped (ms). Default 2 minutes. */
  duplicateWindowMs: number;
  /** Live push frames are kept this long for clients resuming after a reconnect. Default 24 h. */
  pushRetentionMs: number;
  /** Push frames kept per channel (order, market, courier). Default 512. */
  pushPerChannel: number;
}

const DAY = 24 * 60 * 60 * 1000;

/**
 * How long an operation on an actor's record or a lease waits for its answer. A server
 * that has just restarted drops the requests that reach it before JetStream is up, without an
 * answer: with the client's default of 5 s, a host would then sit on a lease renewal longer than
 * the lease lives, and another host would take its partitions while it still works them.
 */
export const KV_TIMEOUT_MS = 2000;

export function topologyDefaults(options: Partial<TopologyOptions> = {}): TopologyOptions {
  return {
    namespace: options.namespace ?? "",
    partitions: options.partitions ?? 32,
    replicas: options.replicas ?? 1,
    commandRetentionMs: options.commandRetentionMs ?? 7 * DAY,
    eventRetentionMs: options.eventRetentionMs ?? 30 * DAY,
    telemetryRetentionMs: options.telemetryRetentionMs ?? 400 * DAY,
    maxCommandBytes: options.maxCommandBytes ?? 64 * 1024,
    duplicateWindowMs: options.duplicateWindowMs ?? 2 * 60 * 1000,
    pushRetentionMs: options.pushRetentionMs ?? DAY,
    pushPerChannel: options.pushPerChannel ?? 512,
  };
}

/** Names of everything in one deployment's topology. */
export class Topology {
  readonly options: TopologyOptions;
  readonly subjects: Subjects;
  readonly streams: {
    commands: string;
    events: string;
    dlq: string;
    telemetry: string;
    push: string;
  };
  readonly buckets: { actors: string; timers: string; leases: string; positions: string };

  constructor(options: Partial<TopologyOptions> = {}) {
    this.options = topologyDefaults(options);
    if (!Number.isInteger(this.options.partitions) || this.options.partitions < 1) {
      throw new TypeError(`partitions must be a positive integer`);
    }
    this.subjects = new Subjects(this.options.namespace);
    const ns = this.options.namespace;
    const stream = (name: string) => (ns ? `${ns.toUpperCase()}_${name}` : name);
    const bucket = (name: string) => (ns ? `${ns}_${name}` : name);
    this.streams = {
      commands: stream("CMD"),
      events: stream("EVT"),
      dlq: stream("DLQ"),
      telemetry: stream("TELEMETRY"),
      push: stream("PUSH"),
    };
    this.buckets = {
      actors: bucket("actors"),
      timers: bucket("timers"),
      leases: bucket("leases"),
      positions: bucket("positions"),
    };
  }

  get partitions(): number {
    return this.options.partitions;
  }

  streamConfigs(): StreamConfig[] {
    const o = this.options;
    const base = {
      storage: "file",
      retention: "limits",
      discard: "old",
      num_replicas: o.replicas,
      duplicate_window: nanos(o.duplicateWindowMs),
    } as const;
    return [
      {
        ...base,
        name: this.streams.commands,
        subjects: this.subjects.commandStream,
        description: "xianda: commands for actors, partitioned by actor",
        max_age: nanos(o.commandRetentionMs),
        max_msg_size: o.maxCommandBytes,
      },
      {
        ...base,
        name: this.streams.events,
        subjects: this.subjects.eventStream,
        description: "xianda: events actors emitted, one subject per actor and event",
        max_age: nanos(o.eventRetentionMs),
      },
      {
        ...base,
        name: this.streams.dlq,
        subjects: this.subjects.dlqStream,
        description: "xianda: commands the runtime could not deliver, with the reason",
        max_age: nanos(o.eventRetentionMs),
      },
      {
        ...base,
        name: this.streams.telemetry,
        subjects: this.subjects.telemetryStream,
        description: "xianda: cold-chain evidence; never thinned before max_age",
        max_age: nanos(o.telemetryRetentionMs),
      },
      {
        ...base,
        name: this.streams.push,
        subjects: this.subjects.pushStream,
        description: "xianda: live frames for apps; the sequence is the frame's offset",
        max_age: nanos(o.pushRetentionMs),
        max_msgs_per_subject: o.pushPerChannel,
        // Resuming clients read a channel's frames by sequence with direct gets.
        allow_direct: true,
      },
    ] as StreamConfig[];
  }
}

/** Handles to the topology's KV buckets, opened once per process. */
export interface TopologyHandles {
  readonly jsm: JetStreamManager;
  readonly actors: KV;
  readonly timers: KV;
  readonly leases: KV;
  /** Last known position of each courier (survives restarts). */
  readonly positions: KV;
}

const IMMUTABLE: (keyof StreamConfig)[] = ["storage", "retention"];
const MUTABLE: (keyof StreamConfig)[] = [
  "subjects",
  "max_msgs_per_subject",
  "allow_direct",
  "max_age",
  "max_msg_size",
  "duplicate_window",
  "description",
  "num_replicas",
];

/**
 * How a process meets the topology at start. "apply": create what is missing and update what may
 * change (development, and the ops tool `npm run nats:setup` with its admin credentials).
 * "check": change nothing; refuse to start when a stream or bucket is missing or its config
 * differs (every service under least-privilege credentials: reading stream info is all it needs).
 */
export type TopologyMode = "apply" | "check";

/**
 * Creates what is missing, updates what may change, and refuses what cannot be changed; with
 * `mode: "check"` only verifies, so that a service needs no stream management permission.
 */
export async function ensureTopology(
  nc: NatsConnection,
  topology: Topology,
  options: { mode?: TopologyMode } = {},
): Promise<TopologyHandles> {
  const jsm = await jetstreamManager(nc);
  if (options.mode === "check") return checkTopology(nc, jsm, topology);
  for (const config of topology.streamConfigs()) {
    await ensureStream(jsm, config);
  }
  const { kvm, fast } = kvManagers(nc);
  const kvOptions = { history: 1, storage: "file", replicas: topology.options.replicas } as const;
  const [actors, timers, leases, positions] = await Promise.all([
    fast.create(topology.buckets.actors, {
      ...kvOptions,
      description: "xianda: actor state, written with the expected revision",
    }),
    kvm.create(topology.buckets.timers, {
      ...kvOptions,
      description: "xianda: durable timers by partition",
    }),
    fast.create(topology.buckets.leases, {
      ...kvOptions,
      description: "xianda: partition leases, checkpoints and live hosts",
    }),
    kvm.create(topology.buckets.positions, {
      ...kvOptions,
      description: "xianda: last known position per courier",
    }),
  ]);
  await pinPartitionCount(leases, topology.partitions);
  return { jsm, actors, timers, leases, positions };
}

/**
 * Leases and actor records get the short time-out (`KV_TIMEOUT_MS`): a renewal or a commit must
 * fail before a lease would run out. Timers and positions keep the client's 5 s: listing a
 * bucket's keys or starting a watch is one consumer set-up, slower on a busy server, and a
 * time-out there only makes a host start its tracker or load its timers again.
 */
function kvManagers(nc: NatsConnection): { kvm: Kvm; fast: Kvm } {
  return { kvm: new Kvm(nc), fast: new Kvm(jetstream(nc, { timeout: KV_TIMEOUT_MS })) };
}

async function checkTopology(
  nc: NatsConnection,
  jsm: JetStreamManager,
  topology: Topology,
): Promise<TopologyHandles> {
  const problems: string[] = [];
  const missing: string[] = [];
  for (const config of topology.streamConfigs()) {
    const current = await streamConfig(jsm, config.name);
    if (current === null) {
      missing.push(`stream ${config.name}`);
      continue;
    }
    for (const key of [...IMMUTABLE, ...MUTABLE]) {
      // Only what the topology sets: the server fills the rest with its defaults.
      if (config[key] === undefined) continue;
      if (JSON.stringify(current[key] ?? null) !== JSON.stringify(config[key])) {
        problems.push(`stream ${config.name}: ${key} differs from this version's topology`);
      }
    }
  }
  const { kvm, fast } = kvManagers(nc);
  const b = topology.buckets;
  const open = async (bucket: string): Promise<KV | null> => {
    const current = await streamConfig(jsm, `KV_${bucket}`);
    if (current === null) {
      missing.push(`KV bucket ${bucket}`);
      return null;
    }
    // Bound without creating: reads go by direct get when the bucket allows it.
    const manager = bucket === b.actors || bucket === b.leases ? fast : kvm;
    return manager.open(bucket, { allow_direct: current.allow_direct === true });
  };
  const [actors, timers, leases, positions] = await Promise.all(
    [b.actors, b.timers, b.leases, b.positions].map(open),
  );
  if (problems.length > 0) {
    throw new TopologyError(
      `the JetStream topology differs from what this version needs (apply it with \`npm run nats:setup\`): ${problems.join("; ")}`,
    );
  }
  if (missing.length > 0 || !actors || !timers || !leases || !positions) {
    throw new TopologyMissingError(
      `the JetStream topology is not applied yet (\`npm run nats:setup\`, or an actor host allowed to apply it): missing ${missing.join(", ")}`,
    );
  }
  const pinned = (await leases.get(TOPOLOGY_KEY))?.json<{ partitions: number }>().partitions;
  if (pinned === undefined) {
    throw new TopologyMissingError(
      `the partition count is not pinned yet (\`npm run nats:setup\`)`,
    );
  }
  if (pinned !== topology.partitions) {
    throw new TopologyError(
      `this deployment was created with ${pinned} partitions, not ${topology.partitions}; changing it moves every actor (see ARCHITECTURE.md)`,
    );
  }
  return { jsm, actors, timers, leases, positions };
}

async function streamConfig(jsm: JetStreamManager, name: string): Promise<StreamConfig | null> {
  try {
    return (await jsm.streams.info(name)).config;
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === 10059) return null; // not found
    throw err;
  }
}

async function ensureStream(jsm: JetStreamManager, config: StreamConfig): Promise<void> {
  let current: StreamConfig | null = null;
  try {
    current = (await jsm.streams.info(config.name)).config;
  } catch (err) {
    if (!(err instanceof JetStreamApiError) || err.code !== 10059) throw err; // 10059: not found
  }
  if (current === null) {
    await jsm.streams.add(config);
    return;
  }
  for (const key of IMMUTABLE) {
    if (current[key] !== config[key]) {
      throw new TopologyError(
        `stream ${config.name}: ${key} is ${String(current[key])} on the server but ${String(config[key])} is required; it cannot be changed in place`,
      );
    }
  }
  const differs = MUTABLE.some(
    (key) => JSON.stringify(current![key] ?? null) !== JSON.stringify(config[key] ?? null),
  );
  if (differs) await jsm.streams.update(config.name, { ...current, ...config });
}

/** The `leases` key holding the pinned partition count (read by every service at start). */
export const TOPOLOGY_KEY = "topology";

async function pinPartitionCount(leases: KV, partitions: number): Promise<void> {
  const value = JSON.stringify({ partitions });
  try {
    await leases.create(TOPOLOGY_KEY, value);
    return;
  } catch (err) {
    if (!(err instanceof JetStreamApiError) || err.code !== 10071) throw err;
  }
  const entry = await leases.get(TOPOLOGY_KEY);
  const pinned = entry?.json<{ partitions: number }>().partitions;
  if (pinned !== partitions) {
    throw new TopologyError(
      `this deployment was created with ${pinned} partitions, not ${partitions}; changing it moves every actor (see ARCHITECTURE.md)`,
    );
  }
}

/** Deletes every stream and bucket of a topology (tests and `bin/reset` only). */
export async function destroyTopology(nc: NatsConnection, topology: Topology): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const names = [
    ...Object.values(topology.streams),
    ...Object.values(topology.buckets).map((b) => `KV_${b}`),
  ];
  for (const name of names) {
    try {
      await jsm.streams.delete(name);
    } catch (err) {
      if (!(err instanceof JetStreamApiError) || err.code !== 10059) throw err;
    }
  }
}
