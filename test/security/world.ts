/**
 * Two tenants on one `startStack()`, for the security tests: whose is what, and a token for
 * every kind of caller (each role as the owner of tenant A's things, the same role as another
 * tenant, and tokens that must not work at all).
 *
 *   market km  : store s-1 → order o-A, carried by courier c-1; van v-1 (driver c-1)
 *                store s-2 → order o-B, carried by courier c-2
 *   market km2 : store s-3 → order o-C, carried by courier c-3; van v-2 (driver c-3)
 */
import { Buffer } from "node:buffer";
import { signToken } from "../../gateway/index.ts";
import type { Principal } from "../../actors/index.ts";
import { startStack } from "../stack.ts";
import type { Stack } from "../stack.ts";

/** Tenant A's things: the matrix's routes are aimed at them. */
export const A = { market: "km", store: "s-1", courier: "c-1", order: "o-A", vehicle: "v-1" };
/** Another store and courier of the same market (km), and the other market's things. */
export const B = { store: "s-2", courier: "c-2", order: "o-B" };
export const KM2 = { market: "km2", store: "s-3", courier: "c-3", order: "o-C", vehicle: "v-2" };

/**
 * Who calls. `courier`, `dispatcher`, `store` and `shopper` own tenant A's things; the `…2`
 * callers are the same roles of another tenant; the last four are not valid tokens.
 */
export const CALLERS = [
  "admin",
  "courier",
  "courier2",
  "dispatcher",
  "dispatcher2",
  "store",
  "store2",
  "shopper",
  "shopper2",
  "none",
  "expired",
  "badsig",
  "unsigned",
] as const;
export type Caller = (typeof CALLERS)[number];
export const PRINCIPALS = CALLERS.slice(0, 9);

export interface World {
  readonly stack: Stack;
  /** The token of each caller; null for `none`. */
  readonly tokens: Readonly<Record<Caller, string | null>>;
  /** The store / market a caller's token is scoped to, if any. */
  readonly scope: Readonly<Record<Caller, { store?: string; market?: string }>>;
  /**
   * Every actor of the world as it is now: `seq` (the command log position of the last command
   * it took, refused ones included) and its view.
   */
  snapshot(): Promise<Record<string, { seq: number; view: unknown }>>;
  /** `seq` of every actor: moves with any command the actor takes, even one it refuses. */
  seqs(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

/** The actors of the world, as `type/id`. */
export const ACTORS = [
  `order/${A.order}`,
  `order/${B.order}`,
  `order/${KM2.order}`,
  `store/${A.store}`,
  `store/${B.store}`,
  `store/${KM2.store}`,
  `courier/${A.courier}`,
  `courier/${B.courier}`,
  `courier/${KM2.courier}`,
  `vehicle/${A.vehicle}`,
  `vehicle/${KM2.vehicle}`,
] as const;

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** A JWT with `alg: none` and admin claims: a token anyone could write. */
export function unsignedToken(): string {
  const exp = Math.floor(Date.now() / 1000) + 3600;
  return `${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: "admin", role: "admin", exp })}.`;
}

/** Admin claims, well formed, signed with a secret the gateway does not have. */
export function badlySignedToken(): Promise<string> {
  return signToken(
    { sub: "admin", role: "admin", exp: Math.floor(Date.now() / 1000) + 3600 },
    "not-the-gateways-secret-0123456789-abcdef",
  );
}

const compartments = [{ id: "k-chill", class: "chilled", graceSeconds: 60 }];

export async function startWorld(): Promise<World> {
  const stack = await startStack();
  try {
    // An admin token that expires in a second, minted through the API like any other.
    const adminToken = await stack.tokens.admin();
    const minted = await fetch(`${stack.url}/v1/tokens`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ role: "admin", sub: "admin-short", ttlSeconds: 1 }),
    });
    if (minted.status !== 201) throw new Error(`minting a token: ${minted.status}`);
    const expiring = (await minted.json()) as { token: string; expiresAt: number };

    await stack.assignedOrder({
      orderId: A.order,
      courierId: A.courier,
      marketId: A.market,
      storeId: A.store,
    });
    await stack.assignedOrder({
      orderId: B.order,
      courierId: B.courier,
      marketId: A.market,
      storeId: B.store,
    });
    await stack.assignedOrder({
      orderId: KM2.order,
      courierId: KM2.courier,
      marketId: KM2.market,
      storeId: KM2.store,
    });
    const dispatcher: Principal = { role: "dispatcher", id: "d-setup" };
    for (const [vehicleId, marketId, driverId] of [
      [A.vehicle, A.market, A.courier],
      [KM2.vehicle, KM2.market, KM2.courier],
    ] as const) {
      const outcome = await stack.actors.call(
        { type: "vehicle", id: vehicleId },
        { type: "configure", compartments, marketId, driverId },
        { by: dispatcher },
      );
      if (!outcome.ok) throw new Error(`configuring ${vehicleId}: ${outcome.refusal.code}`);
    }

    const tokens: Record<Caller, string | null> = {
      admin: adminToken,
      courier: await stack.tokens.courier(A.courier, A.market),
      courier2: await stack.tokens.courier(B.courier, A.market),
      dispatcher: await stack.tokens.dispatcher(A.market),
      dispatcher2: await stack.tokens.dispatcher(KM2.market),
      store: await stack.tokens.store(A.store),
      store2: await stack.tokens.store(B.store),
      shopper: await stack.tokens.shopper(A.order),
      shopper2: await stack.tokens.shopper(B.order),
      none: null,
      expired: expiring.token,
      badsig: await badlySignedToken(),
      unsigned: unsignedToken(),
    };
    const scope: Record<Caller, { store?: string; market?: string }> = {
      admin: {},
      courier: { market: A.market },
      courier2: { market: A.market },
      dispatcher: { market: A.market },
      dispatcher2: { market: KM2.market },
      store: { store: A.store },
      store2: { store: B.store },
      shopper: {},
      shopper2: {},
      none: {},
      expired: {},
      badsig: {},
      unsigned: {},
    };
    // `exp` is in whole seconds and checked against the gateway's clock.
    const wait = expiring.expiresAt + 1_100 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));

    const snapshot = async () => {
      const entries = await Promise.all(
        ACTORS.map(async (ref) => {
          const [type, id] = ref.split("/") as [string, string];
          return [ref, await stack.actors.state({ type, id })] as const;
        }),
      );
      return Object.fromEntries(entries);
    };
    return {
      stack,
      tokens,
      scope,
      snapshot,
      async seqs() {
        const all = await snapshot();
        return Object.fromEntries(Object.entries(all).map(([ref, { seq }]) => [ref, seq]));
      },
      stop: () => stack.stop(),
    };
  } catch (err) {
    await stack.stop();
    throw err;
  }
}
