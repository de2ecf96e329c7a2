/**
 * The live fan-out. One ordered consumer per gateway process reads the whole PUSH stream from
 * "now" on; each frame goes to the connections watching its channel as
 * `{type:"push", channel, offset: <stream sequence>, frame}`. A client subscribing with an offset
 * first gets the channel's stored frames after it (direct gets), then `subscribed`, then live
 * frames; live frames arriving meanwhile are held and sent after, without duplicates.
 */
import { jetstream } from "@nats-io/jetstream";
import type { Consumer, ConsumerMessages, JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { toGcj02 } from "../../geo/index.ts";
import type { Topology } from "../../nats/index.ts";
import { CONFLATED_KINDS, PushFrame } from "../../protocol/index.ts";
import type { CoordSystem, Role } from "../../protocol/index.ts";
import type { GatewayMetrics } from "../metrics.ts";
import { CloseCode, Connection } from "./connection.ts";
import type { Writer } from "./connection.ts";
import type { Outgoing } from "./queue.ts";
import { PushStream } from "./stream.ts";

const decoder = new TextDecoder();

/** One stored push frame, shared by every connection it goes to; serialized once per coord. */
class PushItem {
  readonly #texts: Partial<Record<string, string>> = {};
  constructor(
    readonly channel: string,
    readonly seq: number,
    readonly frame: PushFrame,
  ) {}

  /** The key under which a newer frame replaces this one for a slow client, or null. */
  get conflationKey(): string | null {
    const f = this.frame;
    if (!CONFLATED_KINDS.has(f.kind)) return null;
    const id =
      f.kind === "courier"
        ? f.courierId
        : f.kind === "eta"
          ? f.orderId
          : f.kind === "couriers"
            ? f.marketId
            : "";
    return `${this.channel}|${f.kind}|${id}`;
  }

  /**
   * The frame as `role` sees it in `coord`. Pickup codes in a courier's `work` frames are for
   * that courier's eyes: anyone else watching the channel (a dispatcher) gets them blanked.
   */
  text(coord: CoordSystem, role: Role): string {
    const redact = this.frame.kind === "work" && role !== "courier";
    const key = redact ? `${coord}:redacted` : coord;
    let text = this.#texts[key];
    if (text === undefined) {
      text = pushText(
        this.channel,
        this.seq,
        redact ? withoutCodes(this.frame) : this.frame,
        coord,
      );
      this.#texts[key] = text;
    }
    return text;
  }

  outgoing(coord: CoordSystem, role: Role): Outgoing {
    const item: Outgoing = {
      text: this.text(coord, role),
      type: "push",
      at: this.frame.at,
      key: this.conflationKey,
    };
    const { channel, seq, frame } = this;
    if (frame.kind !== "couriers") return item;
    // `couriers` frames carry only the couriers that moved: conflating two must keep both sets.
    const withFrame: Outgoing = {
      ...item,
      frame,
      merge(older) {
        const previous = older.frame as PushFrame | undefined;
        if (previous?.kind !== "couriers") return withFrame;
        const byId = new Map(previous.couriers.map((c) => [c.courierId, c]));
        for (const c of frame.couriers) byId.set(c.courierId, c);
        const merged: PushFrame = { ...frame, couriers: [...byId.values()] };
        return { ...withFrame, text: pushText(channel, seq, merged, coord), frame: merged };
      },
    };
    return withFrame;
  }
}

function withoutCodes(frame: PushFrame): PushFrame {
  if (frame.kind !== "work") return frame;
  return { ...frame, jobs: frame.jobs.map((j) => ({ ...j, pickupCode: null })) };
}

function pushText(channel: string, offset: number, frame: PushFrame, coord: CoordSystem): string {
  return JSON.stringify({ type: "push", channel, offset, frame: inCoord(frame, coord) });
}

/** The frame with its coordinates in `coord` (frames are WGS-84 on the stream). */
export function inCoord(frame: PushFrame, coord: CoordSystem): PushFrame {
  if (coord === "wgs84") return frame;
  if (frame.kind === "courier") return { ...frame, ...toGcj02({ lat: frame.lat, lng: frame.lng }) };
  if (frame.kind === "couriers") {
    return {
      ...frame,
      couriers: frame.couriers.map((c) => ({ ...c, ...toGcj02({ lat: c.lat, lng: c.lng }) })),
    };
  }
  if (frame.kind === "order") {
    return {
      ...frame,
      ...(frame.pickup ? { pickup: toGcj02(frame.pickup) } : {}),
      ...(frame.dropoff ? { dropoff: toGcj02(frame.dropoff) } : {}),
    };
  }
  if (frame.kind === "offer") {
    return {
      ...frame,
      pickup: toGcj02(frame.pickup),
      dropoff: frame.dropoff === null ? null : toGcj02(frame.dropoff),
    };
  }
  if (frame.kind === "work") {
    return {
      ...frame,
      offers: frame.offers.map((o) => ({
        ...o,
        pickup: toGcj02(o.pickup),
        dropoff: o.dropoff === null ? null : toGcj02(o.dropoff),
      })),
      route: frame.route.map((s) => ({ ...s, location: toGcj02(s.location) })),
    };
  }
  if (frame.kind === "wave_route") {
    return { ...frame, stops: frame.stops.map((s) => ({ ...s, location: toGcj02(s.location) })) };
  }
  return frame;
}

interface Watch {
  readonly channel: string;
  live: boolean;
  /** Highest offset queued to the client on this channel. */
  lastSent: number;
  /** Live frames that arrived while catching up. */
  held: PushItem[];
}

export interface LiveHubOptions {
  readonly nc: NatsConnection;
  readonly topology: Topology;
  readonly log: Logger;
  readonly metrics: GatewayMetrics;
  readonly clock: () => number;
  readonly clientQueue: number;
  readonly socketHighWater: number;
}

/** Latest frames seen per key, for first-paint snapshots; bounded, oldest dropped. */
class Latest<T> {
  readonly #map = new Map<string, T>();
  constructor(readonly limit: number) {}
  set(key: string, value: T): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.limit) this.#map.delete(this.#map.keys().next().value!);
  }
  get(key: string): T | undefined {
    return this.#map.get(key);
  }
}

