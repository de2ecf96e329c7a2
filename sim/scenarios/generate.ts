/**
 * Writes the replay scenarios of this folder: `node --import tsx sim/scenarios/generate.ts
 * [name…]` (all when none is named). Deterministic: each scenario has its own seed, so running
 * it again rewrites the committed CSVs byte for byte.
 *
 * The city is Kunming (WGS-84, inside lat 24.97–25.10, lng 102.62–102.78): stores cluster
 * around real commercial centres (Nanping/Dongfeng Square, Shuncheng, Green Lake, Xishan Wanda,
 * the railway station, Beichen, Luosiwan…), shoppers live a lognormal 0.5–5 km from their store,
 * orders arrive by an hourly profile (lunch peak 11:00–13:00, dinner 17:00–20:00, Asia/Shanghai),
 * and each store has its own preparation time with noise.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { seededRandom } from "../../geo/index.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
const MINUTE = 60_000;
const EXTENT = { south: 24.97, north: 25.1, west: 102.62, east: 102.78 };

/** Commercial centres of Kunming's main districts and how much trade each draws. */
const CENTRES: readonly { name: string; lat: number; lng: number; weight: number }[] = [
  { name: "nanping", lat: 25.0395, lng: 102.7117, weight: 5 },
  { name: "shuncheng", lat: 25.0352, lng: 102.7035, weight: 4 },
  { name: "cuihu", lat: 25.0482, lng: 102.7051, weight: 3 },
  { name: "wenlin", lat: 25.054, lng: 102.699, weight: 3 },
  { name: "station", lat: 25.0175, lng: 102.7225, weight: 3 },
  { name: "xishan-wanda", lat: 25.0305, lng: 102.6695, weight: 3 },
  { name: "daguan", lat: 25.027, lng: 102.686, weight: 2 },
  { name: "beichen", lat: 25.076, lng: 102.735, weight: 3 },
  { name: "lianhua", lat: 25.065, lng: 102.707, weight: 2 },
  { name: "luosiwan", lat: 25.0085, lng: 102.744, weight: 3 },
  { name: "guandu", lat: 25.025, lng: 102.755, weight: 2 },
  { name: "dianchi-road", lat: 25.005, lng: 102.695, weight: 2 },
  { name: "huangtuopo", lat: 25.06, lng: 102.658, weight: 2 },
  { name: "jinma", lat: 25.045, lng: 102.77, weight: 1 },
  { name: "renmin-west", lat: 25.042, lng: 102.681, weight: 2 },
];

