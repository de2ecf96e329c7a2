/**
 * Demand: how many orders a city places each minute of the day, and what each order is.
 *
 * The day's curve (Asia/Shanghai) has three peaks — breakfast round 07:30 (milk, bread, fruit
 * for the day), lunch round 12:00 and dinner round 18:30 (the biggest: groceries for cooking) —
 * on a daytime plateau, with a trough in the small hours. It is a sum of gaussians normalised so
 * that the day integrates to one; `ordersPerMinute` scales it to the daily total. The weather
 * knob raises demand and lowers couriers' speed: rain brings ~30 % more orders and ~20 % slower
 * riding (and longer promises); heavy rain more of both.
 *
 * An order (`drawOrder`) comes from an open store drawn by its kind's pull, in a temperature
 * class by the store's mix, to a door a lognormal distance away (median 1.2 km, 0.25-4 km) or to
 * the community pickup point nearest that door, with the store's preparation time and a
 * promise. Everything random comes from the caller's seeded `Draw`.
 */
import type { LatLng, TemperatureClass } from "../../protocol/index.ts";
import {
  clampToExtent,
  Draw,
  flatMeters,
  localMinuteOfDay,
  offsetMeters,
  STORE_KINDS,
} from "./cities.ts";
import type { City, PickupPoint, SimStore } from "./cities.ts";

export type Weather = "clear" | "rain" | "heavy_rain";
export const WEATHERS: readonly Weather[] = ["clear", "rain", "heavy_rain"];

export interface WeatherEffect {
  /** 晴 */
  readonly label: string;
  /** Multiplies the orders per minute. */
  readonly demand: number;
  /** Multiplies the couriers' speed. */
  readonly speed: number;
  /** Minutes added to every promise. */
  readonly promiseExtraMinutes: number;
}

export const WEATHER: Readonly<Record<Weather, WeatherEffect>> = {
  clear: { label: "晴", demand: 1, speed: 1, promiseExtraMinutes: 0 },
  rain: { label: "雨", demand: 1.3, speed: 0.8, promiseExtraMinutes: 10 },
  heavy_rain: { label: "暴雨", demand: 1.5, speed: 0.65, promiseExtraMinutes: 20 },
};

export class UnknownWeatherError extends Error {
  override readonly name = "UnknownWeatherError";
}

export function weatherByName(name: string): Weather {
  const key = name.trim().toLowerCase().replace(/[- ]/g, "_");
  const aliases: Record<string, Weather> = {
    clear: "clear",
    sunny: "clear",
    晴: "clear",
    rain: "rain",
    rainy: "rain",
    雨: "rain",
    heavy_rain: "heavy_rain",
    storm: "heavy_rain",
    暴雨: "heavy_rain",
  };
  const weather = aliases[key];
  if (weather === undefined) {
    throw new UnknownWeatherError(`no weather "${name}"; one of ${WEATHERS.join(", ")}`);
  }
  return weather;
}

/** A peak of the day: centre and spread in minutes after local midnight, share of the day. */
export interface Peak {
  readonly name: "breakfast" | "lunch" | "dinner";
  readonly minute: number;
  readonly sigmaMinutes: number;
  readonly share: number;
}

export const PEAKS: readonly Peak[] = [
  { name: "breakfast", minute: 7 * 60 + 30, sigmaMinutes: 40, share: 0.12 },
  { name: "lunch", minute: 12 * 60, sigmaMinutes: 55, share: 0.28 },
  { name: "dinner", minute: 18 * 60 + 30, sigmaMinutes: 65, share: 0.38 },
];
/** Shares of the rest: a daytime plateau 09:00-21:30 and an even floor through the night. */
const PLATEAU_SHARE = 0.18;
const FLOOR_SHARE = 0.04;
const PLATEAU = { from: 9 * 60, to: 21 * 60 + 30, edgeMinutes: 30 };

const DAY_MINUTES = 1440;

function gaussian(x: number, mu: number, sigma: number): number {
  // On a circle of 24 h, so a peak near midnight would wrap (none does; cheap to be right).
  const d = Math.min(Math.abs(x - mu), DAY_MINUTES - Math.abs(x - mu));
  return Math.exp(-(d * d) / (2 * sigma * sigma)) / (sigma * Math.sqrt(2 * Math.PI));
}

const logistic = (x: number) => 1 / (1 + Math.exp(-x));

function rawShape(minute: number): number {
  let y = FLOOR_SHARE / DAY_MINUTES;
  for (const p of PEAKS) y += p.share * gaussian(minute, p.minute, p.sigmaMinutes);
  const width = PLATEAU.to - PLATEAU.from;
  const k = 4 / PLATEAU.edgeMinutes;
  y +=
    (PLATEAU_SHARE / width) *
    logistic(k * (minute - PLATEAU.from)) *
    logistic(k * (PLATEAU.to - minute));
  return y;
}

