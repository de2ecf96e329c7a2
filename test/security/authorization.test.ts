/**
 * The authorization matrix: every caller × every HTTP route of the gateway, every websocket
 * endpoint and what each caller may watch or send there, on a real `startStack()` with two
 * tenants (test/security/world.ts). Tenant A's things are the target of every request; the
 * `…2` callers are another tenant of the same role.
 *
 * Path parameters: the object ids (`:orderId`, `:id`, `:courierId`, `:vehicleId`) are always
 * tenant A's. The scope ids (`:storeId`, `:marketId`) are the caller's own when its token has
 * one, so `store2` asks `/v1/stores/s-2/orders/o-A/…` and `dispatcher2`
 * `/v1/markets/km2/orders/o-A/…`: reaching another tenant's order through one's own scope. The
 * plainer attempt, another tenant's scope in the path, is checked for every scoped route below
 * the table ("names another store or market").
 *
 * The route list comes from the gateway itself (its Hono routes) and from /openapi.json: a
 * route the table does not classify, or a row for a route that is gone, fails the test.
 */
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway } from "../../gateway/index.ts";
import { TestClient } from "../../gateway/test/helpers.ts";
import type { DownFrame } from "../../protocol/index.ts";
import { waitFor } from "../nats-helpers.ts";
import { A, B, CALLERS, KM2, PRINCIPALS, startWorld } from "./world.ts";
import type { Caller, World } from "./world.ts";

// ---------------------------------------------------------------------------------------------
// The HTTP matrix
//
//   200, 201, …          exactly that status
//   allow                (commands) past authorization: below 500, not 401, 403 or 404 (the
//                        gateway's "not in your market/store"); the state decides the rest,
//                        409 with any refusal code of a wrong state included
//   403                  403 `forbidden` (wrong role or wrong scope, refused by the gateway)
//   403 <code>           403 with that code (an actor's "not yours")
//   404 <code>, 409 <code>
//   401                  (no/bad token column) 401 `missing_token` without a token,
//                        `token_expired` for the expired one, `invalid_token` for the token
//                        signed with another secret and for the unsigned (`alg: none`) one
//   pub                  public: the same answer whoever calls, never 401/403, never 5xx
//
// Answers that may surprise, decided here:
// - store2 on its own path for tenant A's order: the store actor does not hold o-A and says
//   `unknown_order`, a 409, not a 403; the same answer as for an order that does not exist, so
//   it tells nothing. `cancel` and `returned` go to the order itself, which says
//   `not_own_order` (403).
// - courier2 answering an offer for o-A answers at its own courier actor, which has no such
//   offer: 409 `offer_not_found`, exactly what courier (whose offer was accepted long ago) gets.
// - dispatcher2 reaching o-A through its own market is 404 `unknown_order` (the order is not in
//   that market), a van of another market 403, a courier of another market 404.
// - createOrder and the store's order list for store2 are its own store's: allowed.
// - The expired token is an admin's (minted through /v1/tokens with a 1 s lifetime): it must
//   fail as `token_expired` before any role check.

