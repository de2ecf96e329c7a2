/**
 * The telemetry bridge: TELEMETRY stream → vehicle actors.
 *
 * Van loggers publish over MQTT into nats-server's MQTT listener; `fleet/vehicle/<id>/temp`
 * arrives as `fleet.vehicle.<id>.temp` and the TELEMETRY stream keeps it (the raw evidence,
 * never thinned before its retention ends). The bridge reads the stream in order with an ordered
 * consumer from its checkpoint, reads each message (`parseTelemetry`), and hands each vehicle its
 * readings as one `readings` command per batch, every reading tagged with its stream sequence.
 *
 * - **Batching follows load.** At most one batch is in flight: while its commands are being
 *   acknowledged the next one gathers. One van's readings at low load go out at once (one round
 *   trip); at 8,000 readings a second a van's four compartments share one command, so the
 *   command rate stays near the number of vans, not of readings.
 * - **Effectively once.** The checkpoint (the last sequence whose batch was acknowledged by the
 *   CMD stream) is saved in the `leases` bucket every second and on stop. After a crash the
 *   bridge replays from it; the vehicle actor skips sequences it applied (`telemetrySeq`).
 * - **Rejections.** A message that is not JSON, has no number, or names no vehicle is rejected
 *   here with its reason (counted, logged); the actor rejects the rest (unknown vehicle or
 *   compartment, out of physical range, future time, duplicates) and counts them per vehicle.
 *   Nothing is removed from the stream: the raw message stays as evidence either way.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import type { ConsumerMessages, JsMsg } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import type { Logger } from "pino";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ActorClient } from "../actors/index.ts";
import type { Topology } from "../nats/index.ts";
import { MAX_READINGS_PER_COMMAND } from "../protocol/actors/vehicle.ts";
import type { TelemetryReading } from "../protocol/actors/vehicle.ts";
import { parseTelemetry } from "./payload.ts";

export interface TelemetryBridgeOptions {
  readonly nc: NatsConnection;
  readonly topology: Topology;
  readonly actors: ActorClient;
  /** The `leases` bucket, where the checkpoint is kept. */
  readonly leases: KV;
  readonly log: Logger;
  readonly registry?: Registry;
  /** How often the checkpoint is saved (ms). Default 1000. */
  readonly checkpointEveryMs?: number;
  /** Readings gathered while a batch is in flight before reading pauses. Default 50,000. */
  readonly maxBuffered?: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const CHECKPOINT_KEY = "telemetry.checkpoint";
const PRINCIPAL = { role: "system", id: "telemetry-bridge" } as const;