/** Share of the day's orders in each minute (index = minute after local midnight); sums to 1. */
export const DAY_SHAPE: readonly number[] = (() => {
  // Each minute's share is the curve at its middle; normalised so the day is exactly one.
  const raw = Array.from({ length: DAY_MINUTES }, (_, m) => rawShape(m + 0.5));
  const total = raw.reduce((s, y) => s + y, 0);
  return raw.map((y) => y / total);
})();

export interface DemandOptions {
  /** Orders on a dry day. */
  readonly dailyOrders: number;
  readonly weather?: Weather;
  /**
   * Never fewer than this many orders a minute (a demo that must show work at 3 a.m.);
   * default 0. Added to the night, so the day's total grows a little.
   */
  readonly minPerMinute?: number;
}

/** Expected orders per minute at `minuteOfDay` (0-1439.99, local time). */
export function ordersPerMinute(minuteOfDay: number, o: DemandOptions): number {
  const m = ((Math.floor(minuteOfDay) % DAY_MINUTES) + DAY_MINUTES) % DAY_MINUTES;
  const rate = o.dailyOrders * WEATHER[o.weather ?? "clear"].demand * DAY_SHAPE[m]!;
  return Math.max(rate, o.minPerMinute ?? 0);
}

/** Expected orders between two instants (epoch ms), integrating the curve minute by minute. */
export function expectedOrders(from: number, to: number, o: DemandOptions): number {
  let total = 0;
  let t = from;
  while (t < to) {
    const minuteEnd = (Math.floor(t / 60_000) + 1) * 60_000;
    const end = Math.min(to, minuteEnd);
    total += ordersPerMinute(localMinuteOfDay(t), o) * ((end - t) / 60_000);
    t = end;
  }
  return total;
}

/** Arrival times of orders between two instants: a Poisson process following the curve. */
export function arrivals(draw: Draw, from: number, to: number, o: DemandOptions): number[] {
  const count = draw.poisson(expectedOrders(from, to, o));
  const times: number[] = [];
  // Given the count, arrivals are spread by the rate; within a short step the rate is flat.
  for (let i = 0; i < count; i++) times.push(Math.round(draw.uniform(from, to)));
  return times.sort((a, b) => a - b);
}

// ------------------------------------------------------------------------------ orders

/** Goods a shop sells, by temperature class: name, unit and price in fen. */
export const CATALOGUE: Readonly<
  Record<TemperatureClass, readonly { name: string; fen: number }[]>
> = {
  ambient: [
    { name: "砂糖橘 1kg", fen: 1280 },
    { name: "香蕉 1把", fen: 890 },
    { name: "红富士苹果 4个", fen: 1590 },
    { name: "鸡蛋 10枚", fen: 1290 },
    { name: "西红柿 500g", fen: 590 },
    { name: "土豆 1kg", fen: 490 },
    { name: "鲜花饼 6枚", fen: 2400 },
    { name: "东北大米 5kg", fen: 3990 },
  ],
  chilled: [
    { name: "鲜牛奶 950ml", fen: 1580 },
    { name: "草莓 500g", fen: 2990 },
    { name: "原味酸奶 4杯", fen: 1290 },
    { name: "鲜切水果盒", fen: 1990 },
    { name: "嫩豆腐 1盒", fen: 350 },
    { name: "冷鲜猪肉 500g", fen: 1890 },
    { name: "野生菌 300g", fen: 5800 },
  ],
  frozen: [
    { name: "速冻水饺 1kg", fen: 2390 },
    { name: "冰淇淋 2盒", fen: 2580 },
    { name: "冻虾仁 300g", fen: 3990 },
    { name: "汤圆 500g", fen: 1290 },
  ],
};

export type PlannedDropoff =
  | { readonly kind: "door"; readonly location: LatLng }
  | { readonly kind: "pickup_point"; readonly pickupPointId: string; readonly location: LatLng };

/** An order as the simulated shop decides it, before it has wall-clock times. */
export interface PlannedOrder {
  readonly storeId: string;
  readonly temperatureClass: TemperatureClass;
  readonly dropoff: PlannedDropoff;
  readonly items: { readonly summary: string; readonly count: number };
  readonly amounts: {
    readonly goodsFen: number;
    readonly deliveryFeeFen: number;
    readonly discountFen: number;
    readonly totalFen: number;
  };
  /** Minutes the store takes to prepare it. */
  readonly prepMinutes: number;
  /** Minutes from click to the promised delivery. */
  readonly promiseMinutes: number;
}

