/**
 * Who may see what. Checks that need an actor's state ask it through `ActorClient.state`; an
 * actor that cannot be asked, or whose answer does not say, means "no".
 */
import type { ActorClient, OrderView } from "../actors/index.ts";
import { parseChannel } from "../protocol/index.ts";
import type { TokenClaims } from "../protocol/index.ts";
import { ACTOR_QUERY_TIMEOUT_MS, TRACKING_GRACE_MS } from "./options.ts";

export type Order = Exclude<OrderView, { status: "none" }>;

/** An access decision: allowed, or a code and a reason. */
export type Decision = { ok: true } | { ok: false; code: string; message: string };

const allow: Decision = { ok: true };
const deny = (code: string, message: string): Decision => ({ ok: false, code, message });

/** The order's view, or null when it does not exist. Throws ActorTimeoutError when unreachable. */
export async function fetchOrder(actors: ActorClient, orderId: string): Promise<Order | null> {
  const { view } = await actors.state<OrderView>(
    { type: "order", id: orderId },
    ACTOR_QUERY_TIMEOUT_MS,
  );
  return view.status === "none" ? null : (view as Order);
}

/** The market a courier is on shift in, or null (off shift, or unknown). */
export async function courierMarket(
  actors: ActorClient,
  courierId: string,
): Promise<string | null> {
  const { view } = await actors.state<{ shift?: { marketId?: string } | null }>(
    { type: "courier", id: courierId },
    ACTOR_QUERY_TIMEOUT_MS,
  );
  return view?.shift?.marketId ?? null;
}

/** The market of a vehicle when its state says one; vehicles do not today, so dispatchers get null. */
async function vehicleMarket(actors: ActorClient, vehicleId: string): Promise<string | null> {
  const { view } = await actors.state<{ marketId?: unknown }>(
    { type: "vehicle", id: vehicleId },
    ACTOR_QUERY_TIMEOUT_MS,
  );
  return typeof view?.marketId === "string" ? view.marketId : null;
}

/** When an order stopped moving (delivered, cancelled, returned), or null while it is open. */
export function endedAt(order: Order): number | null {
  switch (order.status) {
    case "delivered":
      return order.deliveredAt ?? lastTimelineAt(order);
    case "cancelled":
      return order.cancellation?.at ?? lastTimelineAt(order);
    case "returned":
      return lastTimelineAt(order);
    default:
      return null;
  }
}

function lastTimelineAt(order: Order): number {
  return order.timeline.at(-1)?.at ?? order.placedAt;
}

/** A shopper's tracking link works until its order ended plus two hours. */
export function trackable(order: Order, now: number): Decision {
  const ended = endedAt(order);
  if (ended !== null && now > ended + TRACKING_GRACE_MS) {
    return deny(
      "tracking_expired",
      `order ${order.id} ended more than 2 h ago; the link has expired`,
    );
  }
  return allow;
}

/**
 * Whether `claims` may read order `order` (its snapshot, its channel, a tracking link for it).
 * `purpose` narrows who: tracking links are for stores, dispatchers and admins; snapshots for
 * the shopper, dispatchers and admins; live channels for all who have a tie to the order.
 */
export function orderAccess(
  claims: TokenClaims,
  order: Order,
  purpose: "channel" | "snapshot" | "tracking_link",
  now: number,
): Decision {
  switch (claims.role) {
    case "admin":
      return allow;
    case "dispatcher":
      return order.marketId === claims.mkt
        ? allow
        : deny("forbidden", `order ${order.id} is not in your market`);
    case "shopper":
      if (purpose === "tracking_link")
        return deny("forbidden", "a shopper cannot mint tracking links");
      if (claims.ord !== order.id)
        return deny("forbidden", "this tracking token is for another order");
      return trackable(order, now);
    case "store":
      if (purpose === "snapshot")
        return deny("forbidden", "stores read orders through their own API");
      return order.storeId === claims.sub
        ? allow
        : deny("forbidden", `order ${order.id} is not one of your store's orders`);
    case "courier":
      if (purpose !== "channel") return deny("forbidden", `a courier cannot do this`);
      return order.courierId === claims.sub
        ? allow
        : deny("forbidden", `order ${order.id} is not assigned to you`);
  }
}

/** Whether `claims` may watch `channel` on /ws/live. */
export async function channelAccess(
  actors: ActorClient,
  claims: TokenClaims,
  channel: string,
  now: number,
): Promise<Decision> {
  const parsed = parseChannel(channel);
  if (!parsed) return deny("invalid_channel", `not a channel: ${channel}`);
  if (claims.role === "admin") return allow;
  const { kind, id } = parsed;
  if (kind === "order") {
    if (claims.role === "shopper" && claims.ord !== id) {
      return deny("forbidden", "this tracking token is for another order");
    }
    const order = await fetchOrder(actors, id);
    if (!order) return deny("forbidden", `order ${id} is unknown`);
    return orderAccess(claims, order, "channel", now);
  }
  switch (claims.role) {
    case "shopper":
      return deny("forbidden", "a tracking token sees its order's channel only");
    case "store":
      return deny("forbidden", "a store watches its orders' channels only");
    case "courier":
      return kind === "courier" && id === claims.sub
        ? allow
        : deny("forbidden", "a courier watches its own channel and its orders' only");
    case "dispatcher": {
      if (kind === "market") {
        return id === claims.mkt ? allow : deny("forbidden", `market ${id} is not yours`);
      }
      const market =
        kind === "courier" ? await courierMarket(actors, id) : await vehicleMarket(actors, id);
      if (market === null) return deny("forbidden", `the market of ${channel} is not known`);
      return market === claims.mkt ? allow : deny("forbidden", `${channel} is not in your market`);
    }
  }
}
