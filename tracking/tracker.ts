/**
 * The tracker: the live side of xianda. It takes every courier fix the gateways publish on
 * `loc.courier.<id>` (core NATS: a fix is worth something for seconds, not for ever), keeps each
 * market's couriers in an H3 index, follows the order events to know who carries what, and
 * publishes what apps watch into the PUSH stream: a carried order's courier position (coarsened
 * until pickup) and ETA window, order status changes, and each market's moved couriers once a
 * second. Last positions are saved to the `positions` bucket and loaded at start.
 *
 * One tracker is active per deployment (a lease in the `leases` bucket); others wait to take
 * over. Its state is rebuilt from `positions` and the last day of order events at start.
 */
import { jetstream } from "@nats-io/jetstream";
import type { ConsumerMessages } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { cellToLatLng, latLngToCell } from "h3-js";
import type { Logger } from "pino";
import { Counter, Histogram, Registry } from "prom-client";
import type { ActorClient, Clock } from "../actors/index.ts";
import { systemClock } from "../actors/index.ts";
import { CourierIndex } from "../geo/index.ts";
import { AckedPublisher } from "../nats/index.ts";
import type { Topology } from "../nats/index.ts";
import type { EventEnvelope, PushFrame } from "../protocol/index.ts";
import type { CourierLive, Delivery, LocationMessage, TrackerView } from "./types.ts";
import { ColdChainFeed } from "./cold-chain.ts";

/** The part of geo's EtaModel the tracker uses: a synchronous straight-line window. */
export interface StraightEta {
  estimateStraight(
    from: { lat: number; lng: number },
    to: { lat: number; lng: number },
    mode: "foot" | "bike" | "ebike" | "car" | "van",
    startAt: number,
  ): { p50: number; p90: number };
}

export interface TrackerOptions {
  readonly nc: NatsConnection;
  readonly topology: Topology;
  readonly positions: KV;
  readonly actors: ActorClient;
  readonly eta: StraightEta;
  readonly log: Logger;
  readonly clock?: Clock;
  /** How often each market's moved couriers are pushed (ms). Default 1000. */
  readonly marketFlushMs?: number;
  /** How often each market actor gets its moved couriers' positions, for dispatch (ms). 5000. */
  readonly dispatchPositionsMs?: number;
  /** Least time between two temperature frames of one van compartment (ms). Default 10,000. */
  readonly temperatureEveryMs?: number;
  /** How often moved couriers' positions are saved (ms). Default 5000. */
  readonly persistMs?: number;
  /** Least time between two ETA frames of one order (ms). Default 5000. */
  readonly etaEveryMs?: number;
  /** H3 resolution a shopper sees the courier at before pickup (7 ≈ 1.2 km cells). */
  readonly coarseResolution?: number;
  /** Minutes at the store before leaving with the food (ETA). Default 4. */
  readonly pickupServiceMinutes?: number;
  /** Order events replayed at start to learn who carries what (ms back). Default 24 h. */
  readonly replayMs?: number;
}

/** Order events that say the status directly; the others are looked up. */
const STATUS_OF_EVENT: Readonly<Record<string, string>> = {
  created: "created",
  accepted: "accepted",
  preparing: "preparing",
  ready: "ready",
  offered: "offered",
  assigned: "assigned",
  courier_arrived_at_store: "at_store",
  picked_up: "picked_up",
  courier_arrived_at_customer: "at_customer",
  delivered: "delivered",
  delivery_failed: "delivery_failed",
  returned: "returned",
  cancelled: "cancelled",
};
const FINISHED = new Set(["delivered", "returned", "cancelled"]);

