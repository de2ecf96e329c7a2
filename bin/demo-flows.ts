/**
 * Domain steps that put an order in a courier's hands through the same actor messages the apps
 * and the store API send: used by the demo (`npm start`), the test stack and the benchmarks.
 */
import type { ActorClient, Principal } from "../actors/index.ts";
import type { CityAdmin } from "../sim/city/index.ts";

export interface AssignedOrderOptions {
  orderId: string;
  courierId: string;
  marketId?: string;
  storeId?: string;
  store?: { lat: number; lng: number };
  door?: { lat: number; lng: number };
  temperatureClass?: "ambient" | "chilled" | "frozen";
  /** The courier's vehicle when it goes on shift; default an e-bike (an insulated bag). */
  vehicle?: { mode: "van"; vehicleId: string };
}

/** Kunming: a store near 南屏街 and a door near 翠湖. */
export const KUNMING_STORE = { lat: 25.0389, lng: 102.7183 };
export const KUNMING_DOOR = { lat: 25.0475, lng: 102.7065 };

const ALL_DAY = [{ open: "00:00", close: "24:00" }];

async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export class DemoFlows {
  readonly #codes = new Map<string, { code: string; pin: string; storeId: string }>();

  constructor(readonly actors: ActorClient) {}

  async #call(
    type: string,
    id: string,
    msg: { type: string } & Record<string, unknown>,
    by: Principal,
    commandId?: string,
  ) {
    // Set-up steps carry a fixed command id, so that two flows racing to set up the same store
    // or market apply it once and both get its outcome.
    const outcome = await this.actors.call({ type, id }, msg, {
      by,
      ...(commandId ? { id: commandId } : {}),
    });
    if (!outcome.ok) {
      throw new Error(
        `${type}/${id} refused ${msg.type}: ${outcome.refusal.code} ${outcome.refusal.message}`,
      );
    }
  }

  /** Market, store and an on-shift courier if missing; an order placed, ready and assigned. */
  async assignedOrder(o: AssignedOrderOptions): Promise<{ pickupCode: string; pin: string }> {
    const marketId = o.marketId ?? "km";
    const storeId = o.storeId ?? "s-1";
    const dispatcher: Principal = { role: "dispatcher", id: "d-1" };
    const admin: Principal = { role: "admin", id: "admin" };
    const courier: Principal = { role: "courier", id: o.courierId };
    const storeAt = o.store ?? KUNMING_STORE;
    const door = o.door ?? KUNMING_DOOR;
    const market = await this.actors.state<{ status?: string; config?: unknown }>({
      type: "market",
      id: marketId,
    });
    if (!market.seq) {
      await this.#call(
        "market",
        marketId,
        { type: "configure", name: "五华区", city: "昆明" },
        dispatcher,
        `setup.market.${marketId}`,
      );
    }
    const store = await this.actors.state({ type: "store", id: storeId });
    if (!store.seq) {
      const openHours = Object.fromEntries(
        ["1", "2", "3", "4", "5", "6", "7"].map((d) => [d, ALL_DAY]),
      );
      await this.#call(
        "store",
        storeId,
        { type: "register", name: "鲜果铺", marketId, location: storeAt, openHours },
        admin,
        `setup.store.${storeId}`,
      );
    }
    const courierState = await this.actors.state<{ shift?: unknown }>({
      type: "courier",
      id: o.courierId,
    });
    if (!courierState.view.shift) {
      await this.#call(
        "courier",
        o.courierId,
        {
          type: "go_on_shift",
          marketId,
          vehicle: o.vehicle ?? { mode: "ebike" },
          capacity: o.vehicle
            ? { maxOrders: 8, slots: { ambient: 4, chilled: 4, frozen: 4 } }
            : { maxOrders: 3 },
        },
        courier,
      );
    }
    const code = `P${Math.floor(Math.random() * 9000 + 1000)}`;
    const pin = String(Math.floor(Math.random() * 9000 + 1000));
    await this.#call(
      "order",
      o.orderId,
      {
        type: "create",
        storeId,
        marketId,
        shopOrderId: `wx-${o.orderId}`,
        shopperId: `u-${o.orderId}`,
        temperatureClass: o.temperatureClass ?? "ambient",
        items: { summary: "2 × 草莓 500g, 1 × 鲜牛奶", count: 3 },
        amounts: { goodsFen: 5600, deliveryFeeFen: 500, discountFen: 0, totalFen: 6100 },
        pickup: storeAt,
        dropoff: { kind: "door", location: door },
        promisedAt: Date.now() + 45 * 60_000,
        pickupCode: code,
        deliveryPin: pin,
      },
      { role: "system", id: "shop-backend" },
    );
    const staff: Principal = { role: "store", id: storeId };
    await this.#call("store", storeId, { type: "accept_order", orderId: o.orderId }, staff);
    await this.#call("store", storeId, { type: "mark_ready", orderId: o.orderId }, staff);
    await waitFor("the market to list the order", async () => {
      const m = await this.actors.state<{ orders: Record<string, unknown> }>({
        type: "market",
        id: marketId,
      });
      return o.orderId in m.view.orders;
    });
    // The market's engine may already have offered the order to someone: lock it to this
    // courier (which takes back an offer to anyone else), then offer it unless the engine did.
    const marketRef = { type: "market", id: marketId };
    const locked = await this.actors.call(
      marketRef,
      {
        type: "lock",
        orderId: o.orderId,
        courierId: o.courierId,
        reason: "demo: this courier's run",
      },
      { by: dispatcher },
    );
    if (!locked.ok && locked.refusal.code !== "invalid_transition") {
      throw new Error(`market/${marketId} refused lock: ${locked.refusal.code}`);
    }
    const offered = await this.actors.call(
      marketRef,
      { type: "offer", orderId: o.orderId, courierId: o.courierId },
      { by: dispatcher },
    );
    if (!offered.ok && offered.refusal.code === "already_passed") {
      // The engine offered it to this courier first and the offer ran out: assign it outright.
      await this.#call(
        "market",
        marketId,
        {
          type: "force_assign",
          orderId: o.orderId,
          courierId: o.courierId,
          reason: "demo: this courier's run",
        },
        dispatcher,
      );
      await waitFor("the order to be assigned", async () => {
        const s = await this.actors.state<{ status: string }>({ type: "order", id: o.orderId });
        return s.view.status === "assigned";
      });
      this.#codes.set(o.orderId, { code, pin, storeId });
      return { pickupCode: code, pin };
    }
    if (!offered.ok && offered.refusal.code !== "offer_pending") {
      throw new Error(`market/${marketId} refused offer: ${offered.refusal.code}`);
    }
    await waitFor("the courier to hold the offer", async () => {
      const c = await this.actors.state<{ offers: Record<string, unknown> }>({
        type: "courier",
        id: o.courierId,
      });
      return o.orderId in c.view.offers;
    });
    await this.#call("courier", o.courierId, { type: "accept_offer", orderId: o.orderId }, courier);
    await waitFor("the order to be assigned", async () => {
      const s = await this.actors.state<{ status: string }>({ type: "order", id: o.orderId });
      return s.view.status === "assigned";
    });
    this.#codes.set(o.orderId, { code, pin, storeId });
    return { pickupCode: code, pin };
  }

  async pickUp(orderId: string): Promise<void> {
    const known = this.#codes.get(orderId);
    if (!known) throw new Error(`no pickup code known for ${orderId}`);
    const s = await this.actors.state<{ courierId: string }>({ type: "order", id: orderId });
    await this.#call(
      "order",
      orderId,
      { type: "arrive_at_store", courierId: s.view.courierId },
      { role: "courier", id: s.view.courierId },
    );
    await this.#call(
      "store",
      known.storeId,
      { type: "hand_off", orderId, pickupCode: known.code, courierId: s.view.courierId },
      { role: "store", id: known.storeId },
    );
    await waitFor("the order to be picked up", async () => {
      const v = await this.actors.state<{ status: string }>({ type: "order", id: orderId });
      return v.view.status === "picked_up";
    });
  }

  async deliver(orderId: string, courierId: string): Promise<void> {
    const known = this.#codes.get(orderId);
    if (!known) throw new Error(`no PIN known for ${orderId}`);
    const by: Principal = { role: "courier", id: courierId };
    await this.#call("order", orderId, { type: "arrive_at_customer", courierId }, by);
    await this.#call("order", orderId, { type: "deliver", courierId, pin: known.pin }, by);
  }
}

