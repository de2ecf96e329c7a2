/**
 * The simulated cities: five real ones (昆明 Kunming by default; 昭通 Zhaotong, 文山 Wenshan,
 * 长沙 Changsha, 南京 Nanjing), each with the extent of its urban core, its named districts and
 * their trading areas (商圈), and the places the simulation puts in it: stores (fruit shops,
 * supermarkets, 24-hour convenience stores, one cold warehouse) and community pickup points
 * (社区自提点), placed deterministically from a seed.
 *
 * Coordinates are WGS-84 (what the platform keeps inside), read off public maps and rounded:
 * good to a few hundred metres, which is all a simulation needs. The extent is the bounding box
 * of the built-up core, not of the administrative area (Kunming's 呈贡 new town, 30 km south,
 * is left out, as are the counties round Zhaotong and Wenshan).
 */
import { seededRandom } from "../../geo/random.ts";
import type { LatLng, TemperatureClass } from "../../protocol/index.ts";

export type CityId = "kunming" | "zhaotong" | "wenshan" | "changsha" | "nanjing";

export const CITY_IDS: readonly CityId[] = [
  "kunming",
  "zhaotong",
  "wenshan",
  "changsha",
  "nanjing",
];

export interface Extent {
  readonly south: number;
  readonly north: number;
  readonly west: number;
  readonly east: number;
}

/** A trading area: where stores cluster and shoppers live round. */
export interface Area {
  readonly name: string;
  readonly lat: number;
  readonly lng: number;
  /** How much trade it draws, relative to the city's other areas. */
  readonly weight: number;
}

export interface District {
  /** 五华区 */
  readonly name: string;
  /** Wuhua */
  readonly nameEn: string;
  readonly areas: readonly Area[];
}

export interface City {
  readonly id: CityId;
  /** 昆明 */
  readonly name: string;
  /** Kunming */
  readonly nameEn: string;
  readonly province: string;
  /** The city's one market (dispatch area) in the platform. */
  readonly marketId: string;
  /** The market's name on the console. */
  readonly marketName: string;
  /** The centre of the urban core (the main square or shopping street). */
  readonly centre: LatLng;
  readonly extent: Extent;
  readonly districts: readonly District[];
  /** How many stores and pickup points the city gets by default (a regional city fewer). */
  readonly size: { readonly stores: number; readonly pickupPoints: number };
  /** The outside air, °C, for the vans' thermal model (a mild spring afternoon). */
  readonly outsideC: number;
}

const area = (name: string, lat: number, lng: number, weight = 1): Area => ({
  name,
  lat,
  lng,
  weight,
});