const HTTP_MATRIX = `
route                                                      | admin | courier              | courier2                 | dispatcher | dispatcher2          | store             | store2             | shopper          | shopper2 | no/bad token
POST /v1/tokens                                            | 201   | 403                  | 403                      | 403        | 403                  | 403               | 403                | 403              | 403      | 401
POST /v1/orders/:id/tracking-token                         | 201   | 403                  | 403                      | 201        | 403                  | 201               | 403                | 403              | 403      | 401
GET /v1/orders/:id/track                                   | 200   | 403                  | 403                      | 200        | 403                  | 403               | 403                | 200              | 403      | 401
POST /v1/orders/:id/contact/reveal                         | allow | 403                  | 403                      | 403        | 403                  | 403               | 403                | 403              | 403      | 401
POST /v1/couriers/me/shift                                 | 403   | allow                | allow                    | 403        | 403                  | 403               | 403                | 403              | 403      | 401
POST /v1/stores/:storeId/orders                            | 201   | 403                  | 403                      | 403        | 403                  | 201               | 201                | 403              | 403      | 401
GET /v1/stores/:storeId/orders                             | 200   | 403                  | 403                      | 403        | 403                  | 200               | 200                | 403              | 403      | 401
GET /v1/stores/:storeId/orders/:orderId                    | 200   | 403                  | 403                      | 403        | 403                  | 200               | 404 unknown_order  | 403              | 403      | 401
POST /v1/stores/:storeId/orders/:orderId/accept            | allow | 403                  | 403                      | 403        | 403                  | allow             | 409 unknown_order  | 403              | 403      | 401
POST /v1/stores/:storeId/orders/:orderId/reject            | allow | 403                  | 403                      | 403        | 403                  | allow             | 409 unknown_order  | 403              | 403      | 401
POST /v1/stores/:storeId/orders/:orderId/preparing         | allow | 403                  | 403                      | 403        | 403                  | allow             | 409 unknown_order  | 403              | 403      | 401
POST /v1/stores/:storeId/orders/:orderId/ready             | allow | 403                  | 403                      | 403        | 403                  | allow             | 409 unknown_order  | 403              | 403      | 401
POST /v1/stores/:storeId/orders/:orderId/ready-at          | allow | 403                  | 403                      | 403        | 403                  | allow             | 409 unknown_order  | 403              | 403      | 401
POST /v1/stores/:storeId/orders/:orderId/problems          | allow | 403                  | 403                      | 403        | 403                  | allow             | 409 unknown_order  | 403              | 403      | 401
POST /v1/stores/:storeId/orders/:orderId/hand-off          | allow | 403                  | 403                      | 403        | 403                  | allow             | 409 unknown_order  | 403              | 403      | 401
POST /v1/stores/:storeId/orders/:orderId/cancel            | allow | 403                  | 403                      | 403        | 403                  | allow             | 403 not_own_order  | 403              | 403      | 401
POST /v1/stores/:storeId/orders/:orderId/returned          | allow | 403                  | 403                      | 403        | 403                  | allow             | 403 not_own_order  | 403              | 403      | 401
GET /v1/couriers/me                                        | 403   | 200                  | 200                      | 403        | 403                  | 403               | 403                | 403              | 403      | 401
GET /v1/couriers/me/orders/:orderId                        | 403   | 200                  | 403 not_assigned_courier | 403        | 403                  | 403               | 403                | 403              | 403      | 401
POST /v1/couriers/me/offers/:orderId/accept                | 403   | 409 offer_not_found  | 409 offer_not_found      | 403        | 403                  | 403               | 403                | 403              | 403      | 401
POST /v1/couriers/me/offers/:orderId/decline               | 403   | 409 offer_not_found  | 409 offer_not_found      | 403        | 403                  | 403               | 403                | 403              | 403      | 401
POST /v1/couriers/me/orders/:orderId/arrived-at-store      | 403   | allow                | 403 not_assigned_courier | 403        | 403                  | 403               | 403                | 403              | 403      | 401
POST /v1/couriers/me/orders/:orderId/arrived-at-customer   | 403   | allow                | 403 not_assigned_courier | 403        | 403                  | 403               | 403                | 403              | 403      | 401
POST /v1/couriers/me/orders/:orderId/photo                 | 403   | allow                | 403 not_assigned_courier | 403        | 403                  | 403               | 403                | 403              | 403      | 401
POST /v1/couriers/me/orders/:orderId/deliver               | 403   | allow                | 403 not_assigned_courier | 403        | 403                  | 403               | 403                | 403              | 403      | 401
POST /v1/couriers/me/orders/:orderId/fail                  | 403   | allow                | 403 not_assigned_courier | 403        | 403                  | 403               | 403                | 403              | 403      | 401
GET /v1/markets/:marketId                                  | 200   | 403                  | 403                      | 200        | 200                  | 403               | 403                | 403              | 403      | 401
POST /v1/markets/:marketId/orders/:orderId/reassign        | allow | 403                  | 403                      | allow      | 404 unknown_order    | 403               | 403                | 403              | 403      | 401
POST /v1/markets/:marketId/orders/:orderId/lock            | allow | 403                  | 403                      | allow      | 404 unknown_order    | 403               | 403                | 403              | 403      | 401
POST /v1/markets/:marketId/orders/:orderId/unlock          | allow | 403                  | 403                      | allow      | 404 unknown_order    | 403               | 403                | 403              | 403      | 401
POST /v1/markets/:marketId/orders/:orderId/hold            | allow | 403                  | 403                      | allow      | 404 unknown_order    | 403               | 403                | 403              | 403      | 401
POST /v1/markets/:marketId/orders/:orderId/release         | allow | 403                  | 403                      | allow      | 404 unknown_order    | 403               | 403                | 403              | 403      | 401
POST /v1/markets/:marketId/orders/:orderId/force-assign    | allow | 403                  | 403                      | allow      | 404 unknown_order    | 403               | 403                | 403              | 403      | 401
POST /v1/markets/:marketId/orders/:orderId/offer           | allow | 403                  | 403                      | allow      | 404 unknown_order    | 403               | 403                | 403              | 403      | 401
POST /v1/markets/:marketId/couriers/:courierId/stops       | allow | 403                  | 403                      | allow      | 404 unknown_courier  | 403               | 403                | 403              | 403      | 401
GET /v1/orders/:orderId/certificate                        | 404 not_certified | 403      | 403                      | 404 not_certified | 403           | 404 not_certified | 403                | 404 not_certified | 403     | 401
GET /v1/orders/:orderId/certificate.html                   | 404 not_certified | 403      | 403                      | 404 not_certified | 403           | 404 not_certified | 403                | 404 not_certified | 403     | 401
GET /v1/vehicles/:vehicleId/readings                       | 200   | 403                  | 403                      | 200        | 403                  | 403               | 403                | 403              | 403      | 401
GET /v1/audit                                              | 200   | 403                  | 403                      | 403        | 403                  | 403               | 403                | 403              | 403      | 401
POST /v1/markets/:marketId/waves                           | 400 invalid_body| 403                  | 403                      | 400 invalid_body| 400 invalid_body     | 403               | 403                | 403              | 403      | 401
GET /v1/markets/:marketId/waves/:waveId                    | 404 unknown_wave| 403                  | 403                      | 404 unknown_wave| 404 unknown_wave     | 403               | 403                | 403              | 403      | 401
POST /v1/markets/:marketId/waves/:waveId/moves             | 404 unknown_wave| 403                  | 403                      | 404 unknown_wave| 404 unknown_wave     | 403               | 403                | 403              | 403      | 401
POST /v1/markets/:marketId/waves/:waveId/locks             | 404 unknown_wave| 403                  | 403                      | 404 unknown_wave| 404 unknown_wave     | 403               | 403                | 403              | 403      | 401
POST /v1/markets/:marketId/waves/:waveId/replan            | 404 unknown_wave| 403                  | 403                      | 404 unknown_wave| 404 unknown_wave     | 403               | 403                | 403              | 403      | 401
POST /v1/waves/:waveId/points/:pickupPointId/arrivals      | 409 unknown_pickup_point| 403                  | 403                      | 409 unknown_pickup_point| 403                  | 409 unknown_pickup_point| 409 unknown_pickup_point| 403              | 403      | 401
POST /v1/waves/:waveId/orders/:orderId/collect             | 409 unknown_order| 403                  | 403                      | 409 unknown_order| 403                  | 409 unknown_order | 409 unknown_order  | 403              | 403      | 401
GET /v1/waves/:waveId/route                                | 403   | 404 unknown_wave     | 404 unknown_wave         | 403        | 403                  | 403               | 403                | 403              | 403      | 401
GET /healthz                                               | pub   | pub                  | pub                      | pub        | pub                  | pub               | pub                | pub              | pub      | pub
GET /readyz                                                | pub   | pub                  | pub                      | pub        | pub                  | pub               | pub                | pub              | pub      | pub
GET /metrics                                               | pub   | pub                  | pub                      | pub        | pub                  | pub               | pub                | pub              | pub      | pub
GET /.well-known/xianda-certificate-keys.json              | pub   | pub                  | pub                      | pub        | pub                  | pub               | pub                | pub              | pub      | pub
GET /openapi.json                                          | pub   | pub                  | pub                      | pub        | pub                  | pub               | pub                | pub              | pub      | pub
GET /docs                                                  | pub   | pub                  | pub                      | pub        | pub                  | pub               | pub                | pub              | pub      | pub
GET /docs/init.js                                          | pub   | pub                  | pub                      | pub        | pub                  | pub               | pub                | pub              | pub      | pub
GET /docs/:file                                            | pub   | pub                  | pub                      | pub        | pub                  | pub               | pub                | pub              | pub      | pub
GET /driver                                                | pub   | pub                  | pub                      | pub        | pub                  | pub               | pub                | pub              | pub      | pub
GET /driver/                                               | pub   | pub                  | pub                      | pub        | pub                  | pub               | pub                | pub              | pub      | pub
GET /driver/*                                              | pub   | pub                  | pub                      | pub        | pub                  | pub               | pub                | pub              | pub      | pub
GET /console                                               | pub   | pub                  | pub                      | pub        | pub                  | pub               | pub                | pub              | pub      | pub
GET /console/                                              | pub   | pub                  | pub                      | pub        | pub                  | pub               | pub                | pub              | pub      | pub
GET /console/*                                             | pub   | pub                  | pub                      | pub        | pub                  | pub               | pub                | pub              | pub      | pub
GET /t/*                                                   | pub   | pub                  | pub                      | pub        | pub                  | pub               | pub                | pub              | pub      | pub
GET /*                                                     | pub   | pub                  | pub                      | pub        | pub                  | pub               | pub                | pub              | pub      | pub
`;