interface PushOffer {
  orderId: string;
  marketId: string;
  storeId: string;
  temperatureClass: "ambient" | "chilled" | "frozen";
  pickup: { lat: number; lng: number };
  dropoff: { lat: number; lng: number } | null;
  expiresAt: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class Tracker implements TrackerView {
  /** The tracker's own metrics (a fresh registry per instance, so one can follow another). */
  readonly registry = new Registry();
  readonly #o: TrackerOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #publisher: AckedPublisher;
  #coldChain: ColdChainFeed | null = null;
  readonly #indexes = new Map<string, CourierIndex>();
  readonly #couriers = new Map<string, CourierLive>();
  readonly #deliveries = new Map<string, Delivery>();
  readonly #carrying = new Map<string, Set<string>>();
  readonly #movedByMarket = new Map<string, Set<string>>();
  readonly #unsaved = new Set<string>();
  /** Per market, couriers that moved since their positions last went to the market actor. */
  readonly #movedForDispatch = new Map<string, Set<string>>();
  /** The market of each open order seen (from its `created` event), for the market's channel. */
  readonly #orderMarkets = new Map<string, string>();
  readonly #metrics: {
    fixes: Counter;
    frames: Counter<"kind">;
    lag: Histogram;
  };
  #subs: Subscription[] = [];
  #events: ConsumerMessages | null = null;
  #courierEvents: ConsumerMessages | null = null;
  #alertEvents: ConsumerMessages[] = [];
  /** Couriers whose work frame is due, with the pending timer (bursts make one lookup). */
  readonly #workTimers = new Map<string, NodeJS.Timeout>();
  #timers: NodeJS.Timeout[] = [];
  #updates = 0;