export const CITIES: Readonly<Record<CityId, City>> = {
  kunming: {
    id: "kunming",
    name: "昆明",
    nameEn: "Kunming",
    province: "云南",
    marketId: "km",
    marketName: "昆明主城",
    centre: { lat: 25.0406, lng: 102.7123 },
    extent: { south: 24.97, north: 25.1, west: 102.62, east: 102.78 },
    districts: [
      {
        name: "五华区",
        nameEn: "Wuhua",
        areas: [
          area("南屏街", 25.0395, 102.7117, 5),
          area("顺城", 25.0352, 102.7035, 4),
          area("翠湖", 25.0482, 102.7051, 3),
          area("文林街", 25.054, 102.699, 3),
          area("莲花池", 25.065, 102.707, 2),
          area("黄土坡", 25.06, 102.658, 2),
          area("人民西路", 25.042, 102.681, 2),
        ],
      },
      {
        name: "盘龙区",
        nameEn: "Panlong",
        areas: [
          area("北辰", 25.076, 102.735, 3),
          area("拓东路", 25.0365, 102.7225, 3),
          area("东华", 25.058, 102.73, 2),
        ],
      },
      {
        name: "官渡区",
        nameEn: "Guandu",
        areas: [
          area("昆明站", 25.0175, 102.7225, 3),
          area("螺蛳湾", 25.0085, 102.744, 3),
          area("关上", 25.025, 102.755, 2),
          area("金马", 25.045, 102.77, 1),
        ],
      },
      {
        name: "西山区",
        nameEn: "Xishan",
        areas: [
          area("西山万达", 25.0305, 102.6695, 3),
          area("大观楼", 25.027, 102.686, 2),
          area("滇池路", 25.005, 102.695, 2),
        ],
      },
    ],
    size: { stores: 24, pickupPoints: 16 },
    outsideC: 22,
  },
  zhaotong: {
    id: "zhaotong",
    name: "昭通",
    nameEn: "Zhaotong",
    province: "云南",
    marketId: "zt",
    marketName: "昭通昭阳",
    centre: { lat: 27.3382, lng: 103.7166 },
    extent: { south: 27.3, north: 27.375, west: 103.68, east: 103.76 },
    districts: [
      {
        name: "昭阳区",
        nameEn: "Zhaoyang",
        areas: [
          area("凤凰街道", 27.3375, 103.7165, 4),
          area("龙泉街道", 27.329, 103.7335, 3),
          area("太平街道", 27.352, 103.7075, 3),
          area("昭通古城", 27.3405, 103.7125, 2),
          area("北部新区", 27.3625, 103.7245, 2),
        ],
      },
    ],
    size: { stores: 12, pickupPoints: 8 },
    outsideC: 16,
  },
  wenshan: {
    id: "wenshan",
    name: "文山",
    nameEn: "Wenshan",
    province: "云南",
    marketId: "ws",
    marketName: "文山城区",
    centre: { lat: 23.3695, lng: 104.2445 },
    extent: { south: 23.34, north: 23.4, west: 104.21, east: 104.28 },
    districts: [
      {
        name: "文山市",
        nameEn: "Wenshan",
        areas: [
          area("开化街道", 23.3695, 104.2445, 4),
          area("卧龙街道", 23.3835, 104.2325, 3),
          area("新平街道", 23.357, 104.2575, 3),
          area("盘龙河畔", 23.3645, 104.2345, 2),
        ],
      },
    ],
    size: { stores: 10, pickupPoints: 6 },
    outsideC: 24,
  },
  changsha: {
    id: "changsha",
    name: "长沙",
    nameEn: "Changsha",
    province: "湖南",
    marketId: "cs",
    marketName: "长沙主城",
    centre: { lat: 28.1966, lng: 112.977 },
    extent: { south: 28.1, north: 28.3, west: 112.86, east: 113.08 },
    districts: [
      {
        name: "芙蓉区",
        nameEn: "Furong",
        areas: [
          area("五一广场", 28.1966, 112.977, 5),
          area("长沙站", 28.195, 113.013, 3),
          area("马王堆", 28.203, 113.035, 2),
        ],
      },
      {
        name: "天心区",
        nameEn: "Tianxin",
        areas: [
          area("坡子街", 28.192, 112.972, 4),
          area("南门口", 28.183, 112.977, 3),
          area("天心阁", 28.188, 112.985, 2),
        ],
      },
      {
        name: "岳麓区",
        nameEn: "Yuelu",
        areas: [
          area("溁湾镇", 28.193, 112.945, 3),
          area("大学城", 28.18, 112.935, 3),
          area("梅溪湖", 28.2, 112.885, 2),
        ],
      },
      {
        name: "开福区",
        nameEn: "Kaifu",
        areas: [
          area("湘江世纪城", 28.226, 112.985, 2),
          area("月湖", 28.24, 113.005, 2),
          area("四方坪", 28.25, 113.015, 2),
        ],
      },
      {
        name: "雨花区",
        nameEn: "Yuhua",
        areas: [
          area("侯家塘", 28.175, 113.0, 3),
          area("东塘", 28.17, 113.005, 3),
          area("高桥", 28.18, 113.04, 2),
        ],
      },
    ],
    size: { stores: 30, pickupPoints: 20 },
    outsideC: 24,
  },
  nanjing: {
    id: "nanjing",
    name: "南京",
    nameEn: "Nanjing",
    province: "江苏",
    marketId: "nj",
    marketName: "南京主城",
    centre: { lat: 32.0415, lng: 118.7785 },
    extent: { south: 31.96, north: 32.12, west: 118.7, east: 118.88 },
    districts: [
      {
        name: "玄武区",
        nameEn: "Xuanwu",
        areas: [
          area("新街口", 32.0415, 118.7785, 5),
          area("珠江路", 32.052, 118.785, 3),
          area("玄武湖", 32.07, 118.79, 2),
        ],
      },
      {
        name: "秦淮区",
        nameEn: "Qinhuai",
        areas: [
          area("夫子庙", 32.021, 118.784, 4),
          area("大行宫", 32.043, 118.793, 3),
          area("中华门", 32.01, 118.774, 2),
        ],
      },
      {
        name: "鼓楼区",
        nameEn: "Gulou",
        areas: [
          area("鼓楼", 32.059, 118.772, 4),
          area("湖南路", 32.068, 118.774, 3),
          area("龙江", 32.062, 118.74, 2),
        ],
      },
      {
        name: "建邺区",
        nameEn: "Jianye",
        areas: [area("奥体", 32.009, 118.728, 3), area("南湖", 32.022, 118.753, 2)],
      },
      {
        name: "雨花台区",
        nameEn: "Yuhuatai",
        areas: [area("软件大道", 31.99, 118.772, 2)],
      },
    ],
    size: { stores: 30, pickupPoints: 20 },
    outsideC: 20,
  },
};