export class LiveHub implements Writer {
  readonly blocked = new Set<Connection>();
  readonly metrics: GatewayMetrics;
  readonly clock: () => number;
  readonly highWater: number;
  readonly stream: PushStream;
  /** The newest courier position and ETA frames this process has seen (first paint only). */
  readonly latestPosition = new Latest<Extract<PushFrame, { kind: "courier" }>>(20_000);
  readonly latestEta = new Latest<Extract<PushFrame, { kind: "eta" }>>(20_000);
  readonly #o: LiveHubOptions;
  readonly #log: Logger;
  readonly #watchers = new Map<string, Set<Connection>>();
  readonly #watches = new Map<Connection, Map<string, Watch>>();
  #messages: ConsumerMessages | null = null;
  #started: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;
  #consuming = false;

  constructor(options: LiveHubOptions, jsm: Promise<JetStreamManager>) {
    this.#o = options;
    this.#log = options.log;
    this.metrics = options.metrics;
    this.clock = options.clock;
    this.highWater = options.socketHighWater;
    this.stream = new PushStream(jsm, options.topology);
  }

  /** True while the fan-out consumer runs. */
  get consuming(): boolean {
    return this.#consuming;
  }

  /** Starts the ordered consumer (idempotent). */
  start(): Promise<void> {
    this.#started ??= this.#start().catch((err: unknown) => {
      this.#started = null;
      throw err;
    });
    return this.#started;
  }

  async #start(): Promise<void> {
    const js = jetstream(this.#o.nc);
    const consumer: Consumer = await js.consumers.get(this.#o.topology.streams.push, {
      // One subject as a string: 2.9 knows `filter_subject` only.
      filter_subjects: this.#o.topology.subjects.pushStream[0]!,
      deliver_policy: "new",
    });
    if (this.#stopped) return;
    this.#messages = await consumer.consume({
      max_messages: 1024,
      callback: (msg) => this.#onPush(msg.subject, msg.seq, msg.data),
    });
    this.#consuming = true;
    void this.#messages.closed().then(() => {
      this.#consuming = false;
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#messages?.close();
    this.#consuming = false;
  }

  /** Re-flushes blocked sockets every few ms while there are any. */
  wake(): void {
    if (this.#timer || this.#stopped) return;
    this.#timer = setInterval(() => {
      for (const connection of [...this.blocked]) connection.flush();
      if (this.blocked.size === 0 && this.#timer) {
        clearInterval(this.#timer);
        this.#timer = null;
      }
    }, 10);
    this.#timer.unref();
  }

  #onPush(subject: string, seq: number, data: Uint8Array): void {
    const channel = this.#o.topology.subjects.parsePush(subject);
    if (!channel) return;
    const item = this.#read(channel, seq, data);
    if (!item) return;
    if (item.frame.kind === "courier" && !item.frame.coarse)
      this.latestPosition.set(item.frame.courierId, item.frame);
    if (item.frame.kind === "eta") this.latestEta.set(item.frame.orderId, item.frame);
    const watchers = this.#watchers.get(channel);
    if (!watchers) return;
    for (const connection of watchers) {
      const watch = this.#watches.get(connection)?.get(channel);
      if (!watch) continue;
      if (!watch.live) {
        watch.held.push(item);
        if (watch.held.length > this.#o.clientQueue * 4) {
          this.metrics.resyncs.inc();
          connection.close(CloseCode.resyncRequired, "resync_required", {
            type: "error",
            code: "resync_required",
            message: "the channel moved faster than it could be replayed: resume again",
            ref: channel,
          });
        }
        continue;
      }
      if (item.seq <= watch.lastSent) continue;
      watch.lastSent = item.seq;
      connection.enqueue(item.outgoing(connection.coord, connection.claims.role));
    }
  }

  #read(channel: string, seq: number, data: Uint8Array): PushItem | null {
    let frame: PushFrame;
    try {
      const parsed = PushFrame.safeParse(JSON.parse(decoder.decode(data)));
      if (!parsed.success) throw new Error(parsed.error.issues[0]?.message ?? "invalid");
      frame = parsed.data;
    } catch (err) {
      this.#log.warn({ channel, seq, err: String(err) }, "push frame is not a PushFrame; skipped");
      return null;
    }
    return new PushItem(channel, seq, frame);
  }

  /** Registers a live connection (no channels yet). */
  add(connection: Connection): void {
    this.#watches.set(connection, new Map());
  }

  /** Forgets a connection and all it watched. */
  remove(connection: Connection): void {
    const watches = this.#watches.get(connection);
    this.#watches.delete(connection);
    this.blocked.delete(connection);
    for (const channel of watches?.keys() ?? []) this.#unwatch(connection, channel);
  }

  unsubscribe(connection: Connection, channel: string): void {
    this.#watches.get(connection)?.delete(channel);
    this.#unwatch(connection, channel);
  }

  #unwatch(connection: Connection, channel: string): void {
    const set = this.#watchers.get(channel);
    set?.delete(connection);
    if (set?.size === 0) this.#watchers.delete(channel);
  }

  /**
   * Starts watching `channel` (already authorized). With `offset`: the stored frames after it,
   * then `subscribed`; without: the channel's latest frame, then `subscribed`.
   */
  /** Whether `connection` watches `channel`, and how many channels it watches. */
  watching(connection: Connection, channel: string): { has: boolean; count: number } {
    const watches = this.#watches.get(connection);
    return { has: watches?.has(channel) ?? false, count: watches?.size ?? 0 };
  }

  async subscribe(
    connection: Connection,
    channel: string,
    offset: number | undefined,
  ): Promise<void> {
    const watches = this.#watches.get(connection);
    if (!watches) return;
    const watch: Watch = { channel, live: false, lastSent: offset ?? 0, held: [] };
    watches.set(channel, watch);
    let set = this.#watchers.get(channel);
    if (!set) {
      set = new Set();
      this.#watchers.set(channel, set);
    }
    set.add(connection);
    const current = () => connection.open && watches.get(channel) === watch;
    try {
      if (offset !== undefined) {
        for (;;) {
          await this.#roomIn(connection);
          if (!current()) return;
          const stored = await this.stream.next(channel, watch.lastSent);
          if (!current()) return;
          if (!stored) break;
          this.#sendStored(connection, watch, stored.seq, stored.data);
        }
      } else {
        const stored = await this.stream.last(channel);
        if (!current()) return;
        if (stored) this.#sendStored(connection, watch, stored.seq, stored.data);
      }
    } catch (err) {
      if (!current()) return;
      this.#log.warn({ channel, err: String(err) }, "catching up a channel failed");
      this.unsubscribe(connection, channel);
      connection.send({
        type: "error",
        code: "unavailable",
        message: "the channel's stored frames could not be read; subscribe again",
        ref: channel,
      });
      return;
    }
    connection.send({ type: "subscribed", channel, offset: watch.lastSent });
    for (const item of watch.held) {
      if (item.seq <= watch.lastSent) continue;
      watch.lastSent = item.seq;
      connection.enqueue(item.outgoing(connection.coord, connection.claims.role));
    }
    watch.held = [];
    watch.live = true;
  }

  #sendStored(connection: Connection, watch: Watch, seq: number, data: Uint8Array): void {
    watch.lastSent = seq;
    const item = this.#read(watch.channel, seq, data);
    if (item) connection.enqueue(item.outgoing(connection.coord, connection.claims.role));
  }

  /** Waits while the connection's queue is over half full, so a replay never overflows it. */
  async #roomIn(connection: Connection): Promise<void> {
    while (connection.open && connection.queue.size > this.#o.clientQueue / 2) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** The longest queue among live connections. */
  maxQueued(): number {
    let max = 0;
    for (const connection of this.#watches.keys()) max = Math.max(max, connection.queue.size);
    return max;
  }
}
