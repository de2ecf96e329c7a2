/**
 * The running city: a city's market, stores and vans registered with the platform, couriers on
 * shift as real clients, shops placing orders by the day's demand curve, stores taking them on,
 * preparing them and handing them over, shoppers at their doors with their PINs — all through
 * the same APIs a person's apps use. The platform's own dispatch engine matches orders to
 * couriers: the world never locks or forces an assignment.
 *
 * - Set-up (`CityAdmin`, given by the entry point: there is no HTTP route to register a store
 *   or a van): the market, each store with its open hours, each van with its compartments, its
 *   market and its driver.
 * - Couriers (`SimCourier`): e-bikes waiting near shops and vans at the cold warehouse, each on
 *   shift through `POST /v1/couriers/me/shift`, streaming fixes on /ws/driver, answering offers
 *   from their own `courier:<id>` channel, riding their routes. Shifts end (6-10 simulated hours,
 *   then a rest) once the courier has nothing in hand.
 * - Vans' loggers (`SimVan`): their compartments every 2 s over MQTT or NATS; a door opens at
 *   each cold drop-off, and now and then one is left open (the model's own).
 * - Shops (`POST /v1/stores/:storeId/orders` with the store's token, as a shop's back end), then
 *   the store's screen: accept with a ready time a moment later, `ready` when prepared, and the
 *   hand-off with the code the courier shows (into the van's compartment for cold goods).
 * - The first orders (`burst`) go to the stores where couriers wait, to doors a short ride away,
 *   so a newcomer sees deliveries within a minute; then the demand curve takes over.
 * - The live summary counts the market's channel (see summary.ts).
 */
import { setMaxListeners } from "node:events";
import { seededRandom } from "../../geo/random.ts";
import type { LatLng, PushFrame, TemperatureClass } from "../../protocol/index.ts";
import type { CompartmentConfig } from "../../protocol/actors/vehicle.ts";
import type { CreateOrderBody, CreatedOrder } from "../../protocol/http.ts";
import { SimCourier } from "../courier.ts";
import type { CourierDesk, CourierEvent, HandOffRequest, HandOffResult } from "../courier.ts";
import { compartmentConfigs, SimVan, STANDARD_COMPARTMENTS } from "../van.ts";
import type { VanTransport } from "../van.ts";
import { GatewayHttp, LiveSocket } from "./api.ts";
import { Draw, flatMeters, isOpen, offsetMeters, placeCity, StoreRegistry } from "./cities.ts";
import type { City, CityPlaces, OpenHours, SimStore } from "./cities.ts";
import { isAbort, simClock } from "./clock.ts";
import type { SimClock } from "./clock.ts";
import { arrivals, drawOrder, WEATHER } from "./demand.ts";
import type { PlannedOrder, Weather } from "./demand.ts";
import { SummaryBook, summaryLine } from "./summary.ts";
import type { FleetCounts, SummaryCounts } from "./summary.ts";

/** Registers what the city is made of; the entry point implements it (actor messages). */
export interface CityAdmin {
  configureMarket(market: { marketId: string; name: string; city: string }): Promise<void>;
  registerStore(store: {
    storeId: string;
    name: string;
    marketId: string;
    location: LatLng;
    openHours: OpenHours;
  }): Promise<void>;
  configureVehicle(vehicle: {
    vehicleId: string;
    marketId: string;
    driverId: string;
    compartments: CompartmentConfig[];
  }): Promise<void>;
}

export interface TokenRequest {
  readonly sub: string;
  readonly role: "courier" | "dispatcher" | "store" | "shopper" | "admin";
  readonly mkt?: string;
  readonly ord?: string;
}
/** Signs an access token (the entry point holds the secret). */
export type TokenIssuer = (claims: TokenRequest, hours?: number) => Promise<string>;

/** A road route from → to for a mode (OSRM), or null for a straight line. */
export type RouteSource = (
  from: LatLng,
  to: LatLng,
  mode: "ebike" | "van",
) => Promise<LatLng[] | null>;

/** An order a simulated shop placed, as the world remembers it (the shopper's PIN too). */
export interface PlacedOrder {
  readonly orderId: string;
  readonly shopOrderId: string;
  readonly storeId: string;
  readonly storeName: string;
  readonly temperatureClass: TemperatureClass;
  readonly dropoffKind: "door" | "pickup_point";
  readonly pickupCode: string;
  readonly pin: string;
  /** Wall clock, epoch ms. */
  readonly placedAt: number;
  readonly promisedAt: number;
  /** When the goods are ready (wall); null until the store accepted. */
  readyAt: number | null;
  /** One of the first orders, near a waiting courier. */
  readonly burst: boolean;
}

