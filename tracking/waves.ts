/**
 * The live side of scheduled waves: wave events → push frames. A van's route goes to its driver
 * when the wave departs (`wave_route` on `courier:<id>`); every plan change tells the market's
 * console to read the plan again (`wave_plan` on `market:<id>`); planning trouble and orders left
 * on a point's shelf at closing are alerts on the market's channel. The shopper's notification
 * needs nothing here: the order's own `at_pickup_point` event becomes its status frame through
 * the tracker, like every order event.
 */
import { jetstream } from "@nats-io/jetstream";
import type { ConsumerMessages } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import type { Clock } from "../actors/index.ts";
import { systemClock } from "../actors/index.ts";
import { AckedPublisher } from "../nats/index.ts";
import type { Topology } from "../nats/index.ts";
import { marketOfWave } from "../protocol/index.ts";
import type { EventEnvelope, PushFrame } from "../protocol/index.ts";

/** The wave events this feed turns into frames. */
export const WAVE_FEED_EVENTS = [
  "wave_departed",
  "planned",
  "stop_moved",
  "route_locked",
  "route_unlocked",
  "planning_alert",
  "orders_unplanned",
  "uncollected_at_closing",
] as const;

export interface WaveFeedOptions {
  readonly nc: NatsConnection;
  readonly topology: Topology;
  readonly log: Logger;
  readonly clock?: Clock;
}

interface DepartedRoute {
  vehicleId: string;
  courierId: string;
  stops: {
    kind: "pickup" | "dropoff";
    place: string;
    location: { lat: number; lng: number };
    orderIds: string[];
    arriveAt: number;
  }[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What one wave event becomes: frames to push, each with its channel. */
export function waveFrames(
  event: EventEnvelope,
): { kind: "courier" | "market"; id: string; frame: PushFrame }[] {
  const waveId = event.actor.id;
  const marketId = marketOfWave(waveId);
  const data = (event.data ?? {}) as Record<string, unknown>;
  const alert = (code: string, severity: "warning" | "critical", message: string) => ({
    kind: "market" as const,
    id: marketId,
    frame: {
      kind: "alert" as const,
      id: `${waveId}.${event.seq}.${code}`,
      severity,
      code,
      message,
      subject: `wave:${waveId}`,
      at: event.at,
    },
  });
  switch (event.name) {
    case "wave_departed": {
      const routes = (data.routes ?? []) as DepartedRoute[];
      return routes.map((r) => ({
        kind: "courier" as const,
        id: r.courierId,
        frame: {
          kind: "wave_route" as const,
          waveId,
          vehicleId: r.vehicleId,
          stops: r.stops.map((s) => ({
            kind: s.kind,
            place: s.place,
            location: s.location,
            orderIds: s.orderIds,
            arriveAt: s.arriveAt,
          })),
          at: event.at,
        },
      }));
    }
    case "planned":
    case "stop_moved":
    case "route_locked":
    case "route_unlocked":
      return [
        {
          kind: "market",
          id: marketId,
          frame: {
            kind: "wave_plan",
            waveId,
            version: Number(data.version ?? 0),
            cost: Number(data.cost ?? 0),
            cause: event.name,
            at: event.at,
          },
        },
      ];
    case "planning_alert":
      return [
        alert("wave_planning", "critical", `波次 ${waveId} 未能排线：${String(data.reason)}`),
      ];
    case "orders_unplanned": {
      const ids = (data.orderIds ?? []) as string[];
      return [alert("wave_unplanned", "warning", `波次 ${waveId} 有 ${ids.length} 单未排入车辆`)];
    }
    case "uncollected_at_closing": {
      const ids = (data.orderIds ?? []) as string[];
      return [
        alert(
          "wave_uncollected",
          "warning",
          `自提点 ${String(data.pickupPointId)} 关门时仍有 ${ids.length} 单未取：${ids.slice(0, 10).join("、")}`,
        ),
      ];
    }
    default:
      return [];
  }
}

export class WaveFeed {
  readonly #o: WaveFeedOptions;
  readonly #publisher: AckedPublisher;
  readonly #streams: ConsumerMessages[] = [];

  constructor(options: WaveFeedOptions) {
    this.#o = options;
    this.#publisher = new AckedPublisher(options.nc);
  }

  async start(): Promise<void> {
    const { nc, topology, log } = this.#o;
    const clock = this.#o.clock ?? systemClock;
    // nats-server 2.9 takes one filter per consumer: one consumer per event name. Frames a
    // predecessor pushed again are harmless (a route or plan frame replaces the older one).
    for (const name of WAVE_FEED_EVENTS) {
      const consumer = await jetstream(nc).consumers.get(topology.streams.events, {
        filter_subjects: topology.subjects.eventsNamed("wave", name),
        deliver_policy: "by_start_time",
        opt_start_time: new Date(clock.now() - 2000).toISOString(),
      });
      const messages = await consumer.consume({ max_messages: 256 });
      this.#streams.push(messages);
      void (async () => {
        for await (const m of messages) {
          try {
            const event = JSON.parse(decoder.decode(m.data)) as EventEnvelope;
            for (const { kind, id, frame } of waveFrames(event)) this.#pushAcked(kind, id, frame);
          } catch (err) {
            log.warn({ err, subject: m.subject }, "wave event not handled");
          }
        }
      })();
    }
  }

  stop(): void {
    for (const s of this.#streams) s.stop();
    this.#publisher.close();
  }

  #pushAcked(kind: "courier" | "market", id: string, frame: PushFrame): void {
    const subject = this.#o.topology.subjects.push(kind, id);
    const body = encoder.encode(JSON.stringify(frame));
    this.#publisher
      .publish(subject, body)
      .catch(() => this.#publisher.publish(subject, body))
      .catch((err) => this.#o.log.warn({ err, kind, id }, `${frame.kind} frame not stored`));
  }
}