/** Where a route's wildcard or file parameter points in this test. */
const CONCRETE: Readonly<Record<string, string>> = {
  "GET /docs/:file": "/docs/swagger-ui.css",
  "GET /driver/*": "/driver/no-such-asset.js",
  "GET /console/*": "/console/no-such-asset.js",
  "GET /t/*": "/t/some.tracking.token",
  "GET /*": "/no-such-asset.js",
};

/** Commands that would change tenant A's order for everyone after them: run last. */
const DESTRUCTIVE = new Set(["reject", "cancel", "reassign", "force-assign", "hold", "lock"]);

let shopOrders = 0;
const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 1, 2, 3]);

/** A valid body for every route that takes one (a 400 would hide the authorization answer). */
function bodyOf(route: string): { body?: string | Uint8Array; type?: string } {
  const json = (value: unknown) => ({ body: JSON.stringify(value), type: "application/json" });
  const action = route.split("/").at(-1)!;
  if (route === "POST /v1/tokens") {
    return json({ role: "courier", sub: "c-9", mkt: A.market, ttlSeconds: 60 });
  }
  if (route === "POST /v1/couriers/me/shift") return json({ on: true });
  if (route === "POST /v1/orders/:id/contact/reveal") return json({ reason: "matrix" });
  if (route === "POST /v1/stores/:storeId/orders") {
    shopOrders++;
    return json({
      shopOrderId: `matrix-${shopOrders}`,
      temperatureClass: "ambient",
      items: { summary: "1 × 鲜牛奶", count: 1 },
      amounts: { goodsFen: 1000, deliveryFeeFen: 500, discountFen: 0, totalFen: 1500 },
      dropoff: { kind: "door", location: { lat: 25.0475, lng: 102.7065 } },
      promisedAt: Date.now() + 3_600_000,
    });
  }
  if (route.includes("/v1/stores/")) {
    switch (action) {
      case "reject":
      case "cancel":
        return json({ reason: "shopper_request" });
      case "ready-at":
        return json({ readyAt: Date.now() + 1_800_000 });
      case "problems":
        return json({ kind: "other", note: "matrix" });
      case "hand-off":
        return json({ pickupCode: "WRONG1" });
      default:
        return json({});
    }
  }
  if (route.includes("/v1/couriers/me/")) {
    switch (action) {
      case "decline":
        return json({ reason: "busy" });
      case "photo":
        return { body: PNG, type: "image/png" };
      case "deliver":
        return json({ pin: "0000" });
      case "fail":
        return json({ reason: "no_answer" });
      default:
        return json({});
    }
  }
  if (route.includes("/waves")) {
    switch (action) {
      case "moves":
        return json({ planVersion: 1, fromVehicleId: "v-a", stopIndex: 0, toVehicleId: "v-b" });
      case "locks":
        return json({ vehicleId: "v-a", locked: true });
      case "arrivals":
        return json({ vehicleId: "v-a" });
      case "collect":
        return json({ pickupCode: "WRONG1" });
      case "replan":
        return json({});
      default:
        return json({ matrix: true }); // opening a wave: refused as a body, after authorization
    }
  }
  if (route.includes("/v1/markets/")) {
    if (action === "stops") {
      return json({
        reason: "matrix",
        stops: [
          { orderId: A.order, kind: "pickup" },
          { orderId: A.order, kind: "dropoff" },
        ],
      });
    }
    if (action === "force-assign" || action === "offer" || action === "reassign") {
      return json({ reason: "matrix", courierId: A.courier });
    }
    return json({ reason: "matrix" });
  }
  return {};
}