export class UnknownCityError extends Error {
  override readonly name = "UnknownCityError";
}

/** A city by id, English or Chinese name, any case ("Kunming", "kunming", "昆明"). */
export function cityByName(name: string): City {
  const key = name.trim().toLowerCase();
  for (const city of Object.values(CITIES)) {
    if (city.id === key || city.nameEn.toLowerCase() === key || city.name === name.trim()) {
      return city;
    }
  }
  throw new UnknownCityError(
    `no simulated city "${name}"; one of ${CITY_IDS.map((id) => `${CITIES[id].nameEn} (${CITIES[id].name})`).join(", ")}`,
  );
}

export function inExtent(p: LatLng, e: Extent): boolean {
  return p.lat >= e.south && p.lat <= e.north && p.lng >= e.west && p.lng <= e.east;
}

export function clampToExtent(p: LatLng, e: Extent): LatLng {
  return {
    lat: Math.min(e.north, Math.max(e.south, p.lat)),
    lng: Math.min(e.east, Math.max(e.west, p.lng)),
  };
}

const M_PER_DEG = 111_195;

/** The point `meters` from `p` towards `bearing` (radians from north): flat Earth, a city. */
export function offsetMeters(p: LatLng, meters: number, bearing: number): LatLng {
  return {
    lat: p.lat + (meters * Math.cos(bearing)) / M_PER_DEG,
    lng: p.lng + (meters * Math.sin(bearing)) / (M_PER_DEG * Math.cos((p.lat * Math.PI) / 180)),
  };
}

// ------------------------------------------------------------------------------ places

export type StoreKind = "fruit" | "supermarket" | "convenience" | "cold_warehouse";

/** One opening interval, local time (Asia/Shanghai) `HH:MM`; `24:00` only as a closing time. */
export interface OpenInterval {
  readonly open: string;
  readonly close: string;
}
/** ISO weekday ("1" Monday … "7" Sunday) → intervals, as the store actor takes them. */
export type OpenHours = Readonly<Record<"1" | "2" | "3" | "4" | "5" | "6" | "7", OpenInterval[]>>;

