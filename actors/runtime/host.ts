/**
 * An actor host: holds a share of the partitions by lease and runs a PartitionWorker for each.
 *
 * Leases live in the `leases` KV bucket, one key per partition, written only with the expected
 * revision. The holder renews every `renewMs` (carrying its checkpoint); a lease whose revision
 * has not moved for `leaseTtlMs`, as observed on this host's monotonic clock (so clock skew
 * between machines does not matter), is expired and may be taken over. Each host also renews
 * `host.<id>`; the live hosts decide each one's fair share, ceil(partitions / hosts), and a host
 * over its share hands the excess over gracefully (drain, final checkpoint, release).
 *
 * Safety never rests on the lease: a host that lost its lease and does not know it yet can only
 * write actor state with the revision it read, which a newer holder has moved (StaleWrite).
 */
import { jetstream } from "@nats-io/jetstream";
import { JetStreamApiError } from "@nats-io/jetstream";
import type { KvWatchEntry } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { nuid } from "@nats-io/transport-node";
import pino from "pino";
import type { Logger } from "pino";
import { AckedPublisher, ensureTopology, fnv1a32 } from "../../nats/index.ts";
import type { Topology, TopologyHandles, TopologyMode } from "../../nats/index.ts";
import type { AnyActorLogic } from "../types.ts";
import { systemClock } from "./clock.ts";
import type { Clock } from "./clock.ts";
import { RuntimeMetrics } from "./metrics.ts";
import { PartitionWorker } from "./partition.ts";
import type { PartitionOptions } from "./partition.ts";

export interface ActorHostOptions {
  readonly nc: NatsConnection;
  readonly topology: Topology;
  readonly logics: readonly AnyActorLogic[];
  /** Unique per process. Default: a fresh nuid. */
  readonly hostId?: string;
  readonly clock?: Clock;
  readonly log?: Logger;
  readonly metrics?: RuntimeMetrics;
  /** A lease not renewed for this long (ms) may be taken over. Default 3000. */
  readonly leaseTtlMs?: number;
  /** How often leases are renewed and checkpoints saved (ms). Default 1000. */
  readonly renewMs?: number;
  readonly partition?: Partial<PartitionOptions>;
  /**
   * Services that must run exactly once per deployment (the tracker, for one): each is started
   * by the host that holds `partition` and stopped when it lets that partition go, so it moves
   * with the partition's lease on failover.
   */
  readonly singletons?: readonly Singleton[];
  /**
   * "apply" creates or updates the topology at start; "check" only verifies it, for a host whose
   * NATS credentials allow no stream management (production). Default "apply".
   */
  readonly topologyMode?: TopologyMode;
}

export interface Singleton {
  readonly name: string;
  readonly partition: number;
  start(): Promise<{ stop(): Promise<void> }>;
}

interface LeaseValue {
  readonly holder: string | null;
  readonly checkpoint: number;
  readonly at: number;
}

interface Observed {
  readonly revision: number;
  readonly value: LeaseValue | { at: number } | null;
  /** performance.now() when this revision was first seen here. */
  readonly seenAt: number;
}

interface Held {
  readonly worker: PartitionWorker;
  revision: number;
}

const encode = (v: unknown) => JSON.stringify(v);

export class ActorHost {
  readonly hostId: string;
  readonly metrics: RuntimeMetrics;
  readonly #o: ActorHostOptions;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #ttl: number;
  readonly #renewMs: number;
  readonly #partitionOptions: PartitionOptions;
  readonly #observed = new Map<string, Observed>();
  readonly #held = new Map<number, Held>();
  readonly #busy = new Set<number>();
  readonly #running = new Map<string, Promise<{ stop(): Promise<void> } | null>>();
  #handles: TopologyHandles | null = null;
  #publisher: AckedPublisher | null = null;
  #loop: NodeJS.Timeout | null = null;
  #lastRenew = 0;
  #lastRenewOk = 0;
  #stopping = false;
  #ticking = false;
  #watch: { stop(): void } | null = null;