interface Row {
  readonly route: string;
  readonly expected: Readonly<Record<Caller, string>>;
}

function parseMatrix(text: string): Row[] {
  const lines = text
    .trim()
    .split("\n")
    .map((l) => l.split("|").map((cell) => cell.trim()));
  const [header, ...rows] = lines;
  const columns = header!.slice(1);
  expect(columns).toEqual([...PRINCIPALS, "no/bad token"]);
  return rows.map((cells) => {
    expect(cells.length, cells[0]).toBe(columns.length + 1);
    const expected = {} as Record<Caller, string>;
    PRINCIPALS.forEach((caller, i) => (expected[caller] = cells[i + 1]!));
    for (const caller of ["none", "expired", "badsig", "unsigned"] as const) {
      expected[caller] = cells[columns.length]!;
    }
    return { route: cells[0]!.replace(/\s+/g, " "), expected };
  });
}

const ROWS = parseMatrix(HTTP_MATRIX);
const TOKEN_CODE: Partial<Record<Caller, string>> = {
  none: "missing_token",
  expired: "token_expired",
  badsig: "invalid_token",
  unsigned: "invalid_token",
};

let world: World;
let served: Set<string>;

/** The path a caller asks for a route (see the file comment). */
function pathFor(route: string, caller: Caller): string {
  const concrete = CONCRETE[route];
  const path = concrete ?? route.slice(route.indexOf(" ") + 1);
  const scope = world.scope[caller];
  return (
    path
      .replace(":storeId", scope.store ?? A.store)
      .replace(":marketId", scope.market ?? A.market)
      .replace(":orderId", A.order)
      .replace(":id", A.order)
      .replace(":courierId", A.courier)
      .replace(":vehicleId", A.vehicle)
      // No wave is open in this world: a well-formed id of tenant A's market, a point it does not
      // have. Who passes authorization then hears the wave's own answer (unknown wave).
      .replace(":waveId", `${A.market}-20261122-matrix`)
      .replace(":pickupPointId", "pp-matrix")
  );
}

