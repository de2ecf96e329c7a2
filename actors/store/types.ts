import type { LatLng, TemperatureClass } from "../../protocol/ids.ts";
import type { ReadyAtSource } from "../../protocol/actors/order.ts";
import type { OpenHours, StoreProblemKind } from "../../protocol/actors/store.ts";

export interface StoreProfile {
  readonly name: string;
  readonly marketId: string;
  readonly location: LatLng;
  /** Local Asia/Shanghai hours (fixed +08:00: China has no daylight saving time). */
  readonly openHours: OpenHours;
}

/** Learned preparation time: exponentially weighted mean and mean absolute deviation, minutes. */
export interface PrepStats {
  readonly meanMinutes: number;
  readonly spreadMinutes: number;
  /** How many ready reports were learned from (the first ones weigh more, see `learnPrep`). */
  readonly samples: number;
}

/** An order placed at the store and not yet accepted or rejected by its staff. */
export interface IncomingOrder {
  readonly orderId: string;
  readonly shopOrderId: string;
  readonly placedAt: number;
  readonly promisedAt: number;
  readonly temperatureClass: TemperatureClass;
  readonly itemsSummary: string;
  /** Secret: hidden by `view`. */
  readonly pickupCode: string;
}

/** An accepted order the store still has to hand to a courier. */
export interface PendingHandOff {
  readonly orderId: string;
  readonly shopOrderId: string;
  readonly acceptedAt: number;
  readonly promisedAt: number;
  readonly temperatureClass: TemperatureClass;
  readonly itemsSummary: string;
  readonly readyAt: number;
  readonly readyAtSource: ReadyAtSource | "actual";
  readonly preparingAt: number | null;
  /** When staff marked it ready; null while it is still being prepared. */
  readonly readyMarkedAt: number | null;
  /** The courier that will collect it, as the order last told us. */
  readonly courierId: string | null;
  /** Secret: hidden by `view`. */
  readonly pickupCode: string;
}

export interface StoreProblem {
  readonly kind: StoreProblemKind;
  readonly note: string | null;
  readonly delayMinutes: number | null;
  readonly at: number;
  readonly by: string;
}

export interface StorePause {
  readonly reason: string | null;
  readonly by: string;
  readonly at: number;
  /** When the store resumes by itself (its "resume" timer), or null until someone resumes it. */
  readonly until: number | null;
}

export interface Store {
  readonly id: string;
  readonly status: "active";
  readonly profile: StoreProfile;
  readonly pause: StorePause | null;
  // Maps, not objects: order ids may be any token, `__proto__` included.
  readonly incoming: ReadonlyMap<string, IncomingOrder>;
  readonly pending: ReadonlyMap<string, PendingHandOff>;
  /** Problems reported per order, while the order is at the store; at most `PROBLEMS_PER_ORDER`. */
  readonly problems: ReadonlyMap<string, readonly StoreProblem[]>;
  readonly prep: PrepStats;
}

/** A store actor that has not been registered yet. */
export interface NoStore {
  readonly id: string;
  readonly status: "none";
}

export type StoreState = NoStore | Store;

/** The persisted (and JSON-safe) form, version 1: the Maps become arrays. */
export interface PersistedStore {
  readonly id: string;
  readonly status: "active";
  readonly profile: StoreProfile;
  readonly pause: StorePause | null;
  readonly incoming: readonly IncomingOrder[];
  readonly pending: readonly PendingHandOff[];
  readonly problems: readonly {
    readonly orderId: string;
    readonly list: readonly StoreProblem[];
  }[];
  readonly prep: PrepStats;
}

/** What a query shows: the persisted form without pickup codes. */
export type StoreView =
  | NoStore
  | (Omit<PersistedStore, "incoming" | "pending"> & {
      readonly incoming: readonly Omit<IncomingOrder, "pickupCode">[];
      readonly pending: readonly Omit<PendingHandOff, "pickupCode">[];
    });