export interface StoreKindSpec {
  readonly kind: StoreKind;
  /** Shop names; the area is added (`鲜果铺（南屏街店）`). Made up, not real brands. */
  readonly brands: readonly string[];
  readonly hours: OpenInterval;
  /** Share of the city's stores of this kind (the cold warehouse: always exactly one). */
  readonly share: number;
  /** Orders it draws relative to a fruit shop. */
  readonly demandWeight: number;
  /** Preparation minutes, low and high. */
  readonly prepMinutes: readonly [number, number];
  /** Share of ambient, chilled and frozen orders. */
  readonly classMix: Readonly<Record<TemperatureClass, number>>;
  /** Share of orders collected at a community pickup point instead of the door. */
  readonly pickupPointShare: number;
  /** Minutes promised from click to door (to a pickup point: 30 more). */
  readonly promiseMinutes: number;
}

export const STORE_KINDS: Readonly<Record<StoreKind, StoreKindSpec>> = {
  fruit: {
    kind: "fruit",
    brands: ["鲜果铺", "果缤纷", "四季果园"],
    hours: { open: "08:30", close: "22:30" },
    share: 0.42,
    demandWeight: 2,
    prepMinutes: [3, 8],
    classMix: { ambient: 0.85, chilled: 0.15, frozen: 0 },
    pickupPointShare: 0.05,
    promiseMinutes: 30,
  },
  supermarket: {
    kind: "supermarket",
    brands: ["惠邻生鲜超市", "家家福超市", "邻里鲜超市"],
    hours: { open: "07:00", close: "22:00" },
    share: 0.33,
    demandWeight: 3,
    prepMinutes: [6, 15],
    classMix: { ambient: 0.6, chilled: 0.3, frozen: 0.1 },
    pickupPointShare: 0.2,
    promiseMinutes: 45,
  },
  convenience: {
    kind: "convenience",
    brands: ["邻家便利"],
    hours: { open: "00:00", close: "24:00" },
    share: 0.25,
    demandWeight: 1.5,
    prepMinutes: [2, 5],
    classMix: { ambient: 0.8, chilled: 0.15, frozen: 0.05 },
    pickupPointShare: 0,
    promiseMinutes: 30,
  },
  cold_warehouse: {
    kind: "cold_warehouse",
    brands: ["鲜达冷链前置仓"],
    // Runs round the clock: the vans load there at night for the morning.
    hours: { open: "00:00", close: "24:00" },
    share: 0,
    demandWeight: 4,
    prepMinutes: [8, 20],
    classMix: { ambient: 0.3, chilled: 0.45, frozen: 0.25 },
    pickupPointShare: 0.4,
    promiseMinutes: 60,
  },
};

export interface SimStore {
  /** `s-km-01` */
  readonly storeId: string;
  readonly kind: StoreKind;
  /** `鲜果铺（南屏街店）` */
  readonly name: string;
  readonly district: string;
  readonly area: string;
  readonly location: LatLng;
  readonly openHours: OpenHours;
}

export interface PickupPoint {
  /** `pp-km-01` */
  readonly pickupPointId: string;
  /** `翠湖社区自提点` */
  readonly name: string;
  readonly district: string;
  readonly location: LatLng;
}

export interface CityPlaces {
  readonly city: City;
  readonly stores: readonly SimStore[];
  readonly pickupPoints: readonly PickupPoint[];
}

export interface PlacementOptions {
  /** Default 1. The same seed places the same stores in the same places. */
  readonly seed?: number;
  /** Default: the city's `size.stores`. */
  readonly stores?: number;
  /** Default: the city's `size.pickupPoints`. */
  readonly pickupPoints?: number;
}

const DAYS = ["1", "2", "3", "4", "5", "6", "7"] as const;

function everyDay(hours: OpenInterval): OpenHours {
  return Object.fromEntries(DAYS.map((d) => [d, [hours]])) as unknown as OpenHours;
}

