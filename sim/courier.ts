/**
 * A simulated courier that is a real client: it connects to the gateway's /ws/driver with its
 * token and reports fixes while it rides, as a phone would.
 *
 * Driven by hand (`driveTo`, `wait`), it is a moving dot. Put to work (`startWork`), it is a
 * courier: it goes on shift through the courier API, watches its own channel `courier:<id>` on
 * /ws/live, answers each `offer` after a moment's thought (accepting with `acceptProbability`,
 * less when the store is far or the bag is full, declining with the reason a person would give),
 * and rides its route as the `work` frames give it, stop by stop: at a store it says it has
 * arrived and the store's staff hand the goods over with its pickup code (the `CourierDesk`,
 * played by the simulated city); at the door it says it has arrived, the shopper tells the PIN,
 * and it delivers with it. Idle, it drifts to where the shops are (`wanderTo`). Routes follow
 * the road network when a route source (OSRM) is given, else straight lines. On an accelerated
 * clock it rides and thinks `speedup` times faster, but never reports faster than 120 km/h (the
 * gateway's fix filter refuses a phone that jumps faster).
 *
 * It imports only protocol/ and geo/ maths, like every client in sim/.
 */
import WebSocket from "ws";
import { haversineMeters } from "../geo/index.ts";
import type { DriverUpFrame, LatLng, PushFrame } from "../protocol/index.ts";
import type { DeclineReason } from "../protocol/actors/offers.ts";
import { GatewayHttp, LiveSocket } from "./city/api.ts";

export interface SimCourierOptions {
  /** ws://host:port of the gateway. */
  readonly gateway: string;
  readonly token: string;
  /** Metres per second (simulated). Default 6 (an e-bike in town). */
  readonly speed?: number;
  /** Wall milliseconds between fixes while moving. Default 1000. */
  readonly everyMs?: number;
  /** Simulated ms per wall ms. Default 1. */
  readonly speedup?: number;
  /** The courier's own PRNG (offers, pauses). Default Math.random. */
  readonly random?: () => number;
}

type Offer = Extract<PushFrame, { kind: "work" }>["offers"][number];
type Job = Extract<PushFrame, { kind: "work" }>["jobs"][number];
type Stop = Extract<PushFrame, { kind: "work" }>["route"][number];

/** What the courier is doing, as its own channel last said. */
export interface CourierWork {
  status: string;
  offers: Offer[];
  jobs: Job[];
  route: Stop[];
  /** Server time of the picture. */
  at: number;
}

export type VehicleOnShift = { mode: "ebike" } | { mode: "van"; vehicleId: string };

export interface WorkOptions {
  /** http://host:port of the gateway (the courier API). */
  readonly http: GatewayHttp;
  readonly courierId: string;
  readonly vehicle: VehicleOnShift;
  /** Orders at once; a van's slots per temperature class. */
  readonly capacity: {
    maxOrders: number;
    slots?: { ambient: number; chilled: number; frozen: number };
  };
  /** Chance of taking an offer that is near and fits. Default 0.85. */
  readonly acceptProbability?: number;
  /** A road route from → to (OSRM), or null for a straight line. */
  readonly route?: (from: LatLng, to: LatLng) => Promise<LatLng[] | null>;
  /** Where to drift to when idle (near shops); null to stay. */
  readonly wanderTo?: (from: LatLng) => LatLng | null;
  /** Wall milliseconds between fixes while standing. Default 5000. */
  readonly idleEveryMs?: number;
}

export type HandOffResult =
  /** The store handed the goods over. */
  | "handed_off"
  /** Not now (goods not ready, the van's compartment out of range): wait and ask again. */
  | "wait"
  /** The store will not (another courier's order, a wrong code): leave it. */
  | "refused";

export interface HandOffRequest {
  readonly orderId: string;
  readonly storeId: string | null;
  readonly courierId: string;
  readonly pickupCode: string;
  readonly temperatureClass: "ambient" | "chilled" | "frozen";
  readonly vehicleId: string | null;
}

