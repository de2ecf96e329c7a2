/**
 * The live wire contract: websocket frames between the apps and the gateway, and the push
 * frames the tracker publishes on `push.<kind>.<id>` (stream PUSH). Coordinates inside are
 * WGS-84; a client that says `coord=gcj02` (WeChat, Chinese map tiles) sends and receives GCJ-02,
 * converted at the gateway.
 */
import { z } from "zod";
import { ActorId } from "./ids.ts";

export const CoordSystem = z.enum(["wgs84", "gcj02"]);
export type CoordSystem = z.infer<typeof CoordSystem>;

/** One GPS fix as a phone reports it. */
export const Fix = z.object({
  lat: z.number().finite().min(-90).max(90),
  lng: z.number().finite().min(-180).max(180),
  /** Horizontal accuracy, metres. */
  accuracy: z.number().finite().nonnegative().max(10_000).optional(),
  /** When the fix was taken, ms since the epoch (device clock). */
  at: z.number().int().positive(),
  /** m/s and degrees, when the device knows them. */
  speed: z.number().finite().nonnegative().max(100).optional(),
  heading: z.number().finite().min(0).max(360).optional(),
});
export type Fix = z.infer<typeof Fix>;

// --- channels ---------------------------------------------------------------------------

/** What a live connection can watch: `order:<id>`, `market:<id>`, `courier:<id>`. */
export const Channel = z
  .string()
  .regex(/^(order|market|courier|vehicle):[A-Za-z0-9_-]{1,64}$/, "channel: <kind>:<id>");
export type Channel = z.infer<typeof Channel>;
export type ChannelKind = "order" | "market" | "courier" | "vehicle";

export function parseChannel(channel: string): { kind: ChannelKind; id: string } | null {
  const parsed = Channel.safeParse(channel);
  if (!parsed.success) return null;
  const [kind, id] = parsed.data.split(":") as [ChannelKind, string];
  return { kind, id };
}

// --- frames up (client → gateway) ---------------------------------------------------------

/** From the driver app on /ws/driver. The courier is the token's subject, never a field. */
export const DriverUpFrame = z.discriminatedUnion("type", [
  z.object({ type: z.literal("location"), fix: Fix, coord: CoordSystem.default("wgs84") }),
  /** Fixes buffered while offline, oldest first. */
  z.object({
    type: z.literal("locations"),
    fixes: z.array(Fix).min(1).max(100),
    coord: CoordSystem.default("wgs84"),
  }),
  z.object({ type: z.literal("ping"), id: z.string().max(64).optional() }),
  /**
   * Compartment readings from a logger paired with the phone (BLE), for the van the courier
   * drives. They join the van's MQTT readings in the TELEMETRY stream with the courier named;
   * the vehicle accepts them only from its driver. Answered by `temperature_ack`.
   */
  z.object({
    type: z.literal("temperature"),
    id: z.string().max(64).optional(),
    vehicleId: ActorId,
    readings: z
      .array(
        z.object({
          compartmentId: z.string().min(1).max(64),
          celsius: z.number().finite(),
          at: z.number().int().nonnegative(),
          doorOpen: z.boolean().optional(),
        }),
      )
      .min(1)
      .max(64),
  }),
]);
export type DriverUpFrame = z.infer<typeof DriverUpFrame>;

/** From any live client on /ws/live (shopper page, console, driver app's own channel). */
export const LiveUpFrame = z.discriminatedUnion("type", [
  /** Watch a channel; with `offset`, resume after that offset without gaps. */
  z.object({
    type: z.literal("subscribe"),
    channel: Channel,
    offset: z.number().int().nonnegative().optional(),
  }),
  z.object({ type: z.literal("unsubscribe"), channel: Channel }),
  z.object({ type: z.literal("ping"), id: z.string().max(64).optional() }),
]);
export type LiveUpFrame = z.infer<typeof LiveUpFrame>;

// --- push frames (tracker → PUSH stream → gateway → client) --------------------------------

export const CourierPosition = z.object({
  kind: z.literal("courier"),
  courierId: ActorId,
  lat: z.number(),
  lng: z.number(),
  at: z.number().int(),
  /** True while the shopper must not see the exact position (before pickup). */
  coarse: z.boolean().default(false),
  speed: z.number().optional(),
  heading: z.number().optional(),
});