export interface OrderContext {
  readonly city: City;
  /** The stores open now (the caller's registry decides). */
  readonly stores: readonly SimStore[];
  readonly pickupPoints: readonly PickupPoint[];
  readonly weather?: Weather;
}

/** Median and bounds of the shopper's distance from the store (metres). */
export const DOOR_DISTANCE = { medianM: 1200, sigma: 0.6, minM: 250, maxM: 4000 } as const;

function basket(draw: Draw, cls: TemperatureClass): PlannedOrder["items"] & { goodsFen: number } {
  // The order's class is its coldest item's: a chilled order may hold ambient goods too.
  const lines = new Map<string, { count: number; fen: number }>();
  const add = (item: { name: string; fen: number }) => {
    const line = lines.get(item.name) ?? { count: 0, fen: item.fen };
    line.count++;
    lines.set(item.name, line);
  };
  add(draw.pick(CATALOGUE[cls]));
  const more = draw.int(0, 3);
  for (let i = 0; i < more; i++) {
    const pool = cls === "ambient" || draw.chance(0.5) ? CATALOGUE.ambient : CATALOGUE[cls];
    add(draw.pick(pool));
  }
  let count = 0;
  let goodsFen = 0;
  const parts: string[] = [];
  for (const [name, line] of lines) {
    count += line.count;
    goodsFen += line.count * line.fen;
    parts.push(`${line.count} × ${name}`);
  }
  return { summary: parts.join(", "), count, goodsFen };
}

/** A door at `distanceM` from the store in a random direction, inside the city. */
export function doorNear(draw: Draw, city: City, from: LatLng, distanceM: number): LatLng {
  return clampToExtent(offsetMeters(from, distanceM, draw.uniform(0, 2 * Math.PI)), city.extent);
}

function lognormalDistance(draw: Draw): number {
  const d = DOOR_DISTANCE.medianM * Math.exp(DOOR_DISTANCE.sigma * draw.normal());
  return Math.min(DOOR_DISTANCE.maxM, Math.max(DOOR_DISTANCE.minM, d));
}

/**
 * One order: a store by pull, its class by the store's mix, a door or the pickup point nearest
 * the door, a basket, amounts (free delivery from 59 元, 5 元 off from 99 元), preparation and
 * promise. `store`, `distanceM`, `door` and `temperatureClass` fix those (the demo's first
 * orders: ambient, to a door a short ride from the courier waiting at the store).
 * Null when no store is open.
 */
export function drawOrder(
  draw: Draw,
  ctx: OrderContext,
  fixed: {
    readonly store?: SimStore;
    readonly distanceM?: number;
    readonly door?: true;
    readonly temperatureClass?: TemperatureClass;
  } = {},
): PlannedOrder | null {
  if (ctx.stores.length === 0 && fixed.store === undefined) return null;
  const store = fixed.store ?? draw.weighted(ctx.stores, (s) => STORE_KINDS[s.kind].demandWeight);
  const spec = STORE_KINDS[store.kind];
  const cls =
    fixed.temperatureClass ??
    draw.weighted(["ambient", "chilled", "frozen"] as const, (c) => spec.classMix[c]);
  const door = doorNear(draw, ctx.city, store.location, fixed.distanceM ?? lognormalDistance(draw));
  let dropoff: PlannedDropoff = { kind: "door", location: door };
  let promiseMinutes = spec.promiseMinutes;
  if (
    fixed.door === undefined &&
    ctx.pickupPoints.length > 0 &&
    draw.chance(spec.pickupPointShare)
  ) {
    const point = [...ctx.pickupPoints].sort(
      (a, b) => flatMeters(door, a.location) - flatMeters(door, b.location),
    )[0]!;
    dropoff = {
      kind: "pickup_point",
      pickupPointId: point.pickupPointId,
      location: point.location,
    };
    promiseMinutes += 30;
  }
  promiseMinutes += WEATHER[ctx.weather ?? "clear"].promiseExtraMinutes;
  const items = basket(draw, cls);
  const deliveryFeeFen = items.goodsFen >= 5900 ? 0 : draw.pick([300, 400, 500]);
  const discountFen = items.goodsFen >= 9900 ? 500 : 0;
  const [lo, hi] = spec.prepMinutes;
  return {
    storeId: store.storeId,
    temperatureClass: cls,
    dropoff,
    items: { summary: items.summary, count: items.count },
    amounts: {
      goodsFen: items.goodsFen,
      deliveryFeeFen,
      discountFen,
      totalFen: items.goodsFen + deliveryFeeFen - discountFen,
    },
    prepMinutes: Math.round(draw.uniform(lo, hi) * 10) / 10,
    promiseMinutes,
  };
}
