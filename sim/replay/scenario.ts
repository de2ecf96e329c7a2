/**
 * Reading a scenario from the texts of its four files (pure; `io.ts` reads the files).
 *
 * scenario.json is checked by a zod schema (unknown keys are errors: a misspelt rule must not
 * be silently off). The CSVs need their documented columns; optional ones:
 * - couriers.csv: `mode` (geo's modes), `capacity`, and `ambient_slots,chilled_slots,
 *   frozen_slots` (all three: a van's compartments; empty: one insulated box);
 * - orders.csv: `temperature_class` (ambient, chilled, frozen; default ambient).
 * Every error is a `ScenarioError` naming the file and line.
 */
import { z } from "zod";
import { MODES, isValidLatLng } from "../../geo/index.ts";
import type { LatLng, Mode } from "../../geo/index.ts";
import { TEMPERATURE_CLASSES } from "../../dispatch/index.ts";
import type { TemperatureClass } from "../../dispatch/index.ts";
import { parseCsv } from "./csv.ts";
import type { CsvRow } from "./csv.ts";
import { ScenarioError } from "./errors.ts";
import { parseIsoTime } from "./time.ts";
import type {
  Scenario,
  ScenarioConfig,
  ScenarioCourier,
  ScenarioOrder,
  ScenarioStore,
} from "./types.ts";

export const SCENARIO_FILES = {
  config: "scenario.json",
  stores: "stores.csv",
  couriers: "couriers.csv",
  orders: "orders.csv",
} as const;

export interface ScenarioTexts {
  readonly config: string;
  readonly stores: string;
  readonly couriers: string;
  readonly orders: string;
}

const Minutes = z.number().finite().nonnegative();

export const ScenarioJson = z.strictObject({
  /** What the scenario is, for people. */
  description: z.string().optional(),
  start: z.string(),
  travel: z.strictObject({
    model: z.literal("straight"),
    metersPerMinute: z.number().finite().positive(),
    roundUpToMinute: z.boolean().default(false),
  }),
  service: z.strictObject({ pickupMinutes: Minutes, dropoffMinutes: Minutes }),
  targetClickToDoorMinutes: z.number().finite().positive(),
  maxClickToDoorMinutes: z.number().finite().positive(),
  readyTimesKnown: z.boolean(),
  rules: z
    .strictObject({
      sameStoreBundlesOnly: z.boolean().default(false),
      noDiversion: z.boolean().default(false),
    })
    .default({ sameStoreBundlesOnly: false, noDiversion: false }),
  courierCapacity: z.number().int().positive().default(3),
  courierMode: z.enum(MODES as [Mode, ...Mode[]]).default("ebike"),
});

export function parseScenarioConfig(text: string): ScenarioConfig {
  const file = SCENARIO_FILES.config;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ScenarioError(file, null, `not JSON (${(cause as Error).message})`, { cause });
  }
  const parsed = ScenarioJson.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((i) => `${i.path.length === 0 ? "(top)" : i.path.join(".")}: ${i.message}`)
      .join("; ");
    throw new ScenarioError(file, null, issues, { cause: parsed.error });
  }
  const c = parsed.data;
  const start = parseIsoTime(c.start);
  if (start === null) {
    throw new ScenarioError(file, null, `start: "${c.start}" is not ISO-8601 with an offset`);
  }
  if (c.maxClickToDoorMinutes < c.targetClickToDoorMinutes) {
    throw new ScenarioError(file, null, "maxClickToDoorMinutes is below targetClickToDoorMinutes");
  }
  return {
    start: start.ms,
    utcOffsetMinutes: start.offsetMinutes,
    travel: c.travel,
    service: c.service,
    targetClickToDoorMinutes: c.targetClickToDoorMinutes,
    maxClickToDoorMinutes: c.maxClickToDoorMinutes,
    readyTimesKnown: c.readyTimesKnown,
    rules: c.rules,
    courierCapacity: c.courierCapacity,
    courierMode: c.courierMode,
  };
}

/** Field readers that name the file, line and column in their errors. */
function reader(file: string, row: CsvRow) {
  const fail = (message: string): never => {
    throw new ScenarioError(file, row.line, message);
  };
  const text = (column: string): string => {
    const v = row.fields[column] ?? "";
    if (v === "") fail(`${column} is empty`);
    return v;
  };
  const optional = (column: string): string | null => {
    const v = row.fields[column];
    return v === undefined || v === "" ? null : v;
  };
  const number = (column: string): number => {
    const v = text(column);
    const n = Number(v);
    if (!Number.isFinite(n)) fail(`${column} "${v}" is not a number`);
    return n;
  };
  const count = (column: string, value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) fail(`${column} "${value}" is not a whole number ≥ 0`);
    return n;
  };
  const point = (): LatLng => {
    const lat = number("lat");
    const lng = number("lng");
    if (!isValidLatLng(lat, lng)) fail(`(${lat}, ${lng}) is not a WGS-84 coordinate`);
    return { lat, lng };
  };
  const time = (column: string): number => {
    const v = text(column);
    const t = parseIsoTime(v);
    if (t === null) return fail(`${column} "${v}" is not an ISO-8601 time with an offset`);
    return t.ms;
  };
  return { fail, text, optional, number, count, point, time };
}