  constructor(options: TrackerOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.log.child({ component: "tracker" });
    this.#publisher = new AckedPublisher(options.nc);
    const registers = [this.registry];
    this.#metrics = {
      fixes: new Counter({
        name: "xianda_tracker_fixes_total",
        help: "Courier fixes taken into the index",
        registers,
      }),
      frames: new Counter({
        name: "xianda_tracker_push_frames_total",
        help: "Push frames published, by kind",
        labelNames: ["kind"],
        registers,
      }),
      lag: new Histogram({
        name: "xianda_tracker_fix_lag_seconds",
        help: "From a fix's arrival at a gateway to its push frames being published",
        buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
        registers,
      }),
    };
  }

  get updates(): number {
    return this.#updates;
  }

  index(marketId: string): CourierIndex | null {
    return this.#indexes.get(marketId) ?? null;
  }

  courier(courierId: string): CourierLive | null {
    return this.#couriers.get(courierId) ?? null;
  }

  async start(): Promise<void> {
    const { nc, topology } = this.#o;
    await this.#loadPositions();
    await this.#followOrders();
    await this.#followCouriers();
    await this.#followMarketAlerts();
    this.#coldChain = new ColdChainFeed({
      nc,
      topology,
      actors: this.#o.actors,
      log: this.#log,
      clock: this.#clock,
      ...(this.#o.temperatureEveryMs === undefined
        ? {}
        : { temperatureEveryMs: this.#o.temperatureEveryMs }),
      onFrame: (kind) => this.#metrics.frames.inc({ kind }),
    });
    await this.#coldChain.start();
    this.#subs = [
      nc.subscribe(topology.subjects.courierLocationFilter, {
        callback: (err, msg) => {
          if (!err) this.#onFixes(msg.data);
        },
      }),
      nc.subscribe(topology.subjects.courierFixBatch(), {
        callback: (err, msg) => {
          if (!err) this.#onFixes(msg.data);
        },
      }),
    ];
    const every = (ms: number, run: () => void) => {
      const t = setInterval(run, ms);
      t.unref();
      this.#timers.push(t);
    };
    every(this.#o.marketFlushMs ?? 1000, () => this.#flushMarkets());
    every(this.#o.persistMs ?? 5000, () => void this.#persist());
    every(this.#o.dispatchPositionsMs ?? 5000, () => this.#sendPositionsToMarkets());
    this.#log.info({ couriers: this.#couriers.size }, "tracker started");
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    for (const sub of this.#subs) sub.unsubscribe();
    this.#events?.stop();
    this.#courierEvents?.stop();
    for (const m of this.#alertEvents) m.stop();
    this.#coldChain?.stop();
    for (const t of this.#workTimers.values()) clearTimeout(t);
    this.#workTimers.clear();
    await this.#persist();
    this.#publisher.close();
  }

  // --- fixes ------------------------------------------------------------------------------

  /** One fix (`loc.courier.<id>`) or a gateway's batch of them (`loc.fixes`). */
  #onFixes(data: Uint8Array): void {
    let parsed: LocationMessage | LocationMessage[];
    try {
      parsed = JSON.parse(decoder.decode(data)) as LocationMessage | LocationMessage[];
    } catch {
      return;
    }
    if (Array.isArray(parsed)) for (const fix of parsed) this.#onFix(fix);
    else this.#onFix(parsed);
  }

  #onFix(fix: LocationMessage): void {
    if (typeof fix !== "object" || fix === null) return;
    // Gateways validated the fix; check only what would corrupt the index.
    if (
      typeof fix.courierId !== "string" ||
      typeof fix.marketId !== "string" ||
      !Number.isFinite(fix.lat) ||
      !Number.isFinite(fix.lng) ||
      !Number.isFinite(fix.at)
    ) {
      return;
    }
    const previous = this.#couriers.get(fix.courierId);
    if (previous && fix.at <= previous.at) return; // out of order across gateways
    if (previous && previous.marketId !== fix.marketId) {
      this.#indexes.get(previous.marketId)?.remove(fix.courierId);
    }
    const live: CourierLive = {
      marketId: fix.marketId,
      lat: fix.lat,
      lng: fix.lng,
      at: fix.at,
      ...(fix.speed !== undefined ? { speed: fix.speed } : {}),
    };
    this.#couriers.set(fix.courierId, live);
    this.#indexFor(fix.marketId).upsert(fix.courierId, fix.lat, fix.lng, fix.at);
    this.#updates++;
    this.#metrics.fixes.inc();
    this.#unsaved.add(fix.courierId);
    let moved = this.#movedByMarket.get(fix.marketId);
    if (!moved) this.#movedByMarket.set(fix.marketId, (moved = new Set()));
    moved.add(fix.courierId);
    let toDispatch = this.#movedForDispatch.get(fix.marketId);
    if (!toDispatch) this.#movedForDispatch.set(fix.marketId, (toDispatch = new Set()));
    toDispatch.add(fix.courierId);
    const orders = this.#carrying.get(fix.courierId);
    if (orders) for (const orderId of orders) this.#pushCourierToOrder(orderId, fix);
    this.#metrics.lag.observe(Math.max(0, this.#clock.now() - fix.receivedAt) / 1000);
  }

  #indexFor(marketId: string): CourierIndex {
    let index = this.#indexes.get(marketId);
    if (!index) this.#indexes.set(marketId, (index = new CourierIndex()));
    return index;
  }

  #pushCourierToOrder(orderId: string, fix: LocationMessage): void {
    const delivery = this.#deliveries.get(orderId);
    if (!delivery) return;
    let { lat, lng } = fix;
    if (!delivery.pickedUp) {
      // Before pickup the shopper sees the courier's neighbourhood, not the courier.
      [lat, lng] = cellToLatLng(latLngToCell(lat, lng, this.#o.coarseResolution ?? 7));
    }
    this.#push("order", orderId, {
      kind: "courier",
      courierId: fix.courierId,
      lat,
      lng,
      at: fix.at,
      coarse: !delivery.pickedUp,
      ...(fix.speed !== undefined ? { speed: fix.speed } : {}),
      ...(fix.heading !== undefined && delivery.pickedUp ? { heading: fix.heading } : {}),
    });
    const now = this.#clock.now();
    if (now - delivery.lastEtaAt >= (this.#o.etaEveryMs ?? 5000)) {
      const eta = this.#eta(delivery, fix, now);
      if (eta) {
        delivery.lastEtaAt = now;
        this.#push("order", orderId, eta);
      }
    }
  }

  #eta(delivery: Delivery, from: { lat: number; lng: number }, now: number): PushFrame | null {
    if (!delivery.dropoff) {
      void this.#describe(delivery);
      return null;
    }
    const eta = this.#o.eta;
    if (delivery.pickedUp) {
      const w = eta.estimateStraight(from, delivery.dropoff, "ebike", now);
      return {
        kind: "eta",
        orderId: delivery.orderId,
        leg: "to_customer",
        p50: Math.round(w.p50),
        p90: Math.round(w.p90),
        at: now,
      };
    }
    if (!delivery.pickup) return null;
    const toStore = eta.estimateStraight(from, delivery.pickup, "ebike", now);
    const service = (this.#o.pickupServiceMinutes ?? 4) * 60_000;
    const toCustomer = eta.estimateStraight(
      delivery.pickup,
      delivery.dropoff,
      "ebike",
      toStore.p50 + service,
    );
    return {
      kind: "eta",
      orderId: delivery.orderId,
      leg: "to_store",
      p50: Math.round(toCustomer.p50),
      p90: Math.round(toCustomer.p90 + (toStore.p90 - toStore.p50)),
      at: now,
    };
  }

  // --- couriers' work (driver app) -----------------------------------------------------------

  /**
   * Follows courier events from the moment this tracker starts (a predecessor pushed the older
   * ones): an offer is pushed at once from its event, and after any change to offers, jobs or
   * the route a `work` frame with the courier's whole work, read from its actor.
   */
  async #followCouriers(): Promise<void> {
    const filter = this.#o.topology.subjects.eventFilter("courier");
    this.#courierEvents = await this.#followLive(filter, 512, (e) => this.#onCourierEvent(e));
  }

  /**
   * Hands each event on `filter` to `handle`, from two seconds before now (a predecessor pushed
   * the older ones); the stream of messages, to stop it.
   */
  async #followLive(
    filter: string,
    batch: number,
    handle: (event: EventEnvelope) => void,
  ): Promise<ConsumerMessages> {
    const { nc, topology } = this.#o;
    const consumer = await jetstream(nc).consumers.get(topology.streams.events, {
      filter_subjects: filter,
      deliver_policy: "by_start_time",
      opt_start_time: new Date(this.#clock.now() - 2000).toISOString(),
    });
    const messages = await consumer.consume({ max_messages: batch });
    void (async () => {
      for await (const m of messages) {
        try {
          handle(JSON.parse(decoder.decode(m.data)) as EventEnvelope);
        } catch (err) {
          this.#log.warn({ err, subject: m.subject }, "unreadable event");
        }
      }
    })().catch((err) => this.#log.error({ err, filter }, "event reader ended"));
    return messages;
  }

  #onCourierEvent(event: EventEnvelope): void {
    if (event.name === "position_updated") return;
    const courierId = event.actor.id;
    if (event.name === "offer_received") {
      const o = event.data as {
        orderId: string;
        marketId: string;
        storeId: string;
        temperatureClass: "ambient" | "chilled" | "frozen";
        pickup: { lat: number; lng: number };
        dropoff: { lat: number; lng: number } | null;
        expiresAt: number;
      };
      this.#pushAcked("courier", courierId, {
        kind: "offer",
        courierId,
        orderId: o.orderId,
        marketId: o.marketId,
        storeId: o.storeId,
        temperatureClass: o.temperatureClass,
        pickup: o.pickup,
        dropoff: o.dropoff,
        expiresAt: o.expiresAt,
        at: event.at,
      });
    }
    if (this.#workTimers.has(courierId)) return;
    const timer = setTimeout(() => {
      this.#workTimers.delete(courierId);
      void this.#pushWork(courierId, event.name);
    }, 20);
    timer.unref();
    this.#workTimers.set(courierId, timer);
  }

  async #pushWork(courierId: string, cause: string): Promise<void> {
    try {
      const { view } = await this.#o.actors.state<{
        status: string;
        offers: Record<string, PushOffer & { receivedAt: number }>;
        jobs: Record<
          string,
          {
            orderId: string;
            temperatureClass: "ambient" | "chilled" | "frozen";
            pickedUp: boolean;
            pickupCode: string | null;
          }
        >;
        route: {
          orderId: string;
          kind: "pickup" | "dropoff";
          location: { lat: number; lng: number };
          storeId: string | null;
        }[];
      }>({ type: "courier", id: courierId });
      this.#pushAcked("courier", courierId, {
        kind: "work",
        courierId,
        status: view.status,
        offers: Object.values(view.offers ?? {}).map((o) => ({
          orderId: o.orderId,
          marketId: o.marketId,
          storeId: o.storeId,
          temperatureClass: o.temperatureClass,
          pickup: o.pickup,
          dropoff: o.dropoff,
          expiresAt: o.expiresAt,
        })),
        jobs: Object.values(view.jobs ?? {}).map((j) => ({
          orderId: j.orderId,
          temperatureClass: j.temperatureClass,
          pickedUp: j.pickedUp,
          pickupCode: j.pickupCode ?? null,
        })),
        route: (view.route ?? []).map((r) => ({
          orderId: r.orderId,
          kind: r.kind,
          location: r.location,
          storeId: r.storeId ?? null,
        })),
        cause,
        at: this.#clock.now(),
      });
    } catch (err) {
      this.#log.warn({ err, courierId }, "courier work lookup failed");
    }
  }

  /** A frame that must not be lost (a status, an offer, a courier's work): acked, retried once. */
  #pushAcked(kind: "order" | "market" | "courier", id: string, frame: PushFrame): void {
    const subject = this.#o.topology.subjects.push(kind, id);
    const body = encoder.encode(JSON.stringify(frame));
    this.#publisher
      .publish(subject, body)
      .catch(() => this.#publisher.publish(subject, body))
      .then(
        () => this.#metrics.frames.inc({ kind: frame.kind }),
        (err) => this.#log.warn({ err, kind, id }, `${frame.kind} frame not stored`),
      );
  }

  // --- dispatcher alerts ----------------------------------------------------------------------

  /**
   * The market's dispatch alerts (an order no courier could take, many declines) and offers
   * that ran out unanswered, as alert frames on the market's channel (dispatcher console).
   */
  async #followMarketAlerts(): Promise<void> {
    // nats-server 2.9 takes one filter per consumer: one consumer per event name.
    for (const name of ["dispatch_alert", "offer_expired"]) {
      const filter = this.#o.topology.subjects.eventsNamed("market", name);
      this.#alertEvents.push(await this.#followLive(filter, 256, (e) => this.#onMarketAlert(e)));
    }
  }

  #onMarketAlert(event: EventEnvelope): void {
    const marketId = event.actor.id;
    const data = event.data as {
      orderId: string;
      courierId?: string;
      code?: string;
      message?: string;
    };
    const frame: PushFrame =
      event.name === "dispatch_alert"
        ? {
            kind: "alert",
            id: event.id,
            severity: data.code === "no_courier" ? "critical" : "warning",
            code: data.code ?? "dispatch",
            message: data.message ?? "",
            subject: `order:${data.orderId}`,
            at: event.at,
          }
        : {
            kind: "alert",
            id: event.id,
            severity: "info",
            code: "offer_unanswered",
            message: `courier ${data.courierId ?? "?"} did not answer the offer of ${data.orderId}`,
            subject: `order:${data.orderId}`,
            at: event.at,
          };
    this.#pushAcked("market", marketId, frame);
  }

  // --- orders -----------------------------------------------------------------------------

  /** Follows order events from a day back; older ones only rebuild state, newer ones push. */
  async #followOrders(): Promise<void> {
    const { nc, topology } = this.#o;
    const js = jetstream(nc);
    const startedAt = this.#clock.now();
    const since = new Date(startedAt - (this.#o.replayMs ?? 24 * 3600_000)).toISOString();
    const consumer = await js.consumers.get(topology.streams.events, {
      filter_subjects: topology.subjects.eventFilter("order"),
      deliver_policy: "by_start_time",
      opt_start_time: since,
    });
    this.#events = await consumer.consume({ max_messages: 512 });
    const messages = this.#events;
    const caughtUp = new Promise<void>((resolve) => {
      void consumer.info(true).then(
        (info) => info.num_pending === 0 && resolve(),
        () => resolve(),
      );
      void (async () => {
        for await (const m of messages) {
          // Events stored before this tracker started were pushed by its predecessor (a
          // status frame pushed twice is harmless: the client keeps the latest).
          const live = m.time.getTime() >= startedAt - 2000;
          try {
            this.#onOrderEvent(JSON.parse(decoder.decode(m.data)) as EventEnvelope, live);
          } catch (err) {
            this.#log.warn({ err, subject: m.subject }, "unreadable order event");
          }
          if (m.info.pending === 0) resolve();
        }
      })().catch((err) => this.#log.error({ err }, "order event reader ended"));
    });
    await caughtUp;
    for (const delivery of this.#deliveries.values()) void this.#describe(delivery);
  }

  #onOrderEvent(event: EventEnvelope, live: boolean): void {
    const orderId = event.actor.id;
    const data = (event.data ?? {}) as { courierId?: string | null; marketId?: string };
    if (event.name === "created" && data.marketId) this.#orderMarkets.set(orderId, data.marketId);
    let delivery = this.#deliveries.get(orderId);
    switch (event.name) {
      case "assigned":
        delivery ??= this.#track(orderId);
        this.#carry(delivery, data.courierId ?? null);
        break;
      case "picked_up":
        if (delivery) delivery.pickedUp = true;
        break;
      case "reassigned":
      case "courier_released":
        if (delivery) this.#carry(delivery, null);
        break;
    }
    const status = STATUS_OF_EVENT[event.name];
    if (status && FINISHED.has(status) && delivery) this.#untrack(delivery);
    if (!live) {
      if (status && FINISHED.has(status)) this.#orderMarkets.delete(orderId);
      return;
    }
    if (status) {
      this.#pushStatus(orderId, status, event.at, delivery?.courierId ?? data.courierId ?? null);
    } else {
      void this.#o.actors
        .state<{ status: string; courierId: string | null }>({ type: "order", id: orderId })
        .then((s) => this.#pushStatus(orderId, s.view.status, event.at, s.view.courierId))
        .catch((err) => this.#log.warn({ err, orderId }, "order status lookup failed"));
    }
    if (event.name === "assigned" && delivery) void this.#describe(delivery);
  }

  #track(orderId: string): Delivery {
    const delivery: Delivery = {
      orderId,
      courierId: null,
      pickedUp: false,
      marketId: null,
      pickup: null,
      dropoff: null,
      lastEtaAt: 0,
    };
    this.#deliveries.set(orderId, delivery);
    return delivery;
  }

  #carry(delivery: Delivery, courierId: string | null): void {
    if (delivery.courierId) this.#carrying.get(delivery.courierId)?.delete(delivery.orderId);
    delivery.courierId = courierId;
    delivery.pickedUp = false;
    delivery.lastEtaAt = 0;
    if (!courierId) return;
    let set = this.#carrying.get(courierId);
    if (!set) this.#carrying.set(courierId, (set = new Set()));
    set.add(delivery.orderId);
  }

  #untrack(delivery: Delivery): void {
    if (delivery.courierId) this.#carrying.get(delivery.courierId)?.delete(delivery.orderId);
    this.#deliveries.delete(delivery.orderId);
  }

  /** Fills in where the order is picked up and delivered (once per order). */
  async #describe(delivery: Delivery): Promise<void> {
    if (delivery.dropoff) return;
    try {
      const { view } = await this.#o.actors.state<{
        status: string;
        marketId: string;
        pickup: { lat: number; lng: number };
        dropoff: { location: { lat: number; lng: number } };
        pickedUpAt: number | null;
      }>({ type: "order", id: delivery.orderId });
      if (view.status === "none" || !view.dropoff) return;
      delivery.marketId = view.marketId;
      delivery.pickup = view.pickup;
      delivery.dropoff = view.dropoff.location;
      delivery.pickedUp = view.pickedUpAt !== null;
    } catch (err) {
      this.#log.warn({ err, orderId: delivery.orderId }, "order lookup failed");
    }
  }

  #pushStatus(orderId: string, status: string, at: number, courierId: string | null): void {
    this.#pushOrderToMarket(orderId, status, at, courierId);
    // Status frames are few and matter: publish with an acknowledgement, retried once.
    this.#pushAcked("order", orderId, { kind: "status", orderId, status, at, courierId });
  }

  /**
   * The market's channel hears of every order change; a new order's first frame says where it
   * is picked up and delivered (looked up once), for the console's list and demand shading.
   */
  #pushOrderToMarket(orderId: string, status: string, at: number, courierId: string | null): void {
    const marketId = this.#orderMarkets.get(orderId);
    if (!marketId) return;
    if (FINISHED.has(status)) this.#orderMarkets.delete(orderId);
    const base: PushFrame = { kind: "order", orderId, marketId, status, at, courierId };
    if (status !== "created") {
      this.#push("market", marketId, base);
      return;
    }
    void this.#o.actors
      .state<{
        storeId: string;
        temperatureClass: "ambient" | "chilled" | "frozen";
        promisedAt: number;
        pickup: { lat: number; lng: number };
        dropoff: { location: { lat: number; lng: number } };
      }>({ type: "order", id: orderId })
      .then(({ view }) =>
        this.#push("market", marketId, {
          ...base,
          storeId: view.storeId,
          temperatureClass: view.temperatureClass,
          promisedAt: view.promisedAt,
          pickup: view.pickup,
          dropoff: view.dropoff.location,
        }),
      )
      .catch(() => this.#push("market", marketId, base));
  }

  // --- markets and persistence --------------------------------------------------------------

  /**
   * Each market actor gets its moved couriers' positions in one command every few seconds (its
   * dispatch plans from them): one command per market instead of one per courier. Positions are
   * facts superseded within seconds, so a lost batch is made good by the next.
   */
  #sendPositionsToMarkets(): void {
    for (const [marketId, moved] of this.#movedForDispatch) {
      if (moved.size === 0) continue;
      const positions = [];
      for (const courierId of moved) {
        const c = this.#couriers.get(courierId);
        if (!c || c.marketId !== marketId) continue;
        positions.push({
          courierId,
          position: { lat: c.lat, lng: c.lng, at: c.at, accuracy: null },
        });
      }
      moved.clear();
      for (let i = 0; i < positions.length; i += 1000) {
        this.#o.actors
          .send(
            { type: "market", id: marketId },
            { type: "courier_positions", positions: positions.slice(i, i + 1000) },
            { by: { role: "system", id: "tracker" } },
          )
          .catch((err: unknown) =>
            this.#log.warn({ err, marketId }, "couriers' positions not sent to the market"),
          );
      }
    }
  }

  #flushMarkets(): void {
    for (const [marketId, moved] of this.#movedByMarket) {
      if (moved.size === 0) continue;
      const couriers = [];
      for (const courierId of moved) {
        const c = this.#couriers.get(courierId);
        if (!c || c.marketId !== marketId) continue;
        const busy = (this.#carrying.get(courierId)?.size ?? 0) > 0;
        couriers.push({
          courierId,
          lat: c.lat,
          lng: c.lng,
          at: c.at,
          status: busy ? "busy" : "idle",
        });
      }
      moved.clear();
      for (let i = 0; i < couriers.length; i += 500) {
        this.#push("market", marketId, {
          kind: "couriers",
          marketId,
          couriers: couriers.slice(i, i + 500),
          at: this.#clock.now(),
        });
      }
    }
  }

  #push(kind: "order" | "market" | "courier", id: string, frame: PushFrame): void {
    // Positions and ETAs are superseded within seconds: a plain publish, no acknowledgement.
    this.#o.nc.publish(
      this.#o.topology.subjects.push(kind, id),
      encoder.encode(JSON.stringify(frame)),
    );
    this.#metrics.frames.inc({ kind: frame.kind });
  }

  async #loadPositions(): Promise<void> {
    const kv = this.#o.positions;
    const keys: string[] = [];
    for await (const key of await kv.keys()) keys.push(key);
    await Promise.all(
      keys.map(async (key) => {
        const entry = await kv.get(key);
        if (!entry || entry.operation !== "PUT") return;
        const c = entry.json<CourierLive>();
        this.#couriers.set(key, c);
        this.#indexFor(c.marketId).upsert(key, c.lat, c.lng, c.at);
      }),
    );
  }

  async #persist(): Promise<void> {
    if (this.#unsaved.size === 0) return;
    const ids = [...this.#unsaved];
    this.#unsaved.clear();
    const bucket = this.#o.topology.buckets.positions;
    // In slices, yielding between them: thousands of writes at once would stall the fixes.
    for (let i = 0; i < ids.length; i += 100) {
      if (i > 0) await new Promise((r) => setImmediate(r));
      await Promise.all(
        ids.slice(i, i + 100).map((id) => {
          const c = this.#couriers.get(id);
          if (!c) return null;
          return this.#publisher
            .publish(`$KV.${bucket}.${id}`, encoder.encode(JSON.stringify(c)))
            .catch((err) => {
              this.#unsaved.add(id);
              this.#log.warn({ err, courierId: id }, "position not saved; will retry");
            });
        }),
      );
    }
  }
}
