/**
 * The live side of the cold chain, run by the tracker: vehicle events → push frames.
 *
 * - An excursion (out of range past its grace period, or a silent sensor) starting or ending is
 *   an `alert` frame at once on the van's driver (`courier:<id>`), its market's dispatchers
 *   (`market:<id>`), the van itself (`vehicle:<id>`) and every order inside (`order:<id>`, the
 *   shopper's page: told honestly). These are acked pushes: an alert is not dropped.
 * - Readings become `temperature` frames on `vehicle:<id>` (console chart) and on the orders
 *   inside, at most one per compartment per `temperatureEveryMs`, and at once when the
 *   compartment goes in or out of range: 2,000 vans × 4 compartments read every second would
 *   otherwise be 8,000 stored frames a second that nobody needs at that rate.
 *
 * Who drives a van, its market, and which orders are in which compartment come from the vehicle
 * actor's state (asked once per vehicle) and are then kept by following its events.
 */
import { jetstream } from "@nats-io/jetstream";
import type { ConsumerMessages } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import type { ActorClient, Clock } from "../actors/index.ts";
import { AckedPublisher } from "../nats/index.ts";
import type { Topology } from "../nats/index.ts";
import type { EventEnvelope, PushFrame } from "../protocol/index.ts";

export interface ColdChainFeedOptions {
  readonly nc: NatsConnection;
  readonly topology: Topology;
  readonly actors: ActorClient;
  readonly log: Logger;
  readonly clock: Clock;
  /** Least time between two temperature frames of one compartment (ms). Default 10,000. */
  readonly temperatureEveryMs?: number;
  /** Counts each frame pushed, by kind. */
  readonly onFrame?: (kind: PushFrame["kind"]) => void;
}

interface CompartmentLive {
  minC: number | null;
  maxC: number | null;
  orderIds: Set<string>;
  lastPushAt: number;
  lastInRange: boolean | null;
}

interface VehicleLive {
  driverId: string | null;
  marketId: string | null;
  compartments: Map<string, CompartmentLive>;
}

interface VehicleView {
  driverId: string | null;
  marketId?: string | null;
  compartments: {
    id: string;
    minC: number | null;
    maxC: number | null;
    orderIds: string[];
  }[];
}

type ChannelKind = "order" | "market" | "courier" | "vehicle";
const decoder = new TextDecoder();

const EVENTS = [
  "readings_recorded",
  "excursion_started",
  "excursion_ended",
  "order_loaded",
  "order_unloaded",
  "configured",
] as const;

export class ColdChainFeed {
  readonly #o: ColdChainFeedOptions;
  readonly #publisher: AckedPublisher;
  readonly #vehicles = new Map<string, VehicleLive | Promise<VehicleLive | null>>();
  readonly #streams: ConsumerMessages[] = [];
  readonly #everyMs: number;

  constructor(options: ColdChainFeedOptions) {
    this.#o = options;
    this.#publisher = new AckedPublisher(options.nc);
    this.#everyMs = options.temperatureEveryMs ?? 10_000;
  }

  async start(): Promise<void> {
    const { nc, topology } = this.#o;
    // nats-server 2.9 takes one filter per consumer: one consumer per event name.
    for (const name of EVENTS) {
      const consumer = await jetstream(nc).consumers.get(topology.streams.events, {
        filter_subjects: topology.subjects.eventsNamed("vehicle", name),
        deliver_policy: "by_start_time",
        opt_start_time: new Date(this.#o.clock.now() - 2000).toISOString(),
      });
      const messages = await consumer.consume({ max_messages: 512 });
      this.#streams.push(messages);
      void (async () => {
        for await (const m of messages) {
          try {
            await this.#on(JSON.parse(decoder.decode(m.data)) as EventEnvelope);
          } catch (err) {
            this.#o.log.warn({ err, subject: m.subject }, "vehicle event not handled");
          }
        }
      })();
    }
  }

  stop(): void {
    for (const s of this.#streams) s.stop();
    this.#publisher.close();
  }

  /** The vehicle as last known, asked of its actor the first time. */
  async #vehicle(id: string): Promise<VehicleLive | null> {
    const known = this.#vehicles.get(id);
    if (known !== undefined) return known;
    const asked = this.#o.actors
      .state<VehicleView>({ type: "vehicle", id })
      .then(({ view }) => {
        const live = fromView(view);
        this.#vehicles.set(id, live);
        return live;
      })
      .catch((err) => {
        this.#vehicles.delete(id);
        this.#o.log.warn({ err, vehicleId: id }, "vehicle state not read");
        return null;
      });
    this.#vehicles.set(id, asked);
    return asked;
  }

  async #on(event: EventEnvelope): Promise<void> {
    const vehicleId = event.actor.id;
    if (event.name === "configured") {
      // The layout changed: read it afresh (orders inside stay with their compartments).
      this.#vehicles.delete(vehicleId);
      return;
    }
    const v = await this.#vehicle(vehicleId);
    if (v === null) return;
    const data = event.data as Record<string, unknown>;
    switch (event.name) {
      case "order_loaded":
        v.compartments.get(data.compartmentId as string)?.orderIds.add(data.orderId as string);
        return;
      case "order_unloaded":
        v.compartments.get(data.compartmentId as string)?.orderIds.delete(data.orderId as string);
        return;
      case "readings_recorded":
        this.#readings(vehicleId, v, data as { readings: Reading[] });
        return;
      case "excursion_started":
      case "excursion_ended":
        this.#excursion(vehicleId, v, event);
        return;
    }
  }