function uniqueId(file: string, row: CsvRow, id: string, seen: Map<string, number>): void {
  const before = seen.get(id);
  if (before !== undefined) {
    throw new ScenarioError(file, row.line, `id "${id}" already used on line ${before}`);
  }
  seen.set(id, row.line);
}

export function parseStores(text: string): ScenarioStore[] {
  const file = SCENARIO_FILES.stores;
  const seen = new Map<string, number>();
  return parseCsv(text, file, ["id", "lat", "lng"]).rows.map((row) => {
    const r = reader(file, row);
    const id = r.text("id");
    uniqueId(file, row, id, seen);
    return { id, at: r.point() };
  });
}

export function parseCouriers(text: string, config: ScenarioConfig): ScenarioCourier[] {
  const file = SCENARIO_FILES.couriers;
  const seen = new Map<string, number>();
  return parseCsv(text, file, ["id", "lat", "lng", "on_at", "off_at"]).rows.map((row) => {
    const r = reader(file, row);
    const id = r.text("id");
    uniqueId(file, row, id, seen);
    const start = r.point();
    const onAt = r.time("on_at");
    const offAt = r.time("off_at");
    if (offAt <= onAt) r.fail("off_at is not after on_at");
    const modeText = r.optional("mode");
    if (modeText !== null && !(MODES as readonly string[]).includes(modeText)) {
      r.fail(`mode "${modeText}" is not one of ${MODES.join(", ")}`);
    }
    const capacityText = r.optional("capacity");
    const capacity =
      capacityText === null ? config.courierCapacity : r.count("capacity", capacityText);
    if (capacity < 1) r.fail("capacity must be at least 1");
    const slotTexts = TEMPERATURE_CLASSES.map((c) => r.optional(`${c}_slots`));
    let slots: Record<TemperatureClass, number> | null = null;
    if (slotTexts.some((s) => s !== null)) {
      if (slotTexts.some((s) => s === null)) {
        r.fail("ambient_slots, chilled_slots and frozen_slots go together (all or none)");
      }
      slots = { ambient: 0, chilled: 0, frozen: 0 };
      TEMPERATURE_CLASSES.forEach((c, i) => (slots![c] = r.count(`${c}_slots`, slotTexts[i]!)));
    }
    return {
      id,
      start,
      onAt,
      offAt,
      mode: (modeText ?? config.courierMode) as Mode,
      capacity,
      slots,
    };
  });
}

export function parseOrders(text: string, storeIds: ReadonlySet<string>): ScenarioOrder[] {
  const file = SCENARIO_FILES.orders;
  const seen = new Map<string, number>();
  const required = ["id", "store_id", "lat", "lng", "placed_at", "ready_at"];
  return parseCsv(text, file, required).rows.map((row) => {
    const r = reader(file, row);
    const id = r.text("id");
    uniqueId(file, row, id, seen);
    const storeId = r.text("store_id");
    if (!storeIds.has(storeId)) r.fail(`store_id "${storeId}" is not in stores.csv`);
    const dropoff = r.point();
    const placedAt = r.time("placed_at");
    const readyAt = r.time("ready_at");
    if (readyAt < placedAt) r.fail("ready_at is before placed_at");
    const cls = r.optional("temperature_class") ?? "ambient";
    if (!(TEMPERATURE_CLASSES as readonly string[]).includes(cls)) {
      r.fail(`temperature_class "${cls}" is not one of ${TEMPERATURE_CLASSES.join(", ")}`);
    }
    return {
      id,
      storeId,
      dropoff,
      placedAt,
      readyAt,
      temperatureClass: cls as TemperatureClass,
    };
  });
}

/** The whole scenario from its four texts. */
export function parseScenario(texts: ScenarioTexts): Scenario {
  const config = parseScenarioConfig(texts.config);
  const stores = parseStores(texts.stores);
  const couriers = parseCouriers(texts.couriers, config);
  const orders = parseOrders(texts.orders, new Set(stores.map((s) => s.id)));
  return { config, stores, couriers, orders };
}
