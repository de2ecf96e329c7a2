/**
 * The persisted form of a store (version 1): the state with its Maps as arrays, in insertion
 * order. It is validated on restore because the KV bucket is a boundary.
 */
import { z } from "zod";
import { LatLng, TemperatureClass } from "../../protocol/ids.ts";
import { ReadyAtSource } from "../../protocol/actors/order.ts";
import { OpenHours, StoreProblemKind } from "../../protocol/actors/store.ts";
import type { PersistedStore, Store, StoreState } from "./types.ts";

const Time = z.number();

const PersistedActiveStore = z.object({
  id: z.string(),
  status: z.literal("active"),
  profile: z.object({
    name: z.string(),
    marketId: z.string(),
    location: LatLng,
    openHours: OpenHours,
  }),
  pause: z
    .object({ reason: z.string().nullable(), by: z.string(), at: Time, until: Time.nullable() })
    .nullable(),
  incoming: z.array(
    z.object({
      orderId: z.string(),
      shopOrderId: z.string(),
      placedAt: Time,
      promisedAt: Time,
      temperatureClass: TemperatureClass,
      itemsSummary: z.string(),
      pickupCode: z.string(),
    }),
  ),
  pending: z.array(
    z.object({
      orderId: z.string(),
      shopOrderId: z.string(),
      acceptedAt: Time,
      promisedAt: Time,
      temperatureClass: TemperatureClass,
      itemsSummary: z.string(),
      readyAt: Time,
      readyAtSource: z.union([ReadyAtSource, z.literal("actual")]),
      preparingAt: Time.nullable(),
      readyMarkedAt: Time.nullable(),
      courierId: z.string().nullable(),
      pickupCode: z.string(),
    }),
  ),
  problems: z.array(
    z.object({
      orderId: z.string(),
      list: z.array(
        z.object({
          kind: StoreProblemKind,
          note: z.string().nullable(),
          delayMinutes: z.number().nullable(),
          at: Time,
          by: z.string(),
        }),
      ),
    }),
  ),
  prep: z.object({ meanMinutes: z.number(), spreadMinutes: z.number(), samples: z.number() }),
});

const PersistedState = z.union([
  z.object({ id: z.string(), status: z.literal("none") }),
  PersistedActiveStore,
]);

export function toPersisted(store: Store): PersistedStore {
  return {
    id: store.id,
    status: store.status,
    profile: store.profile,
    pause: store.pause,
    incoming: [...store.incoming.values()],
    pending: [...store.pending.values()],
    problems: [...store.problems].map(([orderId, list]) => ({ orderId, list })),
    prep: store.prep,
  };
}

/**
 * A field missing from the schema would be stripped silently by zod; the round-trip tests
 * (persist → JSON → restore equals the original) catch that.
 */
export function parsePersistedStore(data: unknown, version: number): StoreState {
  if (version !== 1) throw new Error(`store state version ${version} is not supported`);
  const parsed = PersistedState.parse(data);
  if (parsed.status === "none") return parsed;
  return {
    ...parsed,
    incoming: new Map(parsed.incoming.map((o) => [o.orderId, o])),
    pending: new Map(parsed.pending.map((o) => [o.orderId, o])),
    problems: new Map(parsed.problems.map((p) => [p.orderId, p.list])),
  };
}