class Draw {
  readonly #next: () => number;
  constructor(seed: number) {
    this.#next = seededRandom(seed);
  }
  uniform(a = 0, b = 1): number {
    return a + (b - a) * this.#next();
  }
  normal(): number {
    const u = Math.max(this.#next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.#next());
  }
  weighted<T extends { weight: number }>(items: readonly T[]): T {
    const total = items.reduce((s, x) => s + x.weight, 0);
    let r = this.uniform(0, total);
    for (const x of items) {
      r -= x.weight;
      if (r < 0) return x;
    }
    return items[items.length - 1]!;
  }
}

interface Point {
  lat: number;
  lng: number;
}

const M_PER_DEG = 111_195;
/** The point `meters` from `p` towards `bearing` (flat Earth: a city), clamped to the extent. */
function offset(p: Point, meters: number, bearing: number): Point {
  const lat = p.lat + (meters * Math.cos(bearing)) / M_PER_DEG;
  const lng =
    p.lng + (meters * Math.sin(bearing)) / (M_PER_DEG * Math.cos((p.lat * Math.PI) / 180));
  return {
    lat: Math.min(EXTENT.north, Math.max(EXTENT.south, lat)),
    lng: Math.min(EXTENT.east, Math.max(EXTENT.west, lng)),
  };
}

const fixed = (x: number) => x.toFixed(6);
const pad = (n: number) => String(n).padStart(2, "0");
/** ISO-8601 in Asia/Shanghai (+08:00), whole seconds. */
function iso(ms: number): string {
  const d = new Date(Math.round(ms / 1000) * 1000 + 8 * 60 * MINUTE);
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}+08:00`
  );
}

const DAY = Date.parse("2026-03-10T00:00:00+08:00");
const at = (hhmm: string) => {
  const [h, m] = hhmm.split(":").map(Number);
  return DAY + (h! * 60 + m!) * MINUTE;
};

type TemperatureClass = "ambient" | "chilled" | "frozen";

interface FleetGroup {
  readonly count: number;
  readonly on: string;
  readonly off: string;
  readonly mode?: string;
  readonly capacity?: number;
  /** ambient, chilled, frozen compartment slots. */
  readonly slots?: readonly [number, number, number];
}

interface Spec {
  readonly name: string;
  readonly seed: number;
  readonly config: Record<string, unknown>;
  readonly stores: number;
  /** Preparation minutes: each store's mean is drawn in this range. */
  readonly prepMinutes: readonly [number, number];
  readonly orders: number;
  /** Relative order rate per hour of the day ("HH" → weight). */
  readonly hourly: Readonly<Record<string, number>>;
  /** Median shopper distance from the store, metres. */
  readonly medianMeters: number;
  readonly fleet: readonly FleetGroup[];
  /** Share of chilled and frozen orders (the rest ambient). */
  readonly chilled?: number;
  readonly frozen?: number;
}

const base = {
  travel: { model: "straight", metersPerMinute: 320, roundUpToMinute: true },
  service: { pickupMinutes: 4, dropoffMinutes: 4 },
  targetClickToDoorMinutes: 40,
  maxClickToDoorMinutes: 90,
  readyTimesKnown: true,
  rules: { sameStoreBundlesOnly: false, noDiversion: false },
};

const SPECS: readonly Spec[] = [
  {
    name: "kunming-lunch",
    seed: 11,
    config: {
      description:
        "Kunming lunch peak: 10:00-14:00 with the rush 11:00-13:00, e-bikes, ready times stated by the stores.",
      start: "2026-03-10T10:00:00+08:00",
      ...base,
    },
    stores: 70,
    prepMinutes: [8, 18],
    orders: 1_000,
    hourly: { "10": 1.5, "11": 5, "12": 5, "13": 1.5 },
    medianMeters: 1_600,
    fleet: [
      { count: 60, on: "10:00", off: "14:30" },
      { count: 80, on: "10:45", off: "13:45" },
    ],
  },
  {
    name: "kunming-rainy-evening",
    seed: 23,
    config: {
      description:
        "A rainy Kunming evening 17:00-22:00: slower travel (230 m/min), longer stops, 30 % more orders than a dry evening, fewer couriers out; ready times predicted from each store's history; no diversion on the way to a store.",
      start: "2026-03-10T17:00:00+08:00",
      ...base,
      travel: { model: "straight", metersPerMinute: 230, roundUpToMinute: true },
      service: { pickupMinutes: 5, dropoffMinutes: 5 },
      readyTimesKnown: false,
      rules: { sameStoreBundlesOnly: false, noDiversion: true },
    },
    stores: 70,
    prepMinutes: [10, 22],
    orders: 1_300,
    hourly: { "17": 2, "18": 4.5, "19": 4, "20": 2, "21": 1 },
    medianMeters: 1_500,
    fleet: [
      { count: 70, on: "17:00", off: "22:30" },
      { count: 70, on: "17:45", off: "20:45" },
    ],
  },
  {
    name: "kunming-van-chilled",
    seed: 37,
    config: {
      description:
        "Fresh grocery from 12 Kunming supermarkets 08:00-20:00: vans with ambient, chilled and frozen compartments carry chilled and frozen orders (e-bikes have an ambient box only); a van loads at one store per trip; 60 min promise.",
      start: "2026-03-10T08:00:00+08:00",
      ...base,
      travel: { model: "straight", metersPerMinute: 300, roundUpToMinute: true },
      service: { pickupMinutes: 6, dropoffMinutes: 5 },
      targetClickToDoorMinutes: 60,
      maxClickToDoorMinutes: 120,
      rules: { sameStoreBundlesOnly: true, noDiversion: false },
    },
    stores: 12,
    prepMinutes: [12, 25],
    orders: 420,
    hourly: {
      "08": 1,
      "09": 2,
      "10": 3,
      "11": 3,
      "12": 2,
      "13": 1.5,
      "14": 1.5,
      "15": 2,
      "16": 3,
      "17": 4,
      "18": 3.5,
      "19": 2,
    },
    medianMeters: 2_500,
    fleet: [
      { count: 8, on: "08:00", off: "14:30", mode: "van", capacity: 12, slots: [8, 6, 4] },
      { count: 9, on: "13:30", off: "21:00", mode: "van", capacity: 12, slots: [8, 6, 4] },
      { count: 10, on: "09:00", off: "15:00", slots: [3, 0, 0] },
      { count: 10, on: "15:00", off: "21:00", slots: [3, 0, 0] },
    ],
    chilled: 0.35,
    frozen: 0.1,
  },
  {
    name: "kunming-day",
    seed: 53,
    config: {
      description:
        "A whole Kunming day, 3,000 orders 07:00-23:00 (lunch and dinner peaks), e-bikes on five shift patterns, ready times predicted from each store's history: the replay's 15 s benchmark.",
      start: "2026-03-10T07:00:00+08:00",
      ...base,
      readyTimesKnown: false,
    },
    stores: 90,
    prepMinutes: [8, 20],
    orders: 3_000,
    hourly: {
      "07": 0.5,
      "08": 1,
      "09": 1,
      "10": 2,
      "11": 7,
      "12": 8,
      "13": 4,
      "14": 2,
      "15": 1.5,
      "16": 2,
      "17": 5,
      "18": 7,
      "19": 5,
      "20": 3,
      "21": 2,
      "22": 1,
    },
    medianMeters: 1_600,
    fleet: [
      { count: 50, on: "07:00", off: "15:00" },
      { count: 100, on: "10:30", off: "14:30" },
      { count: 50, on: "14:00", off: "22:00" },
      { count: 90, on: "16:30", off: "20:30" },
      { count: 30, on: "19:00", off: "23:30" },
    ],
  },
];

function generate(spec: Spec): Record<string, string> {
  const draw = new Draw(spec.seed);
  const stores = Array.from({ length: spec.stores }, (_, i) => {
    const centre = draw.weighted(CENTRES);
    const place = offset(centre, Math.abs(draw.normal()) * 700, draw.uniform(0, 2 * Math.PI));
    const prep = draw.uniform(spec.prepMinutes[0], spec.prepMinutes[1]);
    // Busier centres have busier stores.
    return { id: `s${String(i + 1).padStart(3, "0")}`, ...place, prep, weight: centre.weight };
  });

  const hours = Object.entries(spec.hourly).sort(([a], [b]) => a.localeCompare(b));
  const total = hours.reduce((s, [, w]) => s + w, 0);
  const placed: number[] = [];
  let carried = 0;
  for (const [hh, w] of hours) {
    // Largest-remainder rounding so the hours add up to exactly `spec.orders`.
    const exact = (spec.orders * w) / total + carried;
    const n = Math.round(exact);
    carried = exact - n;
    const from = at(`${hh}:00`);
    for (let k = 0; k < n; k++)
      placed.push(from + Math.floor(draw.uniform(0, 60 * MINUTE) / 1000) * 1000);
  }
  placed.sort((a, b) => a - b);

  const orderLines = [
    `id,store_id,lat,lng,placed_at,ready_at${spec.chilled === undefined ? "" : ",temperature_class"}`,
  ];
  placed.forEach((t, i) => {
    const store = draw.weighted(stores);
    const meters = Math.min(
      5_000,
      Math.max(300, spec.medianMeters * Math.exp(0.5 * draw.normal())),
    );
    const home = offset(store, meters, draw.uniform(0, 2 * Math.PI));
    const prep = Math.max(3, store.prep * Math.exp(0.25 * draw.normal()));
    const ready = t + Math.round((prep * MINUTE) / 1000) * 1000;
    let cls: TemperatureClass = "ambient";
    if (spec.chilled !== undefined) {
      const u = draw.uniform();
      cls =
        u < spec.chilled ? "chilled" : u < spec.chilled + (spec.frozen ?? 0) ? "frozen" : "ambient";
    }
    const fields = [
      `o${String(i + 1).padStart(5, "0")}`,
      store.id,
      fixed(home.lat),
      fixed(home.lng),
      iso(t),
      iso(ready),
    ];
    if (spec.chilled !== undefined) fields.push(cls);
    orderLines.push(fields.join(","));
  });

  const withCompartments = spec.fleet.some((g) => g.slots !== undefined);
  const withMode = spec.fleet.some((g) => g.mode !== undefined || g.capacity !== undefined);
  const courierLines = [
    "id,lat,lng,on_at,off_at" +
      (withMode ? ",mode,capacity" : "") +
      (withCompartments ? ",ambient_slots,chilled_slots,frozen_slots" : ""),
  ];
  let n = 0;
  for (const g of spec.fleet) {
    for (let k = 0; k < g.count; k++) {
      n++;
      // Couriers wait near the stores that keep them busy.
      const near = draw.weighted(stores);
      const start = offset(near, draw.uniform(0, 800), draw.uniform(0, 2 * Math.PI));
      const fields = [
        `c${String(n).padStart(4, "0")}`,
        fixed(start.lat),
        fixed(start.lng),
        iso(at(g.on)),
        iso(at(g.off)),
      ];
      if (withMode)
        fields.push(g.mode ?? "ebike", g.capacity === undefined ? "" : String(g.capacity));
      if (withCompartments) fields.push(...(g.slots ?? ["", "", ""]).map(String));
      courierLines.push(fields.join(","));
    }
  }

  return {
    "scenario.json": JSON.stringify(spec.config, null, 2) + "\n",
    "stores.csv":
      ["id,lat,lng", ...stores.map((s) => `${s.id},${fixed(s.lat)},${fixed(s.lng)}`)].join("\n") +
      "\n",
    "couriers.csv": courierLines.join("\n") + "\n",
    "orders.csv": orderLines.join("\n") + "\n",
  };
}

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !SPECS.some((s) => s.name === w));
if (unknown.length > 0) {
  console.error(
    `unknown scenario ${unknown.join(", ")}; known: ${SPECS.map((s) => s.name).join(", ")}`,
  );
  process.exit(2);
}
for (const spec of SPECS) {
  if (wanted.length > 0 && !wanted.includes(spec.name)) continue;
  const dir = join(HERE, spec.name);
  await mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(generate(spec))) await writeFile(join(dir, name), text);
  console.log(`${spec.name}: ${spec.orders} orders, ${spec.stores} stores → ${dir}`);
}