export type CourierEvent =
  | { kind: "offer_accepted" | "offer_declined"; orderId: string; reason?: DeclineReason }
  | { kind: "picked_up"; orderId: string; storeId: string | null }
  | { kind: "delivered"; orderId: string; temperatureClass: string; vehicleId: string | null }
  | { kind: "problem"; orderId?: string; message: string };

/** The world round the courier: the stores' staff and the shoppers at their doors. */
export interface CourierDesk {
  /** The store's staff take the courier's code and hand the order over. */
  handOff(request: HandOffRequest): Promise<HandOffResult>;
  /** The PIN the shopper tells at the door, or null when nobody answers. */
  pinFor(orderId: string, pickupCode: string | null): string | null;
  /** Simulated ms until the shopper comes to the door (default 10-30 s). */
  shopperDelayMs?(orderId: string): number;
  onEvent?(courierId: string, event: CourierEvent): void;
}

/** What a courier weighs when an offer comes. */
export interface OfferSituation {
  /** Straight-line metres from the courier to the store. */
  readonly toStoreM: number;
  /** Orders the courier already has. */
  readonly carrying: number;
  readonly maxOrders: number;
  readonly mode: "ebike" | "van";
  readonly temperatureClass: "ambient" | "chilled" | "frozen";
  /** Chance of taking an offer that is near and fits. */
  readonly acceptProbability: number;
}

export type OfferAnswer = { accept: true } | { accept: false; reason: DeclineReason };

/**
 * Whether a courier takes an offer: `acceptProbability` for a near one that fits, less for a far
 * store (over 2 km on an e-bike, 5 km in a van), a fuller bag, frozen goods on an e-bike; a decline gives the reason that
 * weighed most, as a person would pick it in the app.
 */
export function decideOffer(random: () => number, s: OfferSituation): OfferAnswer {
  let p = s.acceptProbability;
  // A van covers the city from its warehouse; an e-bike works its neighbourhood.
  const farM = s.mode === "van" ? 5000 : 2000;
  const far = s.toStoreM > farM;
  const busy = s.carrying > 0 && s.carrying >= s.maxOrders - 1;
  const unsuitable = s.mode === "ebike" && s.temperatureClass === "frozen";
  if (far) p -= Math.min(0.4, ((s.toStoreM - farM) / 1000) * 0.15);
  if (busy) p -= 0.15;
  if (unsuitable) p -= 0.1;
  if (random() < Math.max(0.05, p)) return { accept: true };
  const reason: DeclineReason = far
    ? "too_far"
    : busy
      ? "busy"
      : unsuitable
        ? "vehicle_unsuitable"
        : random() < 0.5
          ? "too_far"
          : "other";
  return { accept: false, reason };
}

/** Fixes faster than this are refused by the gateway's filter (150 km/h): stay under it. */
export const MAX_REPORTED_SPEED = 33;

const NO_WORK: CourierWork = { status: "unknown", offers: [], jobs: [], route: [], at: 0 };

export class SimCourier {
  readonly #o: SimCourierOptions;
  readonly #random: () => number;
  #ws: WebSocket | null = null;
  #position: LatLng;
  #closed = false;
  #reconnect: ReturnType<typeof setTimeout> | null = null;
  #live: LiveSocket | null = null;
  #work: CourierWork = NO_WORK;
  #job: WorkOptions | null = null;
  #desk: CourierDesk | null = null;
  /** Stops done here whose work frame has not caught up yet (`<orderId>:<kind>`). */
  readonly #done = new Set<string>();
  readonly #answered = new Set<string>();
  /** Every pending sleep, so `close` can end them at once. */
  readonly #sleeps = new Set<() => void>();
  #changed: (() => void) | null = null;
  #onShift = false;
  #moving = false;
  #loop: Promise<void> | null = null;
  accepted = 0;
  rejected = 0;
  delivered = 0;

  constructor(start: LatLng, options: SimCourierOptions) {
    this.#o = options;
    this.#position = start;
    this.#random = options.random ?? Math.random;
  }

  get position(): LatLng {
    return this.#position;
  }

  get work(): Readonly<CourierWork> {
    return this.#work;
  }

  /** On shift with a job or a pending offer, or on the move to a stop. */
  get busy(): boolean {
    return this.#work.jobs.length > 0 || this.#work.offers.length > 0;
  }