/**
 * What the simulated city registers, as actor messages (the platform has no HTTP route for
 * markets, stores or vans yet): a market's configuration, each store (or, already registered by
 * an earlier run, its profile brought up to date), each van's compartments, market and driver.
 * Set-up commands carry fixed ids, so a retry applies once.
 */
export function actorCityAdmin(actors: ActorClient): CityAdmin {
  const admin: Principal = { role: "admin", id: "sim-city" };
  const dispatcher: Principal = { role: "dispatcher", id: "sim-city" };
  const call = async (
    ref: { type: string; id: string },
    msg: { type: string } & Record<string, unknown>,
    by: Principal,
    id?: string,
  ) => {
    const outcome = await actors.call(ref, msg, { by, ...(id ? { id } : {}) });
    return outcome.ok ? null : outcome.refusal;
  };
  const must = (what: string, refusal: { code: string; message: string } | null) => {
    if (refusal !== null) throw new Error(`${what} refused: ${refusal.code} ${refusal.message}`);
  };
  return {
    async configureMarket(m) {
      must(
        `market ${m.marketId}`,
        await call(
          { type: "market", id: m.marketId },
          { type: "configure", name: m.name, city: m.city },
          dispatcher,
        ),
      );
    },
    async registerStore(s) {
      const ref = { type: "store", id: s.storeId };
      const { name, marketId, location, openHours } = s;
      const refused = await call(
        ref,
        { type: "register", name, marketId, location, openHours },
        admin,
        `setup.store.${s.storeId}`,
      );
      if (refused?.code === "already_registered") {
        must(
          `store ${s.storeId}`,
          await call(ref, { type: "update_profile", name, location, openHours }, admin),
        );
        return;
      }
      must(`store ${s.storeId}`, refused);
    },
    async configureVehicle(v) {
      must(
        `vehicle ${v.vehicleId}`,
        await call(
          { type: "vehicle", id: v.vehicleId },
          {
            type: "configure",
            compartments: v.compartments,
            marketId: v.marketId,
            driverId: v.driverId,
          },
          dispatcher,
        ),
      );
    },
  };
}