export interface DeliveredOrder {
  readonly orderId: string;
  readonly courierId: string;
  readonly temperatureClass: string;
  readonly vehicleId: string | null;
  /** Null for an order this run did not place (one left from an earlier run). */
  readonly order: PlacedOrder | null;
}

export interface CityWorldOptions {
  readonly city: City;
  /** http://host:port of the gateway. */
  readonly gateway: string;
  readonly tokens: TokenIssuer;
  readonly admin: CityAdmin;
  /** Couriers on shift, vans' drivers included. Default 12. */
  readonly couriers?: number;
  /** Of the couriers, how many drive a refrigerated van. Default 2 (fewer with few couriers). */
  readonly vans?: number;
  readonly weather?: Weather;
  /** Default: the wall clock. */
  readonly clock?: SimClock;
  /** Seeds placement, orders and every courier's choices. Default 1. */
  readonly seed?: number;
  /** Orders on a dry day. Default 40 per courier (half a courier's day of work at peaks). */
  readonly dailyOrders?: number;
  /** A floor on orders per minute (a demo at night). Default 0. */
  readonly minOrdersPerMinute?: number;
  /** Orders placed at once at the start, at the stores where couriers wait. Default 6. */
  readonly burst?: number;
  /** Stores and pickup points; default the city's size. */
  readonly stores?: number;
  readonly pickupPoints?: number;
  /** Where the vans' loggers publish (MQTT or NATS); none: no loggers (cold hand-offs refused). */
  readonly vanTransport?: VanTransport;
  /** Road routes (OSRM); default straight lines. */
  readonly route?: RouteSource;
  /** Makes this run's shop order numbers unique (a restart keeps the market). Default: time. */
  readonly runId?: string;
  /** Every `summaryEveryMs` (default 5000), the summary line. */
  readonly onSummary?: (line: string, counts: SummaryCounts, fleet: FleetCounts) => void;
  readonly summaryEveryMs?: number;
  readonly onOrder?: (order: PlacedOrder) => void;
  readonly onDelivered?: (delivered: DeliveredOrder) => void;
  /** Each alert on the market's channel (cold chain, dispatch), as the console gets it. */
  readonly onAlert?: (alert: Extract<PushFrame, { kind: "alert" }>) => void;
  /** Something went wrong that the world carries on through (a refused call, a lost link). */
  readonly onProblem?: (message: string) => void;
  /** The HTTP client's fetch (a load harness times each request). Default the global fetch. */
  readonly fetch?: typeof fetch;
  /**
   * Every store open around the clock (load runs): the platform judges opening hours on the
   * wall clock, so an accelerated lunch run at night would otherwise find the shops shut.
   */
  readonly storesOpenAllDay?: boolean;
}

const ALL_DAY: OpenHours = Object.fromEntries(
  (["1", "2", "3", "4", "5", "6", "7"] as const).map((d) => [
    d,
    [{ open: "00:00", close: "24:00" }],
  ]),
) as OpenHours;

export interface SimCourierSpec {
  readonly courierId: string;
  readonly mode: "ebike" | "van";
  readonly vehicleId: string | null;
  readonly start: LatLng;
  /** m/s before the weather. */
  readonly speed: number;
  /** Where it waits at the start: a store, for the first orders. */
  readonly waitsAt: SimStore | null;
}

/** Van compartments by temperature class (sim/van.ts's standard van). */
export const VAN_COMPARTMENT: Readonly<Record<"chilled" | "frozen", string>> = {
  chilled: "C",
  frozen: "F",
};

const PICKUP_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * The shopper's PIN, derived from the world's seed and the order's pickup code: the simulated
 * shopper "remembers" it even for an order placed by an earlier run of the same city.
 */
export function derivePin(seed: number, pickupCode: string): string {
  return String(1000 + (hash32(`${seed}:pin:${pickupCode}`) % 9000));
}