export const EtaWindow = z.object({
  kind: z.literal("eta"),
  orderId: ActorId,
  /** Which leg the courier is on. */
  leg: z.enum(["to_store", "to_customer"]),
  /** Arrival at the customer: 50 % and 90 % quantiles, ms since the epoch. */
  p50: z.number().int(),
  p90: z.number().int(),
  at: z.number().int(),
});

export const OrderStatusFrame = z.object({
  kind: z.literal("status"),
  orderId: ActorId,
  status: z.string().max(32),
  at: z.number().int(),
  courierId: ActorId.nullable().optional(),
});

export const TemperatureFrame = z.object({
  kind: z.literal("temperature"),
  vehicleId: ActorId,
  compartmentId: z.string().max(64),
  celsius: z.number(),
  inRange: z.boolean(),
  at: z.number().int(),
  orderId: ActorId.optional(),
});

/** An order of a market changed (dispatcher console): first with where it goes, then status. */
export const OrderFrame = z.object({
  kind: z.literal("order"),
  orderId: ActorId,
  marketId: ActorId,
  status: z.string().max(32),
  at: z.number().int(),
  storeId: ActorId.optional(),
  courierId: ActorId.nullable().optional(),
  temperatureClass: z.enum(["ambient", "chilled", "frozen"]).optional(),
  promisedAt: z.number().int().optional(),
  /** Where it is picked up and delivered (WGS-84 inside; converted for gcj02 clients). */
  pickup: z.object({ lat: z.number(), lng: z.number() }).optional(),
  dropoff: z.object({ lat: z.number(), lng: z.number() }).optional(),
});

/** The couriers of a market that moved since the last frame (console map). */
export const CouriersFrame = z.object({
  kind: z.literal("couriers"),
  marketId: ActorId,
  couriers: z.array(
    z.object({
      courierId: ActorId,
      lat: z.number(),
      lng: z.number(),
      at: z.number().int(),
      status: z.string().max(32).optional(),
    }),
  ),
  at: z.number().int(),
});

const Point = z.object({ lat: z.number(), lng: z.number() });
const TempClass = z.enum(["ambient", "chilled", "frozen"]);

/** A job offered to the courier (driver app's offer card): answer before `expiresAt`. */
export const OfferFrame = z.object({
  kind: z.literal("offer"),
  courierId: ActorId,
  orderId: ActorId,
  marketId: ActorId,
  storeId: ActorId,
  temperatureClass: TempClass,
  pickup: Point,
  dropoff: Point.nullable(),
  expiresAt: z.number().int(),
  at: z.number().int(),
});

/**
 * The courier's work as it stands (driver app): open offers, jobs, and the stops in order. Sent
 * after every change to any of them; the newest replaces the older.
 */
export const WorkFrame = z.object({
  kind: z.literal("work"),
  courierId: ActorId,
  status: z.string().max(32),
  offers: z.array(
    z.object({
      orderId: ActorId,
      marketId: ActorId,
      storeId: ActorId,
      temperatureClass: TempClass,
      pickup: Point,
      dropoff: Point.nullable(),
      expiresAt: z.number().int(),
    }),
  ),
  jobs: z.array(
    z.object({
      orderId: ActorId,
      temperatureClass: TempClass,
      pickedUp: z.boolean(),
      /** Shown at the store to collect the order. */
      pickupCode: z.string().nullable(),
    }),
  ),
  route: z.array(
    z.object({
      orderId: ActorId,
      kind: z.enum(["pickup", "dropoff"]),
      location: Point,
      storeId: ActorId.nullable(),
    }),
  ),
  /** What changed: the courier event that caused this frame. */
  cause: z.string().max(64),
  at: z.number().int(),
});

export const AlertFrame = z.object({
  kind: z.literal("alert"),
  id: z.string().max(128),
  severity: z.enum(["info", "warning", "critical"]),
  code: z.string().max(64),
  message: z.string().max(500),
  subject: z.string().max(128).optional(),
  at: z.number().int(),
});

/** A stop of a wave van's route as the driver app shows it. */
export const WaveStopFrame = z.object({
  kind: z.enum(["pickup", "dropoff"]),
  place: z.string().max(80),
  location: Point,
  orderIds: z.array(ActorId).max(4000),
  arriveAt: z.number().int(),
});