interface Answer {
  status: number;
  code: string | null;
  text: string;
}

async function ask(route: string, caller: Caller, path = pathFor(route, caller)): Promise<Answer> {
  const method = route.slice(0, route.indexOf(" "));
  const token = world.tokens[caller];
  const { body, type } = method === "POST" ? bodyOf(route) : {};
  const res = await fetch(`${world.stack.url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(type ? { "content-type": type } : {}),
    },
    ...(body !== undefined ? { body } : {}),
  });
  const text = await res.text();
  let code: string | null = null;
  if (res.status >= 400 && (res.headers.get("content-type") ?? "").includes("json")) {
    code = (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? null;
  }
  return { status: res.status, code, text: text.slice(0, 300) };
}

/** Why `answer` is not what `expected` says, or null when it is. */
function mismatch(expected: string, caller: Caller, answer: Answer): string | null {
  const { status, code } = answer;
  const got = `${status} ${code ?? ""}`.trim();
  if (expected === "allow") {
    const ok = status < 500 && status !== 401 && status !== 403 && status !== 404;
    return ok ? null : `expected allow, got ${got}`;
  }
  if (expected === "401") {
    return status === 401 && code === TOKEN_CODE[caller]
      ? null
      : `expected 401 ${TOKEN_CODE[caller]}, got ${got}`;
  }
  const [wantStatus, wantCode] = expected.split(" ");
  if (String(status) !== wantStatus) return `expected ${expected}, got ${got}`;
  if (wantStatus === "403" && wantCode === undefined && code !== "forbidden") {
    return `expected 403 forbidden, got ${got}`;
  }
  if (wantCode !== undefined && code !== wantCode) return `expected ${expected}, got ${got}`;
  return null;
}

const isCommand = (row: Row, caller: Caller) =>
  row.route.startsWith("POST ") && /^(allow|20\d)$/.test(row.expected[caller]);

beforeAll(async () => {
  world = await startWorld();
  // The routes the gateway serves, from a gateway built as the stack's is (same apps mounted).
  const staticApp = { html: "<html></html>", assets: {} };
  const probe = createGateway({
    nc: world.stack.nc,
    topology: world.stack.topology,
    actors: world.stack.actors,
    auth: { secret: "route-listing-only-0123456789-abcdefghij" },
    log: pino({ level: "silent" }),
    apps: { driver: staticApp, console: staticApp, tracking: staticApp },
  });
  served = new Set(
    probe.app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`),
  );
  await probe.close();
}, 90_000);

afterAll(async () => {
  await world?.stop();
});