  get onShift(): boolean {
    return this.#onShift;
  }

  get moving(): boolean {
    return this.#moving;
  }

  async connect(): Promise<void> {
    const ws = new WebSocket(
      `${this.#o.gateway}/ws/driver?token=${encodeURIComponent(this.#o.token)}`,
    );
    ws.on("message", (data) => {
      const frame = JSON.parse(String(data)) as {
        type: string;
        accepted?: number;
        rejected?: unknown[];
      };
      if (frame.type === "location_ack") {
        this.accepted += frame.accepted ?? 0;
        this.rejected += frame.rejected?.length ?? 0;
      }
    });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    ws.on("error", () => {});
    ws.on("close", () => {
      if (this.#closed || this.#ws !== ws) return;
      this.#reconnect = setTimeout(() => {
        this.#reconnect = null;
        if (!this.#closed) void this.connect().catch(() => {});
      }, 1000);
    });
    this.#ws = ws;
  }

  /** Drives to `to` in a straight line, reporting fixes on the way; resolves on arrival. */
  async driveTo(to: LatLng): Promise<void> {
    await this.#ride([this.#position, to], () => true);
  }

  /** Stays put for `ms` (wall), still reporting (a courier waiting at a store). */
  async wait(ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until && !this.#closed) {
      this.#report();
      await this.#sleep(Math.min(this.#o.everyMs ?? 1000, until - Date.now()));
    }
  }

  /**
   * Goes on shift and to work: watches its channel, answers offers, rides its route, hands over
   * and delivers through `desk`. Resolves once on shift and listening; the work runs until
   * `close` (or `goOffShift`).
   */
  async startWork(job: WorkOptions, desk: CourierDesk): Promise<void> {
    this.#job = job;
    this.#desk = desk;
    await this.goOnShift();
    if (this.#ws === null) await this.connect();
    this.#report();
    this.#live = new LiveSocket({
      gateway: this.#o.gateway,
      token: this.#o.token,
      channels: [`courier:${job.courierId}`],
      onFrame: (_channel, frame) => this.#onFrame(frame),
    });
    await this.#live.open();
    // A fresh start (or a restart mid-shift): the whole picture, with pickup codes.
    const me = await job.http.get<{
      status?: string;
      offers?: Record<string, Offer>;
      jobs?: Record<string, Job & { pickupCode?: string | null }>;
      route?: Stop[];
    }>("/v1/couriers/me", this.#o.token);
    if (me.status === 200 && me.body && this.#work.at === 0) {
      this.#setWork({
        status: me.body.status ?? "unknown",
        offers: Object.values(me.body.offers ?? {}).map((o) => ({
          ...o,
          dropoff: o.dropoff ?? null,
        })),
        jobs: Object.values(me.body.jobs ?? {}).map((j) => ({
          orderId: j.orderId,
          temperatureClass: j.temperatureClass,
          pickedUp: j.pickedUp,
          pickupCode: j.pickupCode ?? null,
        })),
        route: (me.body.route ?? []).map((s) => ({ ...s, storeId: s.storeId ?? null })),
        at: 1,
      });
    }
    this.#loop = this.#run().catch((err: unknown) => {
      if (!this.#closed) this.#event({ kind: "problem", message: `stopped: ${String(err)}` });
    });
  }

  async goOnShift(): Promise<void> {
    const job = this.#need();
    const res = await job.http.post(
      "/v1/couriers/me/shift",
      this.#o.token,
      { on: true, vehicle: job.vehicle, capacity: job.capacity },
      `on-${job.courierId}-${Date.now().toString(36)}`,
    );
    // 409: already on shift (a restart): carry on with that shift.
    if (res.status !== 200 && res.code !== "already_on_shift" && res.status !== 409) {
      throw new Error(`courier ${job.courierId} could not go on shift: ${res.code}`);
    }
    this.#onShift = true;
  }

  /** Off shift (the courier's actor hands back any open offers and unstarted jobs). */
  async goOffShift(): Promise<void> {
    const job = this.#need();
    this.#onShift = false;
    await job.http.post(
      "/v1/couriers/me/shift",
      this.#o.token,
      { on: false },
      `off-${job.courierId}-${Date.now().toString(36)}`,
    );
  }

  /** Stops riding, listening and reporting; ends every pending wait at once. */
  close(): void {
    this.#closed = true;
    if (this.#reconnect !== null) clearTimeout(this.#reconnect);
    this.#reconnect = null;
    for (const wake of [...this.#sleeps]) wake();
    this.#changed?.();
    this.#live?.close();
    this.#ws?.close();
  }

  /** Resolves when the work loop has ended (after `close`). */
  async closed(): Promise<void> {
    await this.#loop;
  }

  // ------------------------------------------------------------------------- work

  #need(): WorkOptions {
    if (this.#job === null) throw new Error("startWork first");
    return this.#job;
  }

  #onFrame(frame: PushFrame): void {
    if (frame.kind === "work") {
      if (frame.at < this.#work.at) return;
      this.#setWork({
        status: frame.status,
        offers: frame.offers,
        jobs: frame.jobs,
        route: frame.route,
        at: frame.at,
      });
    } else if (frame.kind === "offer") {
      if (this.#work.offers.some((o) => o.orderId === frame.orderId)) return;
      const { kind: _k, courierId: _c, at: _a, ...offer } = frame;
      this.#setWork({ ...this.#work, offers: [...this.#work.offers, offer] });
    }
  }

  #setWork(work: CourierWork): void {
    this.#work = work;
    // Stops the server no longer lists are done there too: forget them here.
    const listed = new Set(work.route.map((s) => `${s.orderId}:${s.kind}`));
    for (const key of this.#done) if (!listed.has(key)) this.#done.delete(key);
    for (const offer of work.offers) void this.#answer(offer);
    const changed = this.#changed;
    this.#changed = null;
    changed?.();
  }

  async #answer(offer: Offer): Promise<void> {
    if (this.#answered.has(offer.orderId) || offer.expiresAt <= Date.now()) return;
    this.#answered.add(offer.orderId);
    const job = this.#need();
    // A few seconds to read the card: where, what, how far.
    await this.#sleepSim(1_500 + this.#random() * 3_500);
    if (this.#closed || !this.#work.offers.some((o) => o.orderId === offer.orderId)) return;
    const answer = decideOffer(this.#random, {
      toStoreM: haversineMeters(this.#position, offer.pickup),
      carrying: this.#work.jobs.length,
      maxOrders: job.capacity.maxOrders,
      mode: job.vehicle.mode,
      temperatureClass: offer.temperatureClass,
      acceptProbability: job.acceptProbability ?? 0.85,
    });
    const path = `/v1/couriers/me/offers/${offer.orderId}/${answer.accept ? "accept" : "decline"}`;
    const res = await job.http
      .post(
        path,
        this.#o.token,
        answer.accept ? {} : { reason: answer.reason },
        `answer-${offer.orderId}`,
      )
      .catch((err: unknown) => ({ status: 0, code: String(err) }));
    if (res.status >= 200 && res.status < 300) {
      this.#event(
        answer.accept
          ? { kind: "offer_accepted", orderId: offer.orderId }
          : { kind: "offer_declined", orderId: offer.orderId, reason: answer.reason },
      );
    }
  }

  /** The next stop it can do: the route's first not done here whose goods are in hand. */
  #nextStop(): Stop | null {
    for (const stop of this.#work.route) {
      if (this.#done.has(`${stop.orderId}:${stop.kind}`)) continue;
      const job = this.#work.jobs.find((j) => j.orderId === stop.orderId);
      if (job === undefined) continue;
      if (stop.kind === "pickup" && job.pickupCode === null) continue;
      if (stop.kind === "dropoff" && !job.pickedUp && !this.#done.has(`${stop.orderId}:pickup`)) {
        continue;
      }
      return stop;
    }
    return null;
  }

  #stillListed(stop: Stop): boolean {
    return this.#work.route.some((s) => s.orderId === stop.orderId && s.kind === stop.kind);
  }

  async #run(): Promise<void> {
    let idleSince = Date.now();
    let wanderAfterMs = this.#wanderWait();
    while (!this.#closed) {
      const stop = this.#nextStop();
      if (stop === null) {
        if (!this.#onShift) {
          await this.#idle(60_000);
          continue;
        }
        const job = this.#need();
        const idleSim = (Date.now() - idleSince) * (this.#o.speedup ?? 1);
        const target =
          this.#work.jobs.length === 0 && idleSim >= wanderAfterMs
            ? (job.wanderTo?.(this.#position) ?? null)
            : null;
        if (target !== null) {
          // Drift towards the shops; any new work ends the ride.
          const before = this.#work.route.length;
          await this.#rideTo(
            target,
            () => this.#work.route.length === before && this.#nextStop() === null,
          );
          idleSince = Date.now();
          wanderAfterMs = this.#wanderWait();
        } else {
          await this.#idle(job.idleEveryMs ?? 5_000);
        }
        continue;
      }
      const arrived = await this.#rideTo(stop.location, () => this.#stillListed(stop));
      if (!arrived || this.#closed) continue;
      if (stop.kind === "pickup") await this.#pickUp(stop);
      else await this.#dropOff(stop);
      idleSince = Date.now();
    }
  }

  /** 2-5 simulated minutes standing before drifting to the shops. */
  #wanderWait(): number {
    return (2 + this.#random() * 3) * 60_000;
  }

  async #pickUp(stop: Stop): Promise<void> {
    const job = this.#need();
    const desk = this.#desk!;
    const courierId = job.courierId;
    await this.#courierPost(stop.orderId, "arrived-at-store", {});
    for (let attempt = 0; !this.#closed && this.#stillListed(stop); attempt++) {
      const held = this.#work.jobs.find((j) => j.orderId === stop.orderId);
      if (held === undefined || held.pickupCode === null) return;
      const result = await desk.handOff({
        orderId: stop.orderId,
        storeId: stop.storeId,
        courierId,
        pickupCode: held.pickupCode,
        temperatureClass: held.temperatureClass,
        vehicleId: job.vehicle.mode === "van" ? job.vehicle.vehicleId : null,
      });
      if (result === "handed_off") {
        this.#done.add(`${stop.orderId}:pickup`);
        this.#event({ kind: "picked_up", orderId: stop.orderId, storeId: stop.storeId });
        return;
      }
      // Not ready yet, or the van's compartment is warm: stand at the counter and ask again.
      await this.#standSim(result === "wait" ? 20_000 : 60_000);
    }
  }

  async #dropOff(stop: Stop): Promise<void> {
    const job = this.#need();
    const held = this.#work.jobs.find((j) => j.orderId === stop.orderId);
    await this.#courierPost(stop.orderId, "arrived-at-customer", {});
    // The shopper comes to the door (or the courier finds the pickup point's shelf).
    await this.#standSim(
      this.#desk!.shopperDelayMs?.(stop.orderId) ?? 10_000 + this.#random() * 20_000,
    );
    if (this.#closed) return;
    const pin = this.#desk!.pinFor(stop.orderId, held?.pickupCode ?? null);
    if (pin === null) {
      this.#done.add(`${stop.orderId}:dropoff`);
      this.#event({
        kind: "problem",
        orderId: stop.orderId,
        message: "no PIN known for the order",
      });
      return;
    }
    const res = await this.#courierPost(stop.orderId, "deliver", { pin });
    this.#done.add(`${stop.orderId}:dropoff`);
    if (res !== null && res.status >= 200 && res.status < 300) {
      this.delivered++;
      this.#event({
        kind: "delivered",
        orderId: stop.orderId,
        temperatureClass: held?.temperatureClass ?? "ambient",
        vehicleId: job.vehicle.mode === "van" ? job.vehicle.vehicleId : null,
      });
    } else {
      this.#event({
        kind: "problem",
        orderId: stop.orderId,
        message: `delivery refused: ${res?.code ?? "no answer"}`,
      });
    }
  }

  async #courierPost(
    orderId: string,
    action: string,
    body: unknown,
  ): Promise<{ status: number; code: string | null } | null> {
    const job = this.#need();
    try {
      const res = await job.http.post(
        `/v1/couriers/me/orders/${orderId}/${action}`,
        this.#o.token,
        body,
        `${action}-${orderId}`,
      );
      if (res.status >= 400) {
        this.#event({ kind: "problem", orderId, message: `${action}: ${res.code}` });
      }
      return res;
    } catch (err) {
      if (!this.#closed)
        this.#event({ kind: "problem", orderId, message: `${action}: ${String(err)}` });
      return null;
    }
  }

  #event(event: CourierEvent): void {
    this.#desk?.onEvent?.(this.#job?.courierId ?? "?", event);
  }

  // ------------------------------------------------------------------------- moving

  /** Rides to `to` (by road when a route source answers); false when `keepGoing` said stop. */
  async #rideTo(to: LatLng, keepGoing: () => boolean): Promise<boolean> {
    const from = this.#position;
    if (haversineMeters(from, to) < 5) return true;
    const road = await this.#job?.route?.(from, to).catch(() => null);
    const path = road && road.length >= 2 ? [from, ...road, to] : [from, to];
    return this.#ride(path, keepGoing);
  }

  /** Moves along `path` at the courier's speed, reporting a fix every `everyMs`. */
  async #ride(path: readonly LatLng[], keepGoing: () => boolean): Promise<boolean> {
    const speed = Math.min(MAX_REPORTED_SPEED, (this.#o.speed ?? 6) * (this.#o.speedup ?? 1));
    const every = this.#o.everyMs ?? 1000;
    const legs: number[] = [];
    for (let i = 1; i < path.length; i++) legs.push(haversineMeters(path[i - 1]!, path[i]!));
    const total = legs.reduce((s, d) => s + d, 0);
    const started = Date.now();
    this.#moving = true;
    try {
      for (;;) {
        if (this.#closed) return false;
        const covered = Math.min(total, ((Date.now() - started) / 1000) * speed);
        this.#position = pointAlong(path, legs, covered);
        this.#report(speed);
        if (covered >= total) return true;
        if (!keepGoing()) return false;
        await this.#sleep(every);
      }
    } finally {
      this.#moving = false;
    }
  }

  /** Stands still for `simMs`, reporting now and then; ends early on close. */
  async #standSim(simMs: number): Promise<void> {
    const until = Date.now() + simMs / (this.#o.speedup ?? 1);
    const every = this.#job?.idleEveryMs ?? 5_000;
    while (!this.#closed && Date.now() < until) {
      this.#report();
      await this.#sleep(Math.min(every, until - Date.now()));
    }
  }

  /** Stands for up to `wallMs`, or until the work changes. */
  async #idle(wallMs: number): Promise<void> {
    this.#report();
    let wake: () => void = () => {};
    const changed = new Promise<void>((resolve) => (wake = resolve));
    this.#changed = wake;
    await Promise.race([changed, this.#sleep(wallMs)]);
    if (this.#changed === wake) this.#changed = null;
    wake();
  }

  #sleepSim(simMs: number): Promise<void> {
    return this.#sleep(simMs / (this.#o.speedup ?? 1));
  }

  /** A wall-clock sleep that `close` ends at once (no timer outlives the courier). */
  #sleep(ms: number): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#sleeps.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.#sleeps.add(done);
    });
  }

  #report(speed?: number): void {
    if (this.#ws?.readyState !== WebSocket.OPEN) return;
    const frame: DriverUpFrame = {
      type: "location",
      fix: {
        ...this.#position,
        at: Date.now(),
        accuracy: 10,
        ...(speed !== undefined ? { speed } : {}),
      },
      coord: "wgs84",
    };
    this.#ws.send(JSON.stringify(frame));
  }
}

/** The point `covered` metres along `path` (whose leg lengths are `legs`). */
export function pointAlong(
  path: readonly LatLng[],
  legs: readonly number[],
  covered: number,
): LatLng {
  let left = covered;
  for (let i = 0; i < legs.length; i++) {
    const leg = legs[i]!;
    if (left <= leg || i === legs.length - 1) {
      const f = leg === 0 ? 1 : Math.min(1, left / leg);
      const a = path[i]!;
      const b = path[i + 1]!;
      return { lat: a.lat + (b.lat - a.lat) * f, lng: a.lng + (b.lng - a.lng) * f };
    }
    left -= leg;
  }
  return path[path.length - 1]!;
}