/** Draws from a seeded PRNG: uniform, gaussian, weighted choice. */
export class Draw {
  readonly #next: () => number;
  constructor(seed: number) {
    this.#next = seededRandom(seed >>> 0);
  }
  /** [0, 1) */
  next(): number {
    return this.#next();
  }
  uniform(a = 0, b = 1): number {
    return a + (b - a) * this.#next();
  }
  int(a: number, b: number): number {
    return Math.floor(this.uniform(a, b + 1));
  }
  chance(p: number): boolean {
    return this.#next() < p;
  }
  normal(): number {
    const u = Math.max(this.#next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.#next());
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.min(items.length - 1, Math.floor(this.#next() * items.length))]!;
  }
  weighted<T>(items: readonly T[], weight: (item: T) => number): T {
    const total = items.reduce((s, x) => s + weight(x), 0);
    let r = this.uniform(0, total);
    for (const x of items) {
      r -= weight(x);
      if (r < 0) return x;
    }
    return items[items.length - 1]!;
  }
  /** Poisson-distributed count with mean `mean` (Knuth below 30, normal above). */
  poisson(mean: number): number {
    if (mean <= 0) return 0;
    if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.normal()));
    const limit = Math.exp(-mean);
    let k = 0;
    let p = this.#next();
    while (p > limit) {
      k++;
      p *= this.#next();
    }
    return k;
  }
}

const allAreas = (city: City) =>
  city.districts.flatMap((d) => d.areas.map((a) => ({ district: d.name, area: a })));

/** A point near an area's centre (gaussian, σ `sigmaM`), kept inside the city's extent. */
function near(draw: Draw, a: Area, sigmaM: number, extent: Extent): LatLng {
  const r = Math.abs(draw.normal()) * sigmaM;
  return clampToExtent(offsetMeters(a, r, draw.uniform(0, 2 * Math.PI)), extent);
}

const pad2 = (n: number) => String(n).padStart(2, "0");

/**
 * Places a city's stores and community pickup points: one cold warehouse near the busiest area,
 * the other stores by kind share, each near a trading area drawn by weight (σ 350 m), at most
 * one store of a brand per area; pickup points spread over the areas (σ 600 m). Deterministic
 * for a seed.
 */
export function placeCity(city: City, options: PlacementOptions = {}): CityPlaces {
  const draw = new Draw(((options.seed ?? 1) * 0x9e3779b1) ^ hashString(city.id));
  const storeCount = Math.max(1, options.stores ?? city.size.stores);
  const areas = allAreas(city);
  const busiest = [...areas].sort((a, b) => b.area.weight - a.area.weight)[0]!;
  const stores: SimStore[] = [];
  const usedNames = new Set<string>();
  const add = (kind: StoreKind, at: (typeof areas)[number]) => {
    const spec = STORE_KINDS[kind];
    let name = "";
    for (const brand of spec.brands) {
      name = `${brand}（${at.area.name}店）`;
      if (!usedNames.has(name)) break;
    }
    // Every brand already in this area: number the branch.
    for (let n = 2; usedNames.has(name); n++) {
      name = `${spec.brands[0]}（${at.area.name}${n}号店）`;
    }
    usedNames.add(name);
    stores.push({
      storeId: `s-${city.marketId}-${pad2(stores.length + 1)}`,
      kind,
      name,
      district: at.district,
      area: at.area.name,
      location:
        kind === "cold_warehouse"
          ? near(draw, at.area, 900, city.extent)
          : near(draw, at.area, 350, city.extent),
      openHours: everyDay(spec.hours),
    });
  };
  add("cold_warehouse", busiest);
  const kinds: StoreKind[] = ["fruit", "supermarket", "convenience"];
  for (let i = 1; i < storeCount; i++) {
    // Round-robin by share, so even a small city has each kind.
    const kind = kinds.reduce((best, k) => {
      const have = (x: StoreKind) => stores.filter((s) => s.kind === x).length;
      const deficit = (x: StoreKind) => STORE_KINDS[x].share * i - have(x);
      return deficit(k) > deficit(best) ? k : best;
    }, kinds[0]!);
    add(
      kind,
      draw.weighted(areas, (a) => a.area.weight),
    );
  }
  const pointCount = Math.max(0, options.pickupPoints ?? city.size.pickupPoints);
  const pickupPoints: PickupPoint[] = [];
  for (let i = 0; i < pointCount; i++) {
    // The first ones one per area (each community has one), then by weight.
    const at = i < areas.length ? areas[i]! : draw.weighted(areas, (a) => a.area.weight);
    pickupPoints.push({
      pickupPointId: `pp-${city.marketId}-${pad2(i + 1)}`,
      name: `${at.area.name}社区自提点${i < areas.length ? "" : ` ${Math.floor(i / areas.length) + 1}号`}`,
      district: at.district,
      location: near(draw, at.area, 600, city.extent),
    });
  }
  return { city, stores, pickupPoints };
}

function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

// ------------------------------------------------------------------------------ open hours

/** Asia/Shanghai has no daylight saving: local time is UTC+8 all year. */
export const SHANGHAI_OFFSET_MS = 8 * 3600_000;

/** Minutes since local midnight (Asia/Shanghai) at `at` (epoch ms). */
export function localMinuteOfDay(at: number): number {
  return Math.floor(((at + SHANGHAI_OFFSET_MS) % 86_400_000) / 60_000);
}

/** ISO weekday in Asia/Shanghai, "1" Monday … "7" Sunday. */
function localWeekday(at: number): "1" | "2" | "3" | "4" | "5" | "6" | "7" {
  const d = new Date(at + SHANGHAI_OFFSET_MS).getUTCDay();
  return String(d === 0 ? 7 : d) as "1" | "2" | "3" | "4" | "5" | "6" | "7";
}

const minutes = (hhmm: string) => {
  const [h, m] = hhmm.split(":").map(Number);
  return h! * 60 + m!;
};

/** Whether the store is open at `at` (its hours, Asia/Shanghai; a close ≤ open runs past midnight). */
export function isOpen(store: Pick<SimStore, "openHours">, at: number): boolean {
  const m = localMinuteOfDay(at);
  const today = store.openHours[localWeekday(at)] ?? [];
  for (const i of today) {
    const open = minutes(i.open);
    const close = minutes(i.close);
    if (close > open ? m >= open && m < close : m >= open) return true;
  }
  const yesterday = store.openHours[localWeekday(at - 86_400_000)] ?? [];
  return yesterday.some((i) => minutes(i.close) <= minutes(i.open) && m < minutes(i.close));
}

/** The store registry: the city's stores by id, which are open, which are nearest. */
export class StoreRegistry {
  readonly #byId: Map<string, SimStore>;

  constructor(readonly stores: readonly SimStore[]) {
    this.#byId = new Map(stores.map((s) => [s.storeId, s]));
  }

  get(storeId: string): SimStore | null {
    return this.#byId.get(storeId) ?? null;
  }

  openAt(at: number): SimStore[] {
    return this.stores.filter((s) => isOpen(s, at));
  }

  /** Stores by straight-line distance from `p`, nearest first. */
  nearest(p: LatLng, among: readonly SimStore[] = this.stores): SimStore[] {
    return [...among].sort((a, b) => flatMeters(p, a.location) - flatMeters(p, b.location));
  }
}

/** Metres between two points of one city (equirectangular: exact enough within 50 km). */
export function flatMeters(a: LatLng, b: LatLng): number {
  const x = (b.lng - a.lng) * Math.cos((((a.lat + b.lat) / 2) * Math.PI) / 180);
  const y = b.lat - a.lat;
  return Math.sqrt(x * x + y * y) * M_PER_DEG;
}