  #readings(vehicleId: string, v: VehicleLive, data: { readings: Reading[] }): void {
    const now = this.#o.clock.now();
    // The newest fresh reading of each compartment in this batch.
    const newest = new Map<string, Reading>();
    for (const r of data.readings) {
      if (r.late) continue;
      const had = newest.get(r.compartmentId);
      if (had === undefined || r.at >= had.at) newest.set(r.compartmentId, r);
    }
    for (const [compartmentId, r] of newest) {
      const c = v.compartments.get(compartmentId);
      if (c === undefined) continue;
      const inRange =
        (c.minC === null || r.celsius >= c.minC) && (c.maxC === null || r.celsius <= c.maxC);
      if (inRange === c.lastInRange && now - c.lastPushAt < this.#everyMs) continue;
      c.lastPushAt = now;
      c.lastInRange = inRange;
      const frame = {
        kind: "temperature" as const,
        vehicleId,
        compartmentId,
        celsius: r.celsius,
        inRange,
        at: r.at,
      };
      this.#push("vehicle", vehicleId, frame);
      for (const orderId of c.orderIds) this.#push("order", orderId, { ...frame, orderId });
    }
  }

  #excursion(vehicleId: string, v: VehicleLive, event: EventEnvelope): void {
    const d = event.data as {
      compartmentId: string;
      kind: "temperature" | "sensor_silent";
      celsius?: number;
      peakC?: number;
      minC?: number | null;
      maxC?: number | null;
      durationMs?: number;
      orderIds?: string[];
    };
    const started = event.name === "excursion_started";
    const orderIds = new Set([
      ...(d.orderIds ?? []),
      ...(v.compartments.get(d.compartmentId)?.orderIds ?? []),
    ]);
    const frame: PushFrame = {
      kind: "alert",
      id: event.id,
      severity: started ? "critical" : "info",
      code: started
        ? d.kind === "temperature"
          ? "temperature_excursion"
          : "sensor_silent"
        : d.kind === "temperature"
          ? "temperature_excursion_ended"
          : "sensor_silent_ended",
      message: describe(vehicleId, d, started),
      subject: `vehicle:${vehicleId}/${d.compartmentId}`,
      at: event.at,
    };
    if (v.driverId) this.#push("courier", v.driverId, frame);
    if (v.marketId) this.#push("market", v.marketId, frame);
    this.#push("vehicle", vehicleId, frame);
    for (const orderId of orderIds) this.#push("order", orderId, frame);
  }

  #push(kind: ChannelKind, id: string, frame: PushFrame): void {
    const subject = this.#o.topology.subjects.push(kind, id);
    const body = new TextEncoder().encode(JSON.stringify(frame));
    this.#publisher
      .publish(subject, body)
      .catch(() => this.#publisher.publish(subject, body))
      .then(
        () => this.#o.onFrame?.(frame.kind),
        (err) => this.#o.log.warn({ err, kind, id }, `${frame.kind} frame not stored`),
      );
  }
}

interface Reading {
  compartmentId: string;
  celsius: number;
  at: number;
  late?: boolean;
}

function fromView(view: VehicleView): VehicleLive {
  return {
    driverId: view.driverId ?? null,
    marketId: view.marketId ?? null,
    compartments: new Map(
      (view.compartments ?? []).map((c) => [
        c.id,
        {
          minC: c.minC,
          maxC: c.maxC,
          orderIds: new Set(c.orderIds),
          lastPushAt: 0,
          lastInRange: null,
        },
      ]),
    ),
  };
}

/** The alert's text, Chinese first (the console and the apps show it as is). */
function describe(
  vehicleId: string,
  d: { compartmentId: string; kind: string; celsius?: number; peakC?: number; durationMs?: number },
  started: boolean,
): string {
  const where = `${vehicleId} 车厢 ${d.compartmentId}`;
  if (d.kind === "sensor_silent") {
    return started
      ? `${where} 温度传感器无数据 / sensor silent`
      : `${where} 温度传感器恢复 / sensor reporting again`;
  }
  if (started) {
    const c = d.celsius ?? d.peakC;
    return `${where} 温度超标${c === undefined ? "" : ` ${c} °C`} / temperature out of range`;
  }
  const minutes =
    d.durationMs === undefined
      ? ""
      : d.durationMs < 60_000
        ? `，持续 ${Math.max(1, Math.round(d.durationMs / 1000))} 秒`
        : `，持续 ${Math.round(d.durationMs / 60000)} 分钟`;
  return `${where} 温度恢复正常${minutes} / back in range (peak ${d.peakC ?? "?"} °C)`;
}