/** Waits for `work`, but at most `ms` (its timer cleared either way). */
async function within(ms: number, work: Promise<unknown>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | null = null;
  await Promise.race([work, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  if (timer !== null) clearTimeout(timer);
}

export function pickupCodeFrom(draw: Draw): string {
  let code = "";
  for (let i = 0; i < 6; i++) code += draw.pick([...PICKUP_ALPHABET]);
  return code;
}

/** How many of `couriers` drive vans when not said: two, fewer in a small fleet. */
export function defaultVans(couriers: number): number {
  return Math.min(2, Math.floor(couriers / 4));
}

/**
 * Where the couriers start: vans at the cold warehouse; the first e-bikes each at a different
 * open store (spread over the districts), waiting for the first orders; the rest near shops
 * (50-300 m off), as couriers wait where the orders come from.
 */
export function placeCouriers(
  places: CityPlaces,
  openNow: readonly SimStore[],
  o: { couriers: number; vans: number; waiting: number; seed: number },
): SimCourierSpec[] {
  const draw = new Draw(o.seed ^ 0x5eed);
  const { city, stores } = places;
  const warehouse = stores.find((s) => s.kind === "cold_warehouse") ?? stores[0]!;
  const specs: SimCourierSpec[] = [];
  const pad = (n: number) => String(n).padStart(2, "0");
  for (let i = 0; i < o.vans; i++) {
    specs.push({
      courierId: `c-${city.marketId}-v${i + 1}`,
      mode: "van",
      vehicleId: `van-${city.marketId}-${i + 1}`,
      start: offsetMeters(warehouse.location, 20 + 15 * i, draw.uniform(0, 2 * Math.PI)),
      speed: 7,
      waitsAt: null,
    });
  }
  // Open stores taken district by district, so the first orders light up the whole map.
  const byDistrict = new Map<string, SimStore[]>();
  for (const s of openNow.filter((x) => x.kind !== "cold_warehouse")) {
    const list = byDistrict.get(s.district) ?? [];
    list.push(s);
    byDistrict.set(s.district, list);
  }
  const spread: SimStore[] = [];
  for (let round = 0; spread.length < openNow.length; round++) {
    let added = false;
    for (const list of byDistrict.values()) {
      if (list[round]) {
        spread.push(list[round]!);
        added = true;
      }
    }
    if (!added) break;
  }
  const ebikes = Math.max(0, o.couriers - o.vans);
  for (let i = 0; i < ebikes; i++) {
    const waitsAt = i < o.waiting ? (spread[i] ?? null) : null;
    const near = waitsAt ?? draw.pick(stores);
    specs.push({
      courierId: `c-${city.marketId}-${pad(i + 1)}`,
      mode: "ebike",
      vehicleId: null,
      start: offsetMeters(
        near.location,
        waitsAt ? draw.uniform(5, 25) : draw.uniform(50, 300),
        draw.uniform(0, 2 * Math.PI),
      ),
      // E-bikes in town: 20 km/h ± 10 %.
      speed: 5.5 * draw.uniform(0.9, 1.1),
      waitsAt,
    });
  }
  return specs;
}

interface ShiftState {
  /** Simulated time the shift ends, or (off shift) it starts again. */
  nextChangeAt: number;
  changing: boolean;
}

export class CityWorld {
  readonly places: CityPlaces;
  readonly registry: StoreRegistry;
  readonly clock: SimClock;
  readonly #o: CityWorldOptions;
  readonly #abort = new AbortController();
  readonly #http: GatewayHttp;
  readonly #draw: Draw;
  readonly #seed: number;
  readonly #runId: string;
  readonly #weather: Weather;
  readonly #summary: SummaryBook;
  readonly #orders = new Map<string, PlacedOrder>();
  readonly #couriers = new Map<
    string,
    { spec: SimCourierSpec; sim: SimCourier; shift: ShiftState }
  >();
  readonly #vans = new Map<string, SimVan>();
  readonly #storeTokens = new Map<string, Promise<string>>();
  readonly #tasks = new Set<Promise<unknown>>();
  readonly #humanHandOffs = new Set<string>();
  #market: LiveSocket | null = null;
  #tick: ReturnType<typeof setInterval> | null = null;
  #summaryTimer: ReturnType<typeof setInterval> | null = null;
  #lastArrivalAt = 0;
  #seq = 0;
  #stopping = false;
  #ordersStopped = false;
  #ordersPlaced = 0;

  constructor(options: CityWorldOptions) {
    this.#o = options;
    this.#seed = options.seed ?? 1;
    this.#draw = new Draw(this.#seed * 7919 + 17);
    this.#runId = options.runId ?? Date.now().toString(36);
    this.#weather = options.weather ?? "clear";
    this.clock = options.clock ?? simClock();
    const places = placeCity(options.city, {
      seed: this.#seed,
      ...(options.stores !== undefined ? { stores: options.stores } : {}),
      ...(options.pickupPoints !== undefined ? { pickupPoints: options.pickupPoints } : {}),
    });
    this.places = options.storesOpenAllDay
      ? { ...places, stores: places.stores.map((st) => ({ ...st, openHours: ALL_DAY })) }
      : places;
    this.registry = new StoreRegistry(this.places.stores);
    // Every request and sleep in flight listens for the stop: many at once is expected.
    setMaxListeners(0, this.#abort.signal);
    this.#http = new GatewayHttp({
      baseUrl: options.gateway,
      signal: this.#abort.signal,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    this.#summary = new SummaryBook(this.clock.speedup);
  }

  get city(): City {
    return this.#o.city;
  }

  get marketId(): string {
    return this.#o.city.marketId;
  }

  get weather(): Weather {
    return this.#weather;
  }

  get courierIds(): string[] {
    return [...this.#couriers.keys()];
  }

  get vanIds(): string[] {
    return [...this.#vans.keys()];
  }

  /** Where each courier is now. */
  positions(): Array<{ courierId: string; lat: number; lng: number; busy: boolean }> {
    return [...this.#couriers.values()].map(({ spec, sim }) => ({
      courierId: spec.courierId,
      ...sim.position,
      busy: sim.busy,
    }));
  }

  counts(): SummaryCounts {
    return this.#summary.read();
  }

  fleet(): FleetCounts {
    let busy = 0;
    let idle = 0;
    let offShift = 0;
    for (const { sim } of this.#couriers.values()) {
      if (!sim.onShift) offShift++;
      else if (sim.busy) busy++;
      else idle++;
    }
    return { busy, idle, offShift };
  }

  line(): string {
    return summaryLine(this.clock.now(), this.counts(), this.fleet());
  }

  /** The market, stores and vans registered; couriers on shift; the first orders placed. */
  async start(): Promise<void> {
    const { city } = this.#o;
    const couriers = Math.max(1, this.#o.couriers ?? 12);
    const vans = Math.min(couriers, this.#o.vans ?? defaultVans(couriers));
    await this.#o.admin.configureMarket({
      marketId: city.marketId,
      name: city.marketName,
      city: city.name,
    });
    // Stores in small groups: set-up is a few dozen actor turns, not worth a flood.
    const stores = [...this.places.stores];
    for (let i = 0; i < stores.length; i += 8) {
      await Promise.all(
        stores.slice(i, i + 8).map((s) =>
          this.#o.admin.registerStore({
            storeId: s.storeId,
            name: s.name,
            marketId: city.marketId,
            location: s.location,
            openHours: s.openHours,
          }),
        ),
      );
    }

    // The dispatcher's view of the market: the summary counts what the platform says.
    const startedAt = Date.now();
    this.#market = new LiveSocket({
      gateway: this.#ws(),
      token: await this.#o.tokens(
        { sub: `d-sim-${city.marketId}`, role: "dispatcher", mkt: city.marketId },
        24,
      ),
      channels: [`market:${city.marketId}`],
      onFrame: (_channel, frame) => {
        // The channel's last frame from before this run (a restart keeps the market) is history.
        if ((frame.kind === "order" || frame.kind === "alert") && frame.at < startedAt) return;
        this.#summary.apply(frame);
        if (frame.kind === "order") this.#onOrderFrame(frame);
        if (frame.kind === "alert") this.#o.onAlert?.(frame);
      },
      onProblem: (m) => this.#problem(`market channel: ${m}`),
    });
    await this.#market.open();
    if (this.#stopping) {
      this.#market.close();
      return;
    }

    const openNow = this.#openStores();
    const burst = Math.max(0, this.#o.burst ?? 6);
    const specs = placeCouriers(this.places, openNow, {
      couriers,
      vans,
      waiting: burst,
      seed: this.#seed,
    });

    for (const spec of specs.filter((s) => s.vehicleId !== null)) {
      await this.#o.admin.configureVehicle({
        vehicleId: spec.vehicleId!,
        marketId: city.marketId,
        driverId: spec.courierId,
        compartments: compartmentConfigs(STANDARD_COMPARTMENTS, 120),
      });
      if (this.#o.vanTransport) {
        const van = new SimVan(spec.vehicleId!, {
          seed: this.#seed,
          thermal: { outsideC: city.outsideC },
          transport: this.#o.vanTransport,
          onError: (err) => this.#problem(`van ${spec.vehicleId} logger: ${String(err)}`),
        });
        van.start(2000);
        this.#vans.set(spec.vehicleId!, van);
      }
    }

    await Promise.all(specs.map((spec) => this.#startCourier(spec)));
    if (this.#stopping) return;

    // The first orders: one at each store where a courier waits, to a door a short ride away.
    const waiting = specs.filter((s) => s.waitsAt !== null);
    for (const spec of waiting) {
      const planned = drawOrder(this.#draw, this.#orderContext([spec.waitsAt!]), {
        store: spec.waitsAt!,
        distanceM: this.#draw.uniform(80, 160),
        door: true,
        temperatureClass: "ambient",
      });
      if (planned) this.#spawn(this.#place(planned, true));
    }
    this.#lastArrivalAt = this.clock.now();
    this.#tick = setInterval(() => this.#onTick(), 1000);
    if (this.#o.onSummary) {
      this.#summaryTimer = setInterval(
        () => this.#o.onSummary?.(this.line(), this.counts(), this.fleet()),
        this.#o.summaryEveryMs ?? 5000,
      );
    }
  }

  /**
   * No new orders from now on; what is placed goes on to its end (a load run drains this way
   * before its invariants are checked at rest).
   */
  stopOrders(): void {
    this.#ordersStopped = true;
  }

  /**
   * Stops everything it started: no new orders, couriers off shift (their unstarted jobs go
   * back to the pool for the next run), sockets closed, loggers stopped, timers cleared.
   * `offShift: false` when the platform is already gone (nothing would answer).
   */
  async stop(options: { offShift?: boolean } = {}): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    if (this.#tick !== null) clearInterval(this.#tick);
    if (this.#summaryTimer !== null) clearInterval(this.#summaryTimer);
    this.#tick = null;
    this.#summaryTimer = null;
    this.#abort.abort();
    if (options.offShift ?? true) {
      const final = new GatewayHttp({ baseUrl: this.#o.gateway, attempts: 1, timeoutMs: 2000 });
      await Promise.allSettled(
        [...this.#couriers.values()]
          .filter(({ sim }) => sim.onShift)
          .map(async ({ spec }) =>
            final.post(
              "/v1/couriers/me/shift",
              await this.#courierToken(spec.courierId),
              { on: false },
              `off-${spec.courierId}-${this.#runId}`,
            ),
          ),
      );
    }
    for (const { sim } of this.#couriers.values()) sim.close();
    this.#market?.close();
    // A logger's last publish waits for its broker's answer: not for ever.
    await within(2000, Promise.allSettled([...this.#vans.values()].map((v) => v.stop())));
    await within(
      2000,
      Promise.allSettled([
        ...this.#tasks,
        ...[...this.#couriers.values()].map(({ sim }) => sim.closed()),
      ]),
    );
  }

  // ------------------------------------------------------------------------- couriers

  #ws(): string {
    return this.#o.gateway.replace(/^http/, "ws");
  }

  #courierToken(courierId: string): Promise<string> {
    return this.#o.tokens({ sub: courierId, role: "courier", mkt: this.marketId }, 24);
  }

  async #startCourier(spec: SimCourierSpec): Promise<void> {
    const token = await this.#courierToken(spec.courierId);
    const random = seededRandom((this.#seed ^ hash32(spec.courierId)) >>> 0);
    const sim = new SimCourier(spec.start, {
      gateway: this.#ws(),
      token,
      speed: spec.speed * WEATHER[this.#weather].speed,
      speedup: this.clock.speedup,
      random,
    });
    const shiftDraw = new Draw(hash32(`shift:${spec.courierId}`) ^ this.#seed);
    const shift: ShiftState = {
      nextChangeAt: this.clock.now() + shiftDraw.uniform(6, 10) * 3600_000,
      changing: false,
    };
    this.#couriers.set(spec.courierId, { spec, sim, shift });
    if (this.#stopping) {
      sim.close();
      return;
    }
    const route = this.#o.route;
    await sim.startWork(
      {
        http: this.#http,
        courierId: spec.courierId,
        vehicle: spec.vehicleId ? { mode: "van", vehicleId: spec.vehicleId } : { mode: "ebike" },
        capacity: spec.vehicleId
          ? { maxOrders: 8, slots: { ambient: 4, chilled: 4, frozen: 4 } }
          : { maxOrders: 3 },
        ...(route ? { route: (from: LatLng, to: LatLng) => route(from, to, spec.mode) } : {}),
        wanderTo: (from) => this.#wanderTarget(spec, from),
      },
      this.#desk(),
    );
  }

  /**
   * Stores taking orders now: open by the simulated clock (the demand's time of day) and by the
   * wall clock too, since the platform's store actor judges its hours on the wall clock.
   */
  #openStores(): SimStore[] {
    const wall = Date.now();
    return this.registry.openAt(this.clock.now()).filter((s) => isOpen(s, wall));
  }

  /** Idle e-bikes drift to one of the nearer open shops; vans go back to the warehouse. */
  #wanderTarget(spec: SimCourierSpec, from: LatLng): LatLng | null {
    const draw = this.#draw;
    if (spec.mode === "van") {
      const warehouse = this.places.stores.find((s) => s.kind === "cold_warehouse");
      if (!warehouse || flatMeters(from, warehouse.location) < 300) return null;
      return offsetMeters(warehouse.location, 30, draw.uniform(0, 2 * Math.PI));
    }
    const open = this.#openStores();
    const near = this.registry
      .nearest(from, open)
      .filter((s) => flatMeters(from, s.location) > 200)
      .slice(0, 5);
    if (near.length === 0) return null;
    const store = draw.pick(near);
    return offsetMeters(store.location, draw.uniform(20, 120), draw.uniform(0, 2 * Math.PI));
  }

  #desk(): CourierDesk {
    return {
      handOff: (request) => this.#handOff(request),
      pinFor: (orderId, pickupCode) =>
        this.#orders.get(orderId)?.pin ?? (pickupCode ? derivePin(this.#seed, pickupCode) : null),
      // The first orders' shoppers watch the courier come on the tracking page; others take a
      // moment to come down, and a pickup point's shelf takes a moment to find.
      shopperDelayMs: (orderId) => {
        const order = this.#orders.get(orderId);
        if (order?.burst) return this.#draw.uniform(3_000, 8_000);
        return order?.dropoffKind === "pickup_point"
          ? this.#draw.uniform(15_000, 40_000)
          : this.#draw.uniform(10_000, 30_000);
      },
      onEvent: (courierId, event) => this.#onCourierEvent(courierId, event),
    };
  }

  #onCourierEvent(courierId: string, event: CourierEvent): void {
    if (event.kind === "delivered") {
      const order = this.#orders.get(event.orderId) ?? null;
      if (event.vehicleId !== null && event.temperatureClass !== "ambient") {
        // The driver opens the compartment at the door for a few seconds.
        const compartment = VAN_COMPARTMENT[event.temperatureClass as "chilled" | "frozen"];
        this.#vans.get(event.vehicleId)?.openDoor(compartment, this.#draw.uniform(5_000, 10_000));
      }
      this.#o.onDelivered?.({
        orderId: event.orderId,
        courierId,
        temperatureClass: event.temperatureClass,
        vehicleId: event.vehicleId,
        order,
      });
      this.#orders.delete(event.orderId);
    } else if (event.kind === "problem") {
      this.#problem(`${courierId}: ${event.orderId ? `${event.orderId} ` : ""}${event.message}`);
    }
  }

  // ------------------------------------------------------------------------- stores

  #storeToken(storeId: string): Promise<string> {
    let token = this.#storeTokens.get(storeId);
    if (!token) {
      token = this.#o.tokens({ sub: storeId, role: "store" }, 24);
      this.#storeTokens.set(storeId, token);
    }
    return token;
  }

  /**
   * The store's staff at the counter: once the goods are ready, they type in the courier's code
   * (and, for cold goods going into a van, the compartment) and hand the order over.
   */
  async #handOff(request: HandOffRequest): Promise<HandOffResult> {
    if (this.#stopping) return "wait";
    const order = this.#orders.get(request.orderId);
    const storeId = order?.storeId ?? request.storeId;
    if (storeId === null) return "refused";
    if (order && (order.readyAt === null || order.readyAt > Date.now())) return "wait";
    try {
      // The staff take a moment to find the bag (the first orders wait packed at the counter).
      await this.clock.sleep(
        order?.burst ? this.#draw.uniform(2_000, 4_000) : this.#draw.uniform(3_000, 9_000),
        this.#abort.signal,
      );
      const cold = request.temperatureClass !== "ambient";
      const compartmentId =
        request.vehicleId !== null && cold
          ? VAN_COMPARTMENT[request.temperatureClass as "chilled" | "frozen"]
          : undefined;
      const res = await this.#http.post(
        `/v1/stores/${storeId}/orders/${request.orderId}/hand-off`,
        await this.#storeToken(storeId),
        {
          pickupCode: request.pickupCode,
          courierId: request.courierId,
          ...(compartmentId ? { compartmentId } : {}),
        },
        `hand-off-${request.orderId}-${Date.now().toString(36)}`,
      );
      if (res.status >= 200 && res.status < 300) return "handed_off";
      this.#problem(`hand-off of ${request.orderId} refused: ${res.code}`);
      // The van's compartment warm or not heard from: wait for it; the rest is final.
      return res.code === "compartment_out_of_range" ||
        res.code === "no_recent_reading" ||
        res.code === "not_accepted" ||
        res.status >= 500
        ? "wait"
        : "refused";
    } catch (err) {
      if (isAbort(err) || this.#stopping) return "wait";
      this.#problem(`hand-off of ${request.orderId}: ${String(err)}`);
      return "wait";
    }
  }

  /** A person's courier (`c-you` in the driver app) at one of our stores: the staff hand over too. */
  #onOrderFrame(frame: { orderId: string; status: string; courierId?: string | null }): void {
    if (frame.status === "cancelled") this.#orders.delete(frame.orderId);
    // A simulated courier's delivery is forgotten on its own answer (`#onCourierEvent`), which
    // may come after this frame; a person's here.
    if (frame.status === "delivered" && frame.courierId && !this.#couriers.has(frame.courierId)) {
      this.#orders.delete(frame.orderId);
      this.#humanHandOffs.delete(frame.orderId);
    }
    if (frame.status !== "at_store" || !frame.courierId) return;
    if (this.#couriers.has(frame.courierId) || this.#humanHandOffs.has(frame.orderId)) return;
    const order = this.#orders.get(frame.orderId);
    if (!order) return;
    this.#humanHandOffs.add(frame.orderId);
    const courierId = frame.courierId;
    this.#spawn(
      (async () => {
        for (let i = 0; i < 30 && !this.#stopping; i++) {
          const result = await this.#handOff({
            orderId: order.orderId,
            storeId: order.storeId,
            courierId,
            pickupCode: order.pickupCode,
            temperatureClass: order.temperatureClass,
            vehicleId: null,
          });
          if (result !== "wait") return;
          await this.clock.sleep(20_000, this.#abort.signal);
        }
      })(),
    );
  }

  // ------------------------------------------------------------------------- orders

  #orderContext(stores: readonly SimStore[]) {
    return {
      city: this.#o.city,
      stores,
      pickupPoints: this.places.pickupPoints,
      weather: this.#weather,
    };
  }

  #spawn(task: Promise<unknown>): void {
    const tracked = task.catch((err: unknown) => {
      if (!isAbort(err) && !this.#stopping) this.#problem(String(err));
    });
    this.#tasks.add(tracked);
    void tracked.finally(() => this.#tasks.delete(tracked));
  }

  #problem(message: string): void {
    if (!this.#stopping) this.#o.onProblem?.(message);
  }

  /** Each second: the orders the curve brings since the last, and shift changes. */
  #onTick(): void {
    if (this.#stopping) return;
    const now = this.clock.now();
    const couriers = this.#couriers.size;
    const times = arrivals(this.#draw, this.#lastArrivalAt, now, {
      dailyOrders: this.#o.dailyOrders ?? couriers * 40,
      weather: this.#weather,
      minPerMinute: this.#o.minOrdersPerMinute ?? 0,
    });
    this.#lastArrivalAt = now;
    if (times.length > 0 && !this.#ordersStopped) {
      const open = this.#openStores();
      for (const _at of times) {
        const planned = drawOrder(this.#draw, this.#orderContext(open));
        if (planned) this.#spawn(this.#place(planned, false));
      }
    }
    for (const entry of this.#couriers.values()) this.#shiftChange(entry, now);
  }

  #shiftChange(
    entry: { spec: SimCourierSpec; sim: SimCourier; shift: ShiftState },
    now: number,
  ): void {
    const { sim, shift } = entry;
    if (shift.changing || now < shift.nextChangeAt) return;
    const draw = new Draw(hash32(`${entry.spec.courierId}:${now}`));
    if (sim.onShift) {
      if (sim.busy) return; // finishes what is in hand first
      shift.changing = true;
      this.#spawn(
        sim.goOffShift().finally(() => {
          shift.nextChangeAt = now + draw.uniform(0.5, 1.5) * 3600_000;
          shift.changing = false;
        }),
      );
    } else {
      shift.changing = true;
      this.#spawn(
        sim.goOnShift().finally(() => {
          shift.nextChangeAt = now + draw.uniform(6, 10) * 3600_000;
          shift.changing = false;
        }),
      );
    }
  }

  /**
   * A shop's back end places the order at its store; the store's screen accepts it (a moment
   * later) with the time it will be ready, and marks it ready when it is. Wall-clock times for
   * the platform: a simulated duration is `clock.wallAfter`.
   */
  async #place(planned: PlannedOrder, burst: boolean): Promise<void> {
    const store = this.registry.get(planned.storeId)!;
    const seq = ++this.#seq;
    const shopOrderId = `wx-${this.#runId}-${seq}`;
    const pickupCode = pickupCodeFrom(this.#draw);
    const pin = derivePin(this.#seed, pickupCode);
    const promisedAt = Math.round(this.clock.wallAfter(planned.promiseMinutes * 60_000));
    const body: CreateOrderBody = {
      shopOrderId,
      shopperId: `u-${this.marketId}-${hash32(`${this.#runId}:${seq}`).toString(36)}`,
      temperatureClass: planned.temperatureClass,
      items: planned.items,
      amounts: planned.amounts,
      dropoff: planned.dropoff,
      promisedAt,
      pickupCode,
      deliveryPin: pin,
    };
    const token = await this.#storeToken(store.storeId);
    const created = await this.#http.post<CreatedOrder>(
      `/v1/stores/${store.storeId}/orders`,
      token,
      body,
    );
    if (created.status !== 201 && created.status !== 200) {
      this.#problem(`order at ${store.storeId} refused: ${created.code}`);
      return;
    }
    const order: PlacedOrder = {
      orderId: created.body.orderId,
      shopOrderId,
      storeId: store.storeId,
      storeName: store.name,
      temperatureClass: planned.temperatureClass,
      dropoffKind: planned.dropoff.kind,
      pickupCode,
      pin,
      placedAt: created.body.placedAt,
      promisedAt,
      readyAt: null,
      burst,
    };
    this.#orders.set(order.orderId, order);
    this.#ordersPlaced++;
    this.#o.onOrder?.(order);

    const path = `/v1/stores/${store.storeId}/orders/${order.orderId}`;
    // Staff see it on the screen; the first orders were already packed.
    await this.clock.sleep(
      burst ? 500 : 10_000 + this.#draw.uniform(0, 30_000),
      this.#abort.signal,
    );
    const prepMs = burst ? 0 : planned.prepMinutes * 60_000;
    const readyAt = Math.round(this.clock.wallAfter(prepMs)) + 1000;
    const accepted = await this.#http.post(
      path + "/accept",
      token,
      { readyAt },
      `accept-${order.orderId}`,
    );
    if (accepted.status >= 300) {
      this.#problem(`store ${store.storeId} could not accept ${order.orderId}: ${accepted.code}`);
      return;
    }
    order.readyAt = readyAt;
    await this.clock.sleep(prepMs, this.#abort.signal);
    const ready = await this.#http.post(path + "/ready", token, {}, `ready-${order.orderId}`);
    if (ready.status >= 300 && ready.code !== "invalid_transition") {
      this.#problem(`store ${store.storeId} could not mark ${order.orderId} ready: ${ready.code}`);
    }
  }

  /** Orders placed by this run. */
  get ordersPlaced(): number {
    return this.#ordersPlaced;
  }
}