  constructor(options: ActorHostOptions) {
    this.#o = options;
    this.hostId = options.hostId ?? nuid.next();
    this.#log = (options.log ?? pino({ level: "info" })).child({ host: this.hostId });
    this.#clock = options.clock ?? systemClock;
    this.metrics = options.metrics ?? new RuntimeMetrics();
    this.#ttl = options.leaseTtlMs ?? 3000;
    this.#renewMs = options.renewMs ?? 1000;
    this.#partitionOptions = {
      maxBatch: options.partition?.maxBatch ?? 64,
      maxInFlight: options.partition?.maxInFlight ?? 4096,
      idleMs: options.partition?.idleMs ?? 60_000,
      timerPollMs: options.partition?.timerPollMs ?? 20,
    };
  }

  /** Partitions this host holds now. */
  get partitions(): number[] {
    return [...this.#held.keys()].sort((a, b) => a - b);
  }

  async start(): Promise<void> {
    const { nc, topology } = this.#o;
    this.#handles = await ensureTopology(nc, topology, { mode: this.#o.topologyMode ?? "apply" });
    this.#publisher = new AckedPublisher(nc);
    await this.#startWatch();
    await this.#heartbeat();
    this.#loop = setInterval(() => void this.#tick(), Math.min(250, this.#renewMs / 2));
    this.#log.info({ partitions: topology.partitions }, "actor host started");
  }

  /** Hands every partition over gracefully and leaves. */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#loop) clearInterval(this.#loop);
    while (this.#ticking) await new Promise((r) => setTimeout(r, 10));
    await Promise.all(this.partitions.map((p) => this.#release(p)));
    try {
      await this.#handles?.leases.delete(`host.${this.hostId}`);
    } catch (err) {
      this.#log.warn({ err }, "could not remove host key");
    }
    this.#watch?.stop();
    this.#publisher?.close();
    this.#log.info("actor host stopped");
  }

  /** The worker of a held partition (tests and diagnostics). */
  worker(partition: number): PartitionWorker | null {
    return this.#held.get(partition)?.worker ?? null;
  }

  /**
   * Freeze (or resume) the lease cycle, heartbeat included, without releasing anything: the host
   * keeps working as if it still held its partitions. Fault tests use it to make a zombie.
   */
  pauseRenewals(paused = true): void {
    this.#pausedRenewals = paused;
  }
  #pausedRenewals = false;

  async #startWatch(): Promise<void> {
    const watch = await this.#handles!.leases.watch({ key: ">" });
    this.#watch = watch;
    this.#watchStartedAt = performance.now();
    void (async () => {
      for await (const entry of watch) this.#observe(entry);
    })().catch((err) => this.#log.error({ err }, "lease watch ended"));
  }
  #watchStartedAt = 0;

  /**
   * The watch is an ordered consumer on one NATS server; when that server dies (a member of a
   * cluster) nats.js 3.4 may never recreate it, and a host seeing no lease changes takes every
   * lease for expired and cannot acquire any (its revisions are stale). Its own heartbeat, written
   * every renewal, must come back through the watch: when it has not for twice the TTL, the
   * watch is replaced (a new one replays the latest value of every key).
   */
  async #checkWatch(): Promise<void> {
    const limit = 2 * this.#ttl;
    const now = performance.now();
    const own = this.#observed.get(`host.${this.hostId}`);
    if (now - this.#watchStartedAt < limit || (own && now - own.seenAt < limit)) return;
    if (now - this.#lastRenewOk > limit) return; // NATS itself is unreachable: nothing to fix here
    this.#log.warn(
      { silentMs: Math.round(now - (own?.seenAt ?? 0)) },
      "lease watch stalled; restarting it",
    );
    this.#watch?.stop();
    await this.#startWatch();
  }

  #observe(entry: KvWatchEntry): void {
    const previous = this.#observed.get(entry.key);
    if (entry.operation !== "PUT") {
      this.#observed.set(entry.key, {
        revision: entry.revision,
        value: null,
        seenAt: performance.now(),
      });
      return;
    }
    if (previous && previous.revision === entry.revision) return;
    let value: Observed["value"] = null;
    try {
      value = entry.json();
    } catch {
      value = null;
    }
    this.#observed.set(entry.key, { revision: entry.revision, value, seenAt: performance.now() });
  }

  async #tick(): Promise<void> {
    if (this.#ticking || this.#stopping || this.#pausedRenewals) return;
    this.#ticking = true;
    try {
      const now = performance.now();
      if (now - this.#lastRenew >= this.#renewMs) {
        this.#lastRenew = now;
        await Promise.all([this.#heartbeat(), this.#renewAll()]);
        await this.#checkWatch();
      }
      await this.#rebalance();
    } catch (err) {
      this.#log.warn({ err }, "lease cycle failed");
    } finally {
      this.#ticking = false;
    }
  }

  async #heartbeat(): Promise<void> {
    await this.#handles!.leases.put(
      `host.${this.hostId}`,
      encode({ at: this.#clock.now(), partitions: this.partitions }),
    );
  }

  async #renewAll(): Promise<void> {
    const leases = this.#handles!.leases;
    let allOk = true;
    await Promise.all(
      [...this.#held].map(async ([p, held]) => {
        if (this.#busy.has(p)) return;
        const value: LeaseValue = {
          holder: this.hostId,
          checkpoint: held.worker.checkpoint,
          at: this.#clock.now(),
        };
        try {
          held.revision = await leases.update(`partition.${p}`, encode(value), held.revision);
        } catch (err) {
          if (isWrongRevision(err)) {
            this.#log.warn({ partition: p }, "lease lost; abandoning partition");
            this.metrics.leaseEvents.inc({ event: "lost" });
            this.#held.delete(p);
            void this.#stopSingletons(p);
            this.metrics.partitionsHeld.set(this.#held.size);
            await held.worker.stop("abandon");
          } else {
            allOk = false;
            throw err;
          }
        }
      }),
    ).catch((err) => this.#log.warn({ err }, "lease renewal failed"));
    if (allOk) this.#lastRenewOk = performance.now();
    else if (performance.now() - this.#lastRenewOk > this.#ttl) {
      // Others may have taken our partitions by now: stop working on them (self-fencing; the
      // expected-revision writes would refuse us anyway).
      for (const p of this.partitions) {
        const held = this.#held.get(p)!;
        this.#held.delete(p);
        void this.#stopSingletons(p);
        this.metrics.leaseEvents.inc({ event: "lost" });
        await held.worker.stop("abandon");
      }
      this.metrics.partitionsHeld.set(0);
    }
  }

  #liveHosts(): string[] {
    const now = performance.now();
    const live = new Set<string>([this.hostId]);
    for (const [key, seen] of this.#observed) {
      if (!key.startsWith("host.") || seen.value === null) continue;
      if (now - seen.seenAt <= this.#ttl) live.add(key.slice(5));
    }
    return [...live].sort();
  }

  async #rebalance(): Promise<void> {
    const partitions = this.#o.topology.partitions;
    const share = Math.ceil(partitions / this.#liveHosts().length);
    const held = this.partitions;
    if (held.length > share) {
      // Hand over the excess; the highest-numbered first, so hosts settle on a stable split.
      await Promise.all(held.slice(share).map((p) => this.#release(p)));
      return;
    }
    if (held.length >= share) return;
    const now = performance.now();
    const free: number[] = [];
    for (let p = 0; p < partitions; p++) {
      if (this.#held.has(p) || this.#busy.has(p)) continue;
      const seen = this.#observed.get(`partition.${p}`);
      const value = seen?.value as LeaseValue | null | undefined;
      if (!seen || !value || value.holder === null || now - seen.seenAt > this.#ttl) free.push(p);
    }
    // Start at a host-specific offset so that hosts joining together do not all race for p0.
    const offset = fnv1a32(this.hostId) % partitions;
    free.sort(
      (a, b) => ((a - offset + partitions) % partitions) - ((b - offset + partitions) % partitions),
    );
    await Promise.all(free.slice(0, share - held.length).map((p) => this.#acquire(p)));
  }

  async #acquire(p: number): Promise<void> {
    const leases = this.#handles!.leases;
    const key = `partition.${p}`;
    const seen = this.#observed.get(key);
    const previous = (seen?.value ?? null) as LeaseValue | null;
    const checkpoint = previous?.checkpoint ?? 0;
    const value = encode({ holder: this.hostId, checkpoint, at: this.#clock.now() });
    this.#busy.add(p);
    try {
      let revision: number;
      try {
        revision = seen
          ? await leases.update(key, value, seen.revision)
          : await leases.create(key, value);
      } catch (err) {
        if (isWrongRevision(err)) return; // someone else was faster
        throw err;
      }
      const worker = new PartitionWorker(p, checkpoint, this.#workerDeps());
      try {
        await worker.start();
      } catch (err) {
        this.#log.error({ err, partition: p }, "partition failed to start; releasing");
        await worker.stop("abandon");
        await leases
          .update(key, encode({ holder: null, checkpoint, at: this.#clock.now() }), revision)
          .catch(() => {});
        return;
      }
      this.#held.set(p, { worker, revision });
      this.metrics.partitionsHeld.set(this.#held.size);
      this.#startSingletons(p);
      this.metrics.leaseEvents.inc({ event: previous?.holder ? "taken_over" : "acquired" });
      this.#log.info(
        { partition: p, checkpoint, from: previous?.holder ?? null },
        "partition acquired",
      );
    } finally {
      this.#busy.delete(p);
    }
  }

  #startSingletons(p: number): void {
    for (const singleton of this.#o.singletons ?? []) {
      if (singleton.partition !== p || this.#running.has(singleton.name)) continue;
      this.#log.info({ singleton: singleton.name, partition: p }, "starting singleton");
      this.#running.set(singleton.name, this.#startSingleton(singleton, p));
    }
  }

  /**
   * Starts a singleton, again and again (backing off to 10 s) while this host holds its
   * partition: on a busy NATS its first JetStream calls can time out, and a deployment without
   * its tracker or telemetry bridge must not wait for the partition to move to heal.
   */
  async #startSingleton(
    singleton: Singleton,
    p: number,
  ): Promise<{ stop(): Promise<void> } | null> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await singleton.start();
      } catch (err) {
        if (!this.#held.has(p) || this.#running.get(singleton.name) === undefined) {
          this.#log.error({ err, singleton: singleton.name }, "singleton failed to start");
          return null;
        }
        this.#log.warn(
          { err, singleton: singleton.name, attempt },
          "singleton did not start; again",
        );
        await new Promise((r) => setTimeout(r, Math.min(10_000, 500 * 2 ** attempt)));
        if (!this.#held.has(p)) return null;
      }
    }
  }

  async #stopSingletons(p: number): Promise<void> {
    for (const singleton of this.#o.singletons ?? []) {
      const running = this.#running.get(singleton.name);
      if (singleton.partition !== p || !running) continue;
      this.#running.delete(singleton.name);
      try {
        await (await running)?.stop();
        this.#log.info({ singleton: singleton.name }, "singleton stopped");
      } catch (err) {
        this.#log.warn({ err, singleton: singleton.name }, "singleton did not stop cleanly");
      }
    }
  }

  /** Stops a partition at once and frees its lease at the last checkpoint. */
  async #abandon(p: number, event: "failed"): Promise<void> {
    const held = this.#held.get(p);
    if (!held || this.#busy.has(p)) return;
    this.#busy.add(p);
    try {
      this.#held.delete(p);
      this.metrics.partitionsHeld.set(this.#held.size);
      await this.#stopSingletons(p);
      const checkpoint = await held.worker.stop("abandon");
      this.metrics.leaseEvents.inc({ event });
      await this.#handles!.leases.update(
        `partition.${p}`,
        encode({ holder: null, checkpoint, at: this.#clock.now() }),
        held.revision,
      );
    } catch (err) {
      this.#log.warn({ err, partition: p }, "could not free the lease; it will expire");
    } finally {
      this.#busy.delete(p);
    }
  }

  async #release(p: number): Promise<void> {
    const held = this.#held.get(p);
    if (!held) return;
    this.#busy.add(p);
    try {
      await this.#stopSingletons(p);
      const checkpoint = await held.worker.stop("drain");
      this.#held.delete(p);
      this.metrics.partitionsHeld.set(this.#held.size);
      await this.#handles!.leases.update(
        `partition.${p}`,
        encode({ holder: null, checkpoint, at: this.#clock.now() }),
        held.revision,
      );
      this.metrics.leaseEvents.inc({ event: "released" });
      this.#log.info({ partition: p, checkpoint }, "partition released");
    } catch (err) {
      this.#log.warn({ err, partition: p }, "release failed; the lease will expire");
    } finally {
      this.#busy.delete(p);
    }
  }

  #workerDeps() {
    const h = this.#handles!;
    return {
      nc: this.#o.nc,
      js: jetstream(this.#o.nc),
      topology: this.#o.topology,
      actorsKv: h.actors,
      timersKv: h.timers,
      publisher: this.#publisher!,
      logics: new Map(this.#o.logics.map((l) => [l.type, l])),
      metrics: this.metrics,
      log: this.#log,
      clock: this.#clock,
      options: this.#partitionOptions,
      onFailed: (partition: number, err: unknown) => {
        this.#log.error({ err, partition }, "partition failed; releasing it to be taken up again");
        void this.#abandon(partition, "failed");
      },
    };
  }
}

function isWrongRevision(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === 10071;
}
