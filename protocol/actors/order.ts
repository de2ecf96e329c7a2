/**
 * The wire contract of the order actor (`order/<id>`): every command it accepts, as one zod
 * discriminated union on `type`. Who may send which command is checked inside the transition
 * (actors/order/logic.ts), not here: a schema only says what a well-formed message looks like.
 */
import { z } from "zod";
import { ActorId, Fen, LatLng, PrincipalSchema, TemperatureClass } from "../ids.ts";
import { DeclineReason, WithdrawReason } from "./offers.ts";
import { WaveId, WaveLoad } from "./wave.ts";

/** A point in time, in ms since the epoch. */
export const EpochMs = z.number().int().nonnegative();

/** Shown by the courier, typed in by the store at hand-off. Chosen by the caller of `create`. */
export const PickupCode = z
  .string()
  .regex(/^[0-9A-Za-z]{4,12}$/, "pickup code: 4-12 letters or digits");
/** Told by the shopper to the courier at the door (or a locker code). */
export const DeliveryPin = z.string().regex(/^[0-9]{4,8}$/, "delivery PIN: 4-8 digits");

export const OrderAmounts = z.object({
  goodsFen: Fen,
  deliveryFeeFen: Fen,
  discountFen: Fen,
  totalFen: Fen,
});
export type OrderAmounts = z.infer<typeof OrderAmounts>;

export const ItemsSummary = z.object({
  /** A short human summary ("2 × 草莓 500g, 1 × 鲜牛奶"), never personal data. */
  summary: z.string().min(1).max(500),
  count: z.number().int().positive(),
});
export type ItemsSummary = z.infer<typeof ItemsSummary>;

/** To a door (WGS-84), or to a 社区自提 community pickup point or locker. */
export const Dropoff = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("door"), location: LatLng }),
  z.object({ kind: z.literal("pickup_point"), pickupPointId: ActorId, location: LatLng }),
]);
export type Dropoff = z.infer<typeof Dropoff>;

/**
 * One field of personal data as everything behind the gateway holds it: an AES-256-GCM
 * ciphertext `v1.<kid>.<iv>.<ct>.<tag>` (base64url parts; pii/cipher.ts), bound to the order and
 * the field. Only the gateway holds the keys.
 */
export const PiiCiphertext = z
  .string()
  .max(4096)
  .regex(
    /^v1\.[A-Za-z0-9_-]{1,32}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/,
    "an encrypted personal-data field (v1.<kid>.<iv>.<ct>.<tag>)",
  );

/** The shopper's contact, each field encrypted (see PiiCiphertext); address null for a pickup point. */
export const EncryptedContact = z.object({
  name: PiiCiphertext,
  phone: PiiCiphertext,
  address: PiiCiphertext.nullable(),
  doorNote: PiiCiphertext.nullable(),
});
export type EncryptedContact = z.infer<typeof EncryptedContact>;

export const CancelReason = z.enum([
  "shopper_request",
  "store_rejected",
  "store_closed",
  "out_of_stock",
  "no_courier",
  "duplicate",
  "suspected_fraud",
  "other",
]);
export type CancelReason = z.infer<typeof CancelReason>;

export const DeliveryFailureReason = z.enum([
  "no_answer",
  "wrong_address",
  "refused",
  "unsafe_location",
  "damaged",
  "temperature_excursion",
  "locker_full",
  "other",
]);
export type DeliveryFailureReason = z.infer<typeof DeliveryFailureReason>;

/**
 * The two ways a van compartment fails its cold chain (the vehicle actor's excursion kinds): out
 * of range past the grace period, or a sensor silent past the silence limit.
 */
export const ColdChainExcursionKind = z.enum(["temperature", "sensor_silent"]);
export type ColdChainExcursionKind = z.infer<typeof ColdChainExcursionKind>;

/** Whether a ready-at time was stated by the store or predicted from its learned prep time. */
export const ReadyAtSource = z.enum(["stated", "predicted"]);
export type ReadyAtSource = z.infer<typeof ReadyAtSource>;