export class TelemetryBridgeMetrics {
  readonly messages: Counter;
  readonly forwarded: Counter;
  readonly rejected: Counter<"reason">;
  readonly commands: Counter;
  readonly batchSeconds: Histogram;
  readonly checkpoint: Gauge;
  constructor(readonly registry: Registry = new Registry()) {
    const registers = [registry];
    this.messages = new Counter({
      name: "xianda_telemetry_messages_total",
      help: "TELEMETRY messages read by the bridge",
      registers,
    });
    this.forwarded = new Counter({
      name: "xianda_telemetry_readings_forwarded_total",
      help: "Readings handed to vehicle actors (which judge them further)",
      registers,
    });
    this.rejected = new Counter({
      name: "xianda_telemetry_rejected_total",
      help: "Telemetry messages the bridge could not read, by reason",
      labelNames: ["reason"],
      registers,
    });
    this.commands = new Counter({
      name: "xianda_telemetry_commands_total",
      help: "`readings` commands sent to vehicle actors",
      registers,
    });
    this.batchSeconds = new Histogram({
      name: "xianda_telemetry_batch_seconds",
      help: "From a batch's first message read to all its commands acknowledged",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.checkpoint = new Gauge({
      name: "xianda_telemetry_checkpoint",
      help: "The last TELEMETRY sequence acknowledged into vehicle actors",
      registers,
    });
  }
}

interface Batch {
  readonly byVehicle: Map<string, TelemetryReading[]>;
  lastSeq: number;
  size: number;
  readonly startedAt: number;
}

export class TelemetryBridge {
  readonly metrics: TelemetryBridgeMetrics;
  readonly #o: TelemetryBridgeOptions;
  readonly #prefix: string;
  readonly #maxBuffered: number;
  #messages: ConsumerMessages | null = null;
  #reading: Promise<void> | null = null;
  #batch: Batch | null = null;
  #inFlight: Promise<void> | null = null;
  #checkpoint = 0;
  #savedCheckpoint = 0;
  #saver: ReturnType<typeof setInterval> | null = null;
  #stopping = false;

  constructor(options: TelemetryBridgeOptions) {
    this.#o = options;
    this.metrics = new TelemetryBridgeMetrics(options.registry);
    const ns = options.topology.subjects.namespace;
    this.#prefix = ns === "" ? "" : `${ns}.`;
    this.#maxBuffered = options.maxBuffered ?? 50_000;
  }

  /** The last TELEMETRY sequence whose readings the vehicle actors have acknowledged. */
  get checkpoint(): number {
    return this.#checkpoint;
  }

  async start(): Promise<void> {
    const saved = await this.#o.leases.get(CHECKPOINT_KEY);
    this.#checkpoint = saved?.operation === "PUT" ? (saved.json<{ seq: number }>().seq ?? 0) : 0;
    this.#savedCheckpoint = this.#checkpoint;
    this.metrics.checkpoint.set(this.#checkpoint);
    const consumer = await jetstream(this.#o.nc).consumers.get(
      this.#o.topology.streams.telemetry,
      this.#checkpoint > 0
        ? { deliver_policy: "by_start_sequence", opt_start_seq: this.#checkpoint + 1 }
        : { deliver_policy: "all" },
    );
    this.#messages = await consumer.consume({ max_messages: 1024 });
    this.#reading = this.#read(this.#messages);
    this.#saver = setInterval(() => void this.#saveCheckpoint(), this.#o.checkpointEveryMs ?? 1000);
    this.#o.log.info({ checkpoint: this.#checkpoint }, "telemetry bridge started");
  }

  async stop(): Promise<void> {
    if (this.#saver) clearInterval(this.#saver);
    this.#saver = null;
    await this.#messages?.close();
    await this.#reading?.catch(() => {});
    // What was read is handed over before the final checkpoint, so a restart repeats little;
    // if NATS is gone, give up after a while: the successor replays from the checkpoint.
    const handOver = (async () => {
      while (this.#inFlight !== null || this.#batch !== null) {
        await (this.#inFlight ?? (this.#inFlight = this.#flush()));
      }
    })();
    await Promise.race([handOver, sleep(5000)]);
    this.#stopping = true;
    await this.#saveCheckpoint();
  }

  async #read(messages: ConsumerMessages): Promise<void> {
    for await (const m of messages) {
      this.#take(m);
      if (this.#inFlight === null) this.#inFlight = this.#flush();
      else if ((this.#batch?.size ?? 0) >= this.#maxBuffered) await this.#inFlight;
    }
  }

  #take(m: JsMsg): void {
    this.metrics.messages.inc();
    const parsed = parseTelemetry(m.subject, m.data, this.#prefix);
    const batch = (this.#batch ??= {
      byVehicle: new Map(),
      lastSeq: 0,
      size: 0,
      startedAt: performance.now(),
    });
    batch.lastSeq = m.seq;
    if (!parsed.ok) {
      this.metrics.rejected.inc({ reason: parsed.reason });
      this.#o.log.debug(
        { seq: m.seq, subject: m.subject, reason: parsed.reason, detail: parsed.detail },
        "telemetry message rejected",
      );
      return;
    }
    let list = batch.byVehicle.get(parsed.vehicleId);
    if (list === undefined) batch.byVehicle.set(parsed.vehicleId, (list = []));
    const source = m.headers?.get("Xd-Source") || undefined;
    parsed.readings.forEach((r, part) => {
      list.push({ seq: m.seq, part, ...r, ...(source ? { source } : {}) });
    });
    batch.size += parsed.readings.length;
  }

  /** Sends the gathered batch, then the next one gathered meanwhile, until none is left. */
  async #flush(): Promise<void> {
    try {
      while (this.#batch !== null) {
        const batch = this.#batch;
        this.#batch = null;
        const commands = this.#commands(batch);
        this.metrics.commands.inc(commands.length);
        this.metrics.forwarded.inc(batch.size);
        for (let attempt = 1; ; attempt++) {
          try {
            await Promise.all(
              commands.map((c) => this.#o.actors.send(c.to, c.msg, { id: c.id, by: PRINCIPAL })),
            );
            break;
          } catch (err) {
            // Not acknowledged: send the same commands again (same ids, so what did get stored
            // is not stored twice) until it works or the bridge stops, whose successor replays
            // from the checkpoint.
            if (this.#stopping) return;
            this.#o.log.warn({ err, attempt }, "telemetry batch not acknowledged; retrying");
            await sleep(Math.min(5000, 100 * 2 ** attempt));
          }
        }
        this.#checkpoint = batch.lastSeq;
        this.metrics.checkpoint.set(batch.lastSeq);
        this.metrics.batchSeconds.observe((performance.now() - batch.startedAt) / 1000);
      }
    } finally {
      this.#inFlight = null;
    }
  }

  #commands(batch: Batch) {
    const out: {
      to: { type: string; id: string };
      msg: { type: "readings"; readings: TelemetryReading[] };
      id: string;
    }[] = [];
    for (const [vehicleId, readings] of batch.byVehicle) {
      for (let i = 0; i < readings.length; i += MAX_READINGS_PER_COMMAND) {
        const chunk = readings.slice(i, i + MAX_READINGS_PER_COMMAND);
        out.push({
          to: { type: "vehicle", id: vehicleId },
          msg: { type: "readings", readings: chunk },
          id: `tele-${vehicleId}-${chunk[0]!.seq}-${chunk.length}`,
        });
      }
    }
    return out;
  }

  async #saveCheckpoint(): Promise<void> {
    const seq = this.#checkpoint;
    if (seq === this.#savedCheckpoint) return;
    try {
      await this.#o.leases.put(CHECKPOINT_KEY, JSON.stringify({ seq, at: Date.now() }));
      this.#savedCheckpoint = seq;
    } catch (err) {
      this.#o.log.warn({ err }, "telemetry checkpoint not saved; will retry");
    }
  }
}