describe("the authorization matrix over HTTP", () => {
  it("classifies every route the gateway serves and every route /openapi.json documents", async () => {
    const classified = new Set(ROWS.map((r) => r.route));
    expect(classified.size, "a route is in the table twice").toBe(ROWS.length);
    const doc = (await (await fetch(`${world.stack.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item).map(
        (method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ":$1")}`,
      ),
    );
    expect(documented.length).toBeGreaterThan(30);
    expect(
      [...served, ...documented].filter((r) => !classified.has(r)),
      "routes the matrix does not classify",
    ).toEqual([]);
    expect(
      [...classified].filter((r) => !served.has(r)),
      "rows for routes the gateway does not serve",
    ).toEqual([]);
  });

  it("refuses or reads as the table says, and what it refuses changes nothing", async () => {
    const failures: string[] = [];
    let cells = 0;
    const publicAnswers = new Map<string, Map<Caller, number>>();
    const run = async (row: Row, caller: Caller) => {
      const expected = row.expected[caller];
      const answer = await ask(row.route, caller);
      cells++;
      if (expected === "pub") {
        const answers = publicAnswers.get(row.route) ?? new Map<Caller, number>();
        publicAnswers.set(row.route, answers.set(caller, answer.status));
        if (answer.status >= 500 || answer.status === 401 || answer.status === 403) {
          failures.push(`${row.route} × ${caller}: public route answered ${answer.status}`);
        }
        return;
      }
      const why = mismatch(expected, caller, answer);
      if (why) failures.push(`${row.route} × ${caller}: ${why} ${answer.text}`);
    };
    // Reads, and what the gateway refuses itself: no command reaches any actor.
    const atGateway = (row: Row, caller: Caller) =>
      row.route.startsWith("GET ") || /^(401|403|pub)$/.test(row.expected[caller]);
    const cellsOf = (pick: (row: Row, caller: Caller) => boolean) =>
      ROWS.flatMap((row) =>
        CALLERS.filter((caller) => !isCommand(row, caller) && pick(row, caller)).map(
          (caller) => [row, caller] as const,
        ),
      );

    const before = await world.snapshot();
    for (const [row, caller] of cellsOf(atGateway)) await run(row, caller);
    // Not one actor took a command.
    expect(await world.snapshot()).toEqual(before);

    // Refused by the actor the command went to: it took the command (its seq moves) and
    // changed nothing (its view stays).
    const refused = cellsOf((row, caller) => !atGateway(row, caller));
    expect(refused.length).toBeGreaterThan(20);
    for (const [row, caller] of refused) await run(row, caller);
    const after = await world.snapshot();
    for (const ref of Object.keys(before)) {
      expect(after[ref]!.view, `${ref} changed`).toEqual(before[ref]!.view);
    }

    for (const [route, answers] of publicAnswers) {
      if (new Set(answers.values()).size !== 1) {
        failures.push(`${route}: answers differ by caller ${JSON.stringify([...answers])}`);
      }
    }
    expect(failures).toEqual([]);
    expect(cells).toBeGreaterThan(500);
  });

  it("refuses a store or dispatcher token on every route that names another store or market", async () => {
    const failures: string[] = [];
    const scoped = ROWS.filter((r) => /:storeId|:marketId/.test(r.route));
    expect(scoped.length).toBeGreaterThan(20);
    const before = await world.seqs();
    for (const row of scoped) {
      const caller: Caller = row.route.includes(":storeId") ? "store2" : "dispatcher2";
      // Tenant A's own path, with the other tenant's token.
      const path = pathFor(row.route, "admin");
      const answer = await ask(row.route, caller, path);
      if (answer.status !== 403 || answer.code !== "forbidden") {
        failures.push(`${row.route} × ${caller} on ${path}: ${answer.status} ${answer.code}`);
      }
    }
    expect(failures).toEqual([]);
    expect(await world.seqs()).toEqual(before);
  });

  it("takes the printable certificate's ?token= as it takes the header", async () => {
    const row = ROWS.find((r) => r.route === "GET /v1/orders/:orderId/certificate.html")!;
    const failures: string[] = [];
    for (const caller of CALLERS) {
      const token = world.tokens[caller];
      const res = await fetch(
        `${world.stack.url}/v1/orders/${A.order}/certificate.html${token ? `?token=${encodeURIComponent(token)}` : ""}`,
      );
      const text = await res.text();
      const code = res.status >= 400 ? (JSON.parse(text).error?.code as string) : null;
      const why = mismatch(row.expected[caller], caller, { status: res.status, code, text });
      if (why) failures.push(`${caller}: ${why}`);
    }
    expect(failures).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Websockets

const wsUrl = (path: string, caller: Caller) => {
  const token = world.tokens[caller];
  return `${world.stack.url.replace("http", "ws")}${path}${token ? `?token=${encodeURIComponent(token)}` : ""}`;
};

/** welcome, or `<close code> <error code>`. */
async function connect(path: string, caller: Caller): Promise<{ client: TestClient; got: string }> {
  const client = new TestClient(wsUrl(path, caller));
  await client.opened;
  const got = await client.until(`welcome or close on ${path}`, () => {
    if (client.of("welcome").length > 0) return "welcome";
    if (!client.closed) return null;
    const error = client.of("error")[0];
    return `${client.closed.code} ${error?.code ?? "-"}`;
  });
  return { client, got };
}

const WS_CONNECT = `
endpoint    | admin    | courier | courier2 | dispatcher | dispatcher2 | store    | store2   | shopper  | shopper2 | no/bad token
/ws/driver  | 4003     | welcome | welcome  | 4003       | 4003        | 4003     | 4003     | 4003     | 4003     | 4001
/ws/live    | welcome  | welcome | welcome  | welcome    | welcome     | welcome  | welcome  | welcome  | welcome  | 4001
`;

/**
 * What each caller may watch on /ws/live: `ok` (subscribed) or the error frame's code. A
 * courier watches its own channel and its orders', not its van's (the driver app has no use
 * for it); a van belongs to its market's dispatchers.
 */
const LIVE_SUBSCRIBE = `
channel        | admin | courier   | courier2  | dispatcher | dispatcher2 | store     | store2    | shopper   | shopper2
order:o-A      | ok    | ok        | forbidden | ok         | forbidden   | ok        | forbidden | ok        | forbidden
order:o-B      | ok    | forbidden | ok        | ok         | forbidden   | forbidden | ok        | forbidden | ok
order:o-C      | ok    | forbidden | forbidden | forbidden  | ok          | forbidden | forbidden | forbidden | forbidden
order:o-nope   | ok    | forbidden | forbidden | forbidden  | forbidden   | forbidden | forbidden | forbidden | forbidden
market:km      | ok    | forbidden | forbidden | ok         | forbidden   | forbidden | forbidden | forbidden | forbidden
market:km2     | ok    | forbidden | forbidden | forbidden  | ok          | forbidden | forbidden | forbidden | forbidden
courier:c-1    | ok    | ok        | forbidden | ok         | forbidden   | forbidden | forbidden | forbidden | forbidden
courier:c-2    | ok    | forbidden | ok        | ok         | forbidden   | forbidden | forbidden | forbidden | forbidden
courier:c-3    | ok    | forbidden | forbidden | forbidden  | ok          | forbidden | forbidden | forbidden | forbidden
vehicle:v-1    | ok    | forbidden | forbidden | ok         | forbidden   | forbidden | forbidden | forbidden | forbidden
vehicle:v-2    | ok    | forbidden | forbidden | forbidden  | ok          | forbidden | forbidden | forbidden | forbidden
`;

function parseTable(text: string, callers: readonly string[]): Map<string, Map<string, string>> {
  const [header, ...rows] = text
    .trim()
    .split("\n")
    .map((l) => l.split("|").map((c) => c.trim()));
  expect(header!.slice(1)).toEqual(callers);
  return new Map(
    rows.map((cells) => [cells[0]!, new Map(callers.map((c, i) => [c, cells[i + 1]!]))]),
  );
}

describe("the authorization matrix over websockets", () => {
  it("lets each caller connect to each endpoint as the table says", async () => {
    const table = parseTable(WS_CONNECT, [...PRINCIPALS, "no/bad token"]);
    const failures: string[] = [];
    for (const [endpoint, row] of table) {
      for (const caller of CALLERS) {
        const expected = row.get(caller) ?? row.get("no/bad token")!;
        const { client, got } = await connect(endpoint, caller);
        client.close();
        const want =
          expected === "welcome"
            ? "welcome"
            : expected === "4001"
              ? `4001 ${TOKEN_CODE[caller]}`
              : `4003 forbidden`;
        if (got !== want) failures.push(`${endpoint} × ${caller}: expected ${want}, got ${got}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it("lets each caller watch on /ws/live what the table says, and answers ping and unsubscribe", async () => {
    const table = parseTable(LIVE_SUBSCRIBE, PRINCIPALS);
    const failures: string[] = [];
    for (const caller of PRINCIPALS) {
      const { client, got } = await connect("/ws/live", caller);
      expect(got, caller).toBe("welcome");
      for (const [channel, row] of table) {
        client.send({ type: "subscribe", channel });
        const answer = await client.until(`an answer to ${channel}`, () =>
          client.frames.find(
            (f): f is Extract<DownFrame, { type: "subscribed" | "error" }> =>
              (f.type === "subscribed" && f.channel === channel) ||
              (f.type === "error" && f.ref === channel),
          ),
        );
        const outcome = answer.type === "subscribed" ? "ok" : answer.code;
        if (outcome !== row.get(caller)) {
          failures.push(`${channel} × ${caller}: expected ${row.get(caller)}, got ${outcome}`);
        }
        if (answer.type === "error") expect(answer.message.length).toBeGreaterThan(0);
      }
      client.send({ type: "unsubscribe", channel: `order:${A.order}` });
      client.send({ type: "ping", id: `p-${caller}` });
      await client.next("pong", (f) => f.id === `p-${caller}`);
      client.close();
    }
    expect(failures).toEqual([]);
  });

  it("takes a courier's own fixes and readings, never another courier's, on /ws/driver", async () => {
    const own = await connect("/ws/driver", "courier");
    const other = await connect("/ws/driver", "courier2");
    const now = Date.now();
    const fix = (at: number) => ({ lat: 25.04, lng: 102.71, at, accuracy: 8 });
    for (const { client } of [own, other]) {
      client.send({ type: "location", fix: fix(now) });
      client.send({ type: "locations", fixes: [fix(now + 1000), fix(now + 2000)] });
      client.send({ type: "ping", id: "p" });
      await client.next("pong", (f) => f.id === "p");
      const acks = await client.until("both location frames acknowledged", () => {
        const acked = client.of("location_ack").reduce((n, a) => n + a.accepted, 0);
        return acked === 3 ? acked : null;
      });
      expect(acks).toBe(3);
    }
    // A frame cannot speak for a courier: naming one (any, even itself) is refused.
    for (const [{ client }, courierId] of [
      [own, B.courier],
      [own, A.courier],
      [other, A.courier],
    ] as const) {
      const before = client.of("error").length;
      client.send({ type: "location", courierId, fix: fix(now + 3000) });
      const error = await client.until("the refusal", () => client.of("error")[before]);
      expect(error).toMatchObject({ code: "invalid_frame", ref: "location" });
      expect(error.message).toContain("courierId");
    }

    // Readings for a van: the gateway stores them as evidence with the courier named; the van
    // takes them from its own driver only. courier2 and the other market's van first, then the
    // driver's own: once the van shows the driver's reading, it has judged the others before it.
    const reading = (celsius: number, at: number) => ({
      type: "temperature",
      vehicleId: A.vehicle,
      readings: [{ compartmentId: "k-chill", celsius, at }],
    });
    other.client.send({ ...reading(33.3, now - 2000), id: "t-other" });
    await other.client.next("temperature_ack", (f) => f.id === "t-other");
    own.client.send({ ...reading(2.5, now - 2000), vehicleId: KM2.vehicle, id: "t-km2" });
    await own.client.next("temperature_ack", (f) => f.id === "t-km2");
    own.client.send({ ...reading(3.5, now - 1000), id: "t-own" });
    await own.client.next("temperature_ack", (f) => f.id === "t-own");
    type Van = { compartments: { id: string; latest: { celsius: number } | null }[] };
    const latest = async (id: string) =>
      (await world.stack.actors.state<Van>({ type: "vehicle", id })).view.compartments[0]?.latest;
    await waitFor("the van to take its driver's reading", async () => {
      return (await latest(A.vehicle))?.celsius === 3.5;
    });
    expect(await latest(KM2.vehicle)).toBeNull();
    own.client.close();
    other.client.close();
  });
});

// ---------------------------------------------------------------------------------------------
// The allowed commands last: they change tenant A's order.

describe("the authorization matrix: allowed commands", () => {
  it("lets the owner and the admin past authorization on every command route", async () => {
    const failures: string[] = [];
    const cells = ROWS.flatMap((row) =>
      CALLERS.filter((caller) => isCommand(row, caller)).map((caller) => ({ row, caller })),
    );
    const last = (r: Row) => DESTRUCTIVE.has(r.route.split("/").at(-1)!);
    cells.sort((a, b) => Number(last(a.row)) - Number(last(b.row)));
    expect(cells.length).toBeGreaterThan(40);
    for (const { row, caller } of cells) {
      const answer = await ask(row.route, caller);
      const why = mismatch(row.expected[caller], caller, answer);
      if (why) failures.push(`${row.route} × ${caller}: ${why} ${answer.text}`);
    }
    expect(failures).toEqual([]);
  });
});