const Note = z.string().max(500);
const Reason = z.string().min(1).max(200);

export const OrderMessage = z.discriminatedUnion("type", [
  /** From the shop integration (system), a dispatcher, or the store for its own orders. */
  z.object({
    type: z.literal("create"),
    storeId: ActorId,
    marketId: ActorId,
    shopOrderId: z.string().min(1).max(64),
    shopperId: z.string().min(1).max(128).optional(),
    temperatureClass: TemperatureClass,
    items: ItemsSummary,
    amounts: OrderAmounts,
    /** Where the courier collects the order: the store's location (dispatch needs it). */
    pickup: LatLng,
    dropoff: Dropoff,
    promisedAt: EpochMs,
    pickupCode: PickupCode,
    deliveryPin: DeliveryPin.optional(),
    /** The shopper's contact, encrypted by the gateway; the order never sees the plaintext. */
    contact: EncryptedContact.optional(),
    /**
     * A scheduled-wave order (社区集单): it joins this wave instead of the market's on-demand
     * dispatch; a van brings it to its pickup point (or door), where the shopper shows the
     * pickup code.
     */
    wave: z.object({ waveId: WaveId, load: WaveLoad }).optional(),
  }),
  /**
   * An admin is about to read the shopper's contact unmasked: recorded (`contact_revealed`,
   * with who and why) before the gateway decrypts it. Admins only.
   */
  z.object({ type: z.literal("reveal_contact"), reason: Reason }),
  /** The store takes the order on, saying (or having predicted) when it will be ready. */
  z.object({ type: z.literal("accept"), readyAt: EpochMs, readyAtSource: ReadyAtSource }),
  z.object({ type: z.literal("start_preparing") }),
  z.object({ type: z.literal("mark_ready") }),
  z.object({
    type: z.literal("set_ready_at"),
    readyAt: EpochMs,
    readyAtSource: ReadyAtSource.optional(),
  }),
  /**
   * market → order: the market offered the job to one courier until `expiresAt`. The market owns
   * the offer and its one time-out; the order records the deadline to refuse late accepts.
   */
  z.object({ type: z.literal("offer"), courierId: ActorId, expiresAt: EpochMs }),
  /** The offered courier answering here instead of through its courier actor (see CONTRACT). */
  z.object({ type: z.literal("accept_offer"), courierId: ActorId }),
  z.object({
    type: z.literal("decline_offer"),
    courierId: ActorId,
    reason: DeclineReason.optional(),
  }),
  /** market → order: the offer to `courierId` expiring at `expiresAt` ran out unanswered. */
  z.object({ type: z.literal("offer_expired"), courierId: ActorId, expiresAt: EpochMs }),
  /** market → order: the market took its offer back (a dispatcher lock to another courier, …). */
  z.object({ type: z.literal("offer_withdrawn"), courierId: ActorId, reason: WithdrawReason }),
  /** Assignment without an offer: a dispatcher's force, or the market's direct assignment. */
  z.object({ type: z.literal("assign"), courierId: ActorId, lock: z.boolean().optional() }),
  /**
   * Takes the order away from its courier (offered or assigned, before pickup): to `courierId`
   * when given, else back to the pool.
   */
  z.object({ type: z.literal("reassign"), reason: Reason, courierId: ActorId.optional() }),
  z.object({ type: z.literal("hold"), reason: Reason }),
  z.object({ type: z.literal("release_hold") }),
  z.object({ type: z.literal("lock"), reason: Reason.optional() }),
  z.object({ type: z.literal("unlock") }),
  z.object({ type: z.literal("arrive_at_store"), courierId: ActorId }),
  /**
   * Hand-off at the store; the code is required except from a dispatcher or admin (override).
   * `vehicleId` + `compartmentId` (both or neither): the van compartment the goods went into
   * (the vehicle accepted the `load` before the hand-off was sent).
   */
  z
    .object({
      type: z.literal("pick_up"),
      pickupCode: PickupCode.optional(),
      courierId: ActorId.optional(),
      vehicleId: ActorId.optional(),
      compartmentId: ActorId.optional(),
    })
    .refine((m) => (m.vehicleId === undefined) === (m.compartmentId === undefined), {
      message: "vehicleId and compartmentId go together",
      path: ["compartmentId"],
    }),
  z.object({ type: z.literal("arrive_at_customer"), courierId: ActorId }),
  /** Proof of delivery: a photo reference and/or the shopper's PIN (checked). */
  z.object({
    type: z.literal("deliver"),
    courierId: ActorId.optional(),
    photoRef: z.string().min(1).max(256).optional(),
    pin: DeliveryPin.optional(),
  }),
  z.object({
    type: z.literal("fail_delivery"),
    courierId: ActorId.optional(),
    reason: DeliveryFailureReason,
    note: Note.optional(),
  }),
  /** The store (or a dispatcher) confirms a failed delivery's goods are back. */
  z.object({ type: z.literal("mark_returned"), note: Note.optional() }),
  z.object({ type: z.literal("cancel"), reason: CancelReason, note: Note.optional() }),
  /** wave → order: the wave's vans left; this order rides with `courierId`'s van. */
  z.object({ type: z.literal("wave_on_van"), vehicleId: ActorId, courierId: ActorId }),
  /** wave → order: the point's staff confirmed the van's arrival; the goods wait on the shelf. */
  z.object({ type: z.literal("wave_at_pickup_point"), pickupPointId: ActorId }),
  /** wave → order: the shopper showed the pickup code at the point and took the goods. */
  z.object({ type: z.literal("wave_collected"), pickupPointId: ActorId }),

  // ---- Facts from the courier and market actors (see actors/CONTRACT.md) ----

  /** courier → order: the courier took the market's offer; the order confirms or turns it away. */
  z.object({
    type: z.literal("courier_accepted"),
    courierId: ActorId,
    marketId: ActorId,
    at: EpochMs,
  }),
  /** courier → order: the courier declined the offer (expiry comes from the market instead). */
  z.object({
    type: z.literal("courier_declined"),
    courierId: ActorId,
    marketId: ActorId,
    reason: DeclineReason,
    at: EpochMs,
  }),
  /** courier → order: the courier dropped a job it had not picked up (off shift, dispatcher). */
  z.object({
    type: z.literal("courier_released"),
    courierId: ActorId,
    reason: z.string().min(1).max(500),
    at: EpochMs,
  }),
  /**
   * vehicle → order: an excursion started in the compartment the order is in (`celsius` is null
   * for a silent sensor). Times are the vehicle's: `startedAt` the first out-of-range reading (or
   * when silence was detected), `detectedAt` when the grace period ran out.
   */
  z.object({
    type: z.literal("cold_chain_excursion"),
    vehicleId: ActorId,
    compartmentId: ActorId,
    kind: ColdChainExcursionKind,
    startedAt: EpochMs,
    detectedAt: EpochMs,
    celsius: z.number().finite().nullable(),
  }),
  /** vehicle → order: that excursion ended (back in range by the margin, or a reading came). */
  z.object({
    type: z.literal("cold_chain_excursion_ended"),
    vehicleId: ActorId,
    compartmentId: ActorId,
    kind: ColdChainExcursionKind,
    endedAt: EpochMs,
  }),
  /** market → order: a dispatcher's force-assignment (a reassignment when already taken). */
  z.object({
    type: z.literal("dispatcher_assigned"),
    courierId: ActorId,
    marketId: ActorId,
    by: PrincipalSchema,
    reason: z.string().min(1).max(500),
    at: EpochMs,
  }),
]);
export type OrderMessage = z.infer<typeof OrderMessage>;
export type OrderMessageType = OrderMessage["type"];