/** A wave's van route went live (to the van's driver, on `courier:<id>`). */
export const WaveRouteFrame = z.object({
  kind: z.literal("wave_route"),
  waveId: ActorId,
  vehicleId: ActorId,
  stops: z.array(WaveStopFrame).max(4000),
  at: z.number().int(),
});

/** A wave's plan changed (dispatcher console, on `market:<id>`): read it again. */
export const WavePlanFrame = z.object({
  kind: z.literal("wave_plan"),
  waveId: ActorId,
  version: z.number().int(),
  cost: z.number(),
  cause: z.string().max(64),
  at: z.number().int(),
});

export const PushFrame = z.discriminatedUnion("kind", [
  CourierPosition,
  EtaWindow,
  OrderStatusFrame,
  OrderFrame,
  TemperatureFrame,
  CouriersFrame,
  AlertFrame,
  OfferFrame,
  WorkFrame,
  WaveRouteFrame,
  WavePlanFrame,
]);
export type PushFrame = z.infer<typeof PushFrame>;

/**
 * Frames whose newer value replaces the older one for a slow client (latest wins): a client
 * that cannot keep up gets the latest position, never a queue of stale ones.
 */
export const CONFLATED_KINDS: ReadonlySet<PushFrame["kind"]> = new Set([
  "courier",
  "eta",
  "couriers",
  "work",
]);

// --- frames down (gateway → client) ---------------------------------------------------------

export const DownFrame = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("welcome"),
    role: z.string(),
    subject: z.string(),
    /** Server time, for clients to correct their clock. */
    now: z.number().int(),
    coord: CoordSystem,
  }),
  /**
   * One push. `offset` increases along a channel (it is the PUSH stream sequence); a client
   * reconnecting sends its last offset to resume.
   */
  z.object({
    type: z.literal("push"),
    channel: Channel,
    offset: z.number().int(),
    frame: PushFrame,
  }),
  /** Subscribed, and every frame after `offset` up to now has been sent. */
  z.object({ type: z.literal("subscribed"), channel: Channel, offset: z.number().int() }),
  z.object({
    type: z.literal("error"),
    code: z.string(),
    message: z.string(),
    /** The offending frame's type or channel, when there is one. */
    ref: z.string().optional(),
  }),
  z.object({ type: z.literal("pong"), id: z.string().optional(), now: z.number().int() }),
  /** Readings stored as evidence (the vehicle judges them next), with their stream sequence. */
  z.object({
    type: z.literal("temperature_ack"),
    id: z.string().optional(),
    readings: z.number().int(),
    seq: z.number().int(),
  }),
  /** Location frames accepted (count) and rejected (with reasons), for the driver app. */
  z.object({
    type: z.literal("location_ack"),
    accepted: z.number().int(),
    rejected: z.array(z.object({ at: z.number(), code: z.string() })),
  }),
]);
export type DownFrame = z.infer<typeof DownFrame>;

/** Websocket close codes the gateway uses; apps decide from them whether and how to reconnect. */
export const CloseCode = {
  /** The gateway is shutting down: reconnect (to another gateway). */
  goingAway: 1001,
  /** A frame over `maxFrameBytes` (ws closes the socket itself). */
  tooLarge: 1009,
  /** No valid token, or an expired one: get a new token before reconnecting. */
  unauthorized: 4001,
  /** The token's role may not use this endpoint, or its order can no longer be tracked. */
  forbidden: 4003,
  /** The client fell too far behind: reconnect and resume from the last offset received. */
  resyncRequired: 4008,
} as const;

// --- tokens -------------------------------------------------------------------------------

export const Role = z.enum(["courier", "dispatcher", "store", "shopper", "admin"]);
export type Role = z.infer<typeof Role>;

/** Claims of an access token (JWT, HS256, signed by the gateway's secret). */
export const TokenClaims = z.object({
  sub: z.string().min(1).max(128),
  role: Role,
  /** Market of a courier or dispatcher. */
  mkt: ActorId.optional(),
  /** The one order a shopper's tracking token may see. */
  ord: ActorId.optional(),
  exp: z.number().int(),
});
export type TokenClaims = z.infer<typeof TokenClaims>;
