/**
 * The thermal budget of chilled and frozen goods: how long they may still spend on the way to
 * the door before they are no longer safe to hand over. Pure arithmetic, no clock: every moment
 * is an input.
 *
 * The model, in bag-minutes. Each class has a budget of time out of refrigeration in an
 * insulated bag (`BAG_SAFE_MS`). `spentMs` is how much of it is used, counted in bag time: a
 * minute in a bag uses one minute of budget. In a van's actively cooled compartment a minute
 * uses `rate` minutes:
 * - 0 while the compartment holds the class's range (the goods are refrigerated, nothing is used);
 * - 0 when the reading is out of range on the cold side only (at or below the class's upper
 *   limit, e.g. chilled goods at −1 °C: a quality matter, not a safety one);
 * - 1 + (reading − upper limit) ÷ `degreesPerBagRate` above the upper limit: a compartment that
 *   has lost its range is trusted no more than a bag, and less the warmer it gets (5 °C over
 *   the limit uses the budget twice as fast as a bag, 10 °C over three times);
 * - 1 (a bag) when the reading is unknown: a silent sensor proves nothing.
 * The goods sit in the store's refrigeration until the hand-off, so the budget starts at pickup.
 */
import type { TemperatureClass } from "../protocol/index.ts";

const MINUTE = 60_000;

/**
 * Time out of refrigeration a class may spend in an insulated bag (no active cooling), ms. An
 * operating assumption, not a measurement (override it through `BudgetOptions.bagSafeMs`):
 * chilled goods (0–4 °C) in an insulated bag with ice packs stay within a few degrees of their
 * range for about an hour on a warm day; frozen goods (≤ −18 °C) have a smaller margin, since
 * their surface starts to soften well before the core warms and softened goods must not be
 * refrozen, so half of that. Ambient goods have no limit.
 */
export const BAG_SAFE_MS: Readonly<Record<TemperatureClass, number>> = {
  chilled: 60 * MINUTE,
  frozen: 30 * MINUTE,
  ambient: Infinity,
};

/**
 * Warmest a class may be held at, °C (the top of the ranges the vehicle actor checks: chilled
 * 0–4, frozen at or below −18). Ambient has none.
 */
export const UPPER_LIMIT_C: Readonly<Record<TemperatureClass, number>> = {
  chilled: 4,
  frozen: -18,
  ambient: Infinity,
};

export interface BudgetOptions {
  /** Budget per class in a bag, ms. BAG_SAFE_MS (chilled 60 min, frozen 30 min, ambient ∞). */
  readonly bagSafeMs?: Partial<Readonly<Record<TemperatureClass, number>>>;
  /** Upper limit per class, °C. UPPER_LIMIT_C (chilled 4, frozen −18, ambient ∞). */
  readonly upperLimitC?: Partial<Readonly<Record<TemperatureClass, number>>>;
  /** Degrees above the upper limit that add one bag rate to a warm compartment. 5. */
  readonly degreesPerBagRate?: number;
}

export interface ResolvedBudgetOptions {
  readonly bagSafeMs: Readonly<Record<TemperatureClass, number>>;
  readonly upperLimitC: Readonly<Record<TemperatureClass, number>>;
  readonly degreesPerBagRate: number;
}

/** The options with every default filled in (the one place defaults live). */
export function budgetDefaults(options: BudgetOptions = {}): ResolvedBudgetOptions {
  return {
    bagSafeMs: { ...BAG_SAFE_MS, ...options.bagSafeMs },
    upperLimitC: { ...UPPER_LIMIT_C, ...options.upperLimitC },
    degreesPerBagRate: options.degreesPerBagRate ?? 5,
  };
}

const DEFAULTS = budgetDefaults();

function resolved(options: BudgetOptions | undefined): ResolvedBudgetOptions {
  return options === undefined ? DEFAULTS : budgetDefaults(options);
}

/** A van compartment's live state as its vehicle reports it. */
export interface CompartmentConditions {
  /** The last reading, °C; null when unknown (no reading yet, or the sensor went silent). */
  readonly compartmentCelsius: number | null;
  /** Whether the compartment holds its class's range now (the vehicle actor's verdict). */
  readonly inRange: boolean;
}

/** What the goods travel in: an insulated bag, or an actively cooled compartment. */
export type Carrier = "bag" | CompartmentConditions;

/** How much of an order's budget is used. */
export interface BudgetState {
  readonly class: TemperatureClass;
  /** Budget used so far, ms of bag time (≥ 0). */
  readonly spentMs: number;
}

/** Budget used per ms of elapsed time in these conditions (1 = a bag). */
export function consumptionRate(
  cls: TemperatureClass,
  carrier: Carrier,
  options?: BudgetOptions,
): number {
  if (carrier === "bag" || carrier.compartmentCelsius === null) return 1;
  if (carrier.inRange) return 0;
  const o = resolved(options);
  const excess = carrier.compartmentCelsius - o.upperLimitC[cls];
  return excess <= 0 ? 0 : 1 + excess / o.degreesPerBagRate;
}

/** Bag time left, ms: the class's budget less what is spent, never below 0; Infinity for ambient. */
export function remainingSafeMs(state: BudgetState, options?: BudgetOptions): number {
  if (state.spentMs < 0) throw new RangeError(`spentMs must be ≥ 0, not ${state.spentMs}`);
  return Math.max(0, resolved(options).bagSafeMs[state.class] - state.spentMs);
}

/** The budget after `intervalMs` in `conditions`. */
export function consume(
  state: BudgetState,
  intervalMs: number,
  conditions: Carrier,
  options?: BudgetOptions,
): BudgetState {
  if (intervalMs < 0) throw new RangeError(`intervalMs must be ≥ 0, not ${intervalMs}`);
  const rate = consumptionRate(state.class, conditions, options);
  return rate === 0 ? state : { ...state, spentMs: state.spentMs + intervalMs * rate };
}

/**
 * The latest moment (epoch ms) the goods must be at the door if the carrier's conditions stay
 * as they are now: `now` plus the budget left at the current rate. Infinity for ambient goods
 * and for goods in a compartment holding its range (re-ask when the conditions change); `now`
 * itself when the budget is used up.
 */
export function safeUntil(
  input: BudgetState & { readonly now: number; readonly carrier: Carrier },
  options?: BudgetOptions,
): number {
  const left = remainingSafeMs(input, options);
  if (left === Infinity) return Infinity;
  const rate = consumptionRate(input.class, input.carrier, options);
  if (rate === 0) return Infinity;
  return input.now + Math.floor(left / rate);
}
