/**
 * The shopper's contact as each caller may see it. The order actor holds ciphertext only
 * (pii/); the gateway decrypts here, per request, and masks by who asks:
 *
 *   shopper (own tracking token)   name, address and door note; the phone masked (a tracking link
 *                                    is a bearer link that gets forwarded, and the number is what
 *                                    scams use; the shopper knows it)
 *   courier, while the order is    name 张*, phone 138****1234, the full address and door note
 *     theirs and on its way          (assigned, at the store, picked up, at the door)
 *   courier, otherwise             name and phone masked, no address, no note
 *   store, dispatcher, admin       name, phone and address masked (city and district), no note
 *   admin, through reveal          everything, after the order recorded who and why
 */
import { createHmac } from "node:crypto";
import {
  PiiError,
  UnknownPiiKeyError,
  decryptContact,
  maskAddress,
  maskName,
  maskPhone,
} from "../../pii/index.ts";
import type { DecryptedContact } from "../../pii/index.ts";
import type { ShopperContact } from "../../protocol/http.ts";
import type { Order } from "../access.ts";
import { ApiError } from "../errors.ts";
import type { HttpDeps } from "./context.ts";

/** Statuses in which an assigned courier is on the way to the door and sees the address. */
const ON_THE_WAY: ReadonlySet<string> = new Set([
  "assigned",
  "at_store",
  "picked_up",
  "at_customer",
]);

export type ContactAudience = "shopper" | "courier" | "store" | "operator" | "revealed";

/** A contact as shown; `masked` says whether any field is masked. */
export interface ContactView {
  readonly name: string;
  readonly phone: string;
  /** Full, masked (`云南省昆明市****`), or null when this caller may not see it (or there is none). */
  readonly address: string | null;
  readonly doorNote: string | null;
  readonly masked: boolean;
  /** Whether `address` is the full address. */
  readonly fullAddress: boolean;
}

/** The contact cannot be shown here: no key configured, or its key is not in the ring. */
export interface ContactUnavailable {
  readonly unavailable: "pii_not_configured" | "pii_key_unknown" | "pii_undecryptable";
}

/** Whether courier `courierId` may see the order's address now. */
export function courierSeesAddress(order: Order, courierId: string): boolean {
  return order.courierId === courierId && ON_THE_WAY.has(order.status);
}

/** What `audience` may see of plaintext `c` (for a courier, `addressShown` decides the address). */
export function shape(
  c: DecryptedContact,
  audience: ContactAudience,
  addressShown = false,
): ContactView {
  switch (audience) {
    case "revealed":
      return { ...c, masked: false, fullAddress: c.address !== null };
    case "shopper":
      return { ...c, phone: maskPhone(c.phone), masked: true, fullAddress: c.address !== null };
    case "courier":
      return {
        name: maskName(c.name),
        phone: maskPhone(c.phone),
        address: addressShown ? c.address : null,
        doorNote: addressShown ? c.doorNote : null,
        masked: true,
        fullAddress: addressShown && c.address !== null,
      };
    case "store":
    case "operator":
      return {
        name: maskName(c.name),
        phone: maskPhone(c.phone),
        address: c.address === null ? null : maskAddress(c.address),
        doorNote: null,
        masked: true,
        fullAddress: false,
      };
  }
}

/** The plaintext contact of `order`; throws PiiError (or returns null when it has none). */
function decrypt(deps: HttpDeps, order: Order): DecryptedContact | null {
  if (!order.contact) return null;
  if (!deps.pii) throw new PiiNotConfigured();
  return decryptContact(deps.pii, order.id, order.contact);
}

class PiiNotConfigured extends PiiError {
  override name = "PiiNotConfigured";
}

function unavailable(deps: HttpDeps, order: Order, err: PiiError): ContactUnavailable {
  const reason =
    err instanceof PiiNotConfigured
      ? "pii_not_configured"
      : err instanceof UnknownPiiKeyError
        ? "pii_key_unknown"
        : "pii_undecryptable";
  // The error names the key id and the order, never the value.
  deps.log.error(
    { orderId: order.id, err: { name: err.name, message: err.message } },
    "shopper contact cannot be decrypted",
  );
  return { unavailable: reason };
}

/**
 * The order's contact as `audience` may see it; null when the order has none. A contact this
 * gateway cannot decrypt is shown as unavailable (and logged), never failing the whole view.
 */
export function contactFor(
  deps: HttpDeps,
  order: Order,
  audience: Exclude<ContactAudience, "courier" | "revealed">,
): ContactView | ContactUnavailable | null;
export function contactFor(
  deps: HttpDeps,
  order: Order,
  audience: "courier",
  courierId: string,
): ContactView | ContactUnavailable | null;
export function contactFor(
  deps: HttpDeps,
  order: Order,
  audience: Exclude<ContactAudience, "revealed">,
  courierId?: string,
): ContactView | ContactUnavailable | null {
  try {
    const plain = decrypt(deps, order);
    if (plain === null) return null;
    return shape(plain, audience, courierId !== undefined && courierSeesAddress(order, courierId));
  } catch (err) {
    if (err instanceof PiiError) return unavailable(deps, order, err);
    throw err;
  }
}

/** The whole contact for an admin's recorded reveal; 503 when it cannot be decrypted here. */
export function revealedContact(deps: HttpDeps, order: Order): ContactView {
  try {
    const plain = decrypt(deps, order);
    if (plain === null)
      throw new ApiError(409, "no_contact", `order ${order.id} has no shopper contact`);
    return shape(plain, "revealed");
  } catch (err) {
    if (!(err instanceof PiiError)) throw err;
    const { unavailable: reason } = unavailable(deps, order, err);
    throw new ApiError(
      503,
      reason,
      `the shopper's contact of order ${order.id} cannot be decrypted by this gateway (${reason})`,
      { cause: err },
    );
  }
}

/** The order without its ciphertext, with the contact as `contact` says. */
export function withContact<T extends { contact?: unknown }>(
  order: T,
  contact: ContactView | ContactUnavailable | null,
): Omit<T, "contact"> & { contact: ContactView | ContactUnavailable | null } {
  return { ...order, contact };
}

/**
 * A keyed digest of a contact, for the create's idempotency fingerprint: the fingerprint ends up
 * in the command id (in the stream and the order's record), and a plain hash of a phone number
 * would be open to a dictionary of all numbers. Keyed with the deployment's token secret, which
 * is stable across PII key rotations, so a resubmission after a rotation still matches.
 */
export function contactDigest(secret: string, contact: ShopperContact): string {
  const canonical = JSON.stringify([
    contact.name,
    contact.phone,
    contact.address ?? null,
    contact.doorNote ?? null,
  ]);
  return createHmac("sha256", secret)
    .update(`shopper-contact\n${canonical}`)
    .digest("hex")
    .slice(0, 32);
}
