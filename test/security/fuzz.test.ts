/**
 * Bad input at the gateway's edges: every HTTP route that takes a body and every websocket frame
 * type, fed random, truncated, oversized, mistyped and oddly encoded input, on a real
 * `startStack()` (test/security/world.ts).
 *
 * Each case is judged by an oracle that knows the route's schema (the OpenAPI registry's) and
 * the documented limits: input the gateway must refuse gets a clear 4xx `{error:{code,message}}`
 * (400 `invalid_json`/`invalid_body`, 413 `too_large`, 415, …) or, on a websocket, exactly one
 * `error` frame with a reason; only input the schema takes may succeed. Whatever happens,
 * nothing answers 5xx, nothing logs an error, nothing rejects unhandled.
 *
 * No state change from refused input: refused input is aimed at tenant A's things (the
 * "watched" actors, whose `seq` is compared before and after each batch: not one command may
 * reach them); input the schema takes goes to the other market's things (the "sandbox"), where
 * it may do what it says.
 *
 *   FUZZ_SEED=<n> npx vitest run test/security/fuzz.test.ts     reproduce a run (printed on failure)
 *   FUZZ_CASES=<n>                                              cases per run (default 100,000)
 *
 * Most HTTP cases go through `app.request()` of a gateway on the stack's NATS connection (in
 * process: 100,000 fit in the time); a sample goes over its real socket and over the stack's.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT } from "jose";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import type { z } from "zod";
import { publicJwks } from "../../coldchain/index.ts";
import { createFileProofStore, createGateway, signToken } from "../../gateway/index.ts";
import type { Gateway } from "../../gateway/index.ts";
import { API_ROUTES } from "../../gateway/http/documented.ts";
import type { RouteSpec } from "../../gateway/http/spec.ts";
import { seededRandom } from "../../geo/index.ts";
import { newKeyringEntry, parseKeyring } from "../../pii/index.ts";
import { DownFrame, DriverUpFrame, LiveUpFrame } from "../../protocol/index.ts";
import type { TokenClaims } from "../../protocol/index.ts";
import { waitFor } from "../nats-helpers.ts";
import { A, KM2, startWorld } from "./world.ts";
import type { World } from "./world.ts";

const SEED = parseSeed(process.env.FUZZ_SEED) ?? 0x5eed_7001;
const TOTAL = Number(process.env.FUZZ_CASES ?? 100_000);
const REPRO = `FUZZ_SEED=${SEED} FUZZ_CASES=${TOTAL}`;

function parseSeed(text: string | undefined): number | null {
  if (!text) return null;
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new TypeError(`FUZZ_SEED must be an integer, not ${text}`);
  return n >>> 0;
}

/**
 * The share of the cases each part of the suite runs. An HTTP case costs the gateway a token
 * check (WebCrypto HMAC) and a request object; a frame costs far less: the mix keeps a run of
 * 100,000 within a minute on two cores.
 */
const SHARE = {
  bodies: 0.4,
  requests: 0.03, // query strings, path ids, methods, Authorization headers
  socket: 0.02, // bodies over the real sockets
  driver: 0.36,
  live: 0.19,
};

const SECRET = "fuzz-secret-not-for-production-0123456789";
const MAX_PHOTO = 16 * 1024;
const MAX_BODY = 64 * 1024; // the gateway's default
const MAX_FRAME = 16 * 1024; // the gateway's default
/** An order the courier has picked up, so photo uploads get as far as their body. */
const PHOTO_ORDER = "o-P";
/** Schema-valid input per route that may reach the sandbox's actors; the rest is made invalid. */
const VALID_PER_ROUTE = 40;

// ---------------------------------------------------------------------------------------------
// A seeded generator of awkward values

class Rng {
  readonly #next: () => number;
  constructor(seed: number) {
    this.#next = seededRandom(seed);
  }
  float(): number {
    return this.#next();
  }
  int(n: number): number {
    return Math.floor(this.#next() * n);
  }
  chance(p: number): boolean {
    return this.#next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

/** A JSON literal written as it is (`1e999`, `-0`, `NaN`: not all of them JSON). */
class Raw {
  constructor(readonly text: string) {}
}

function serialize(value: unknown): string {
  if (value instanceof Raw) return value.text;
  if (Array.isArray(value)) return `[${value.map(serialize).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${serialize(v)}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** Sets an own property, `__proto__` included. */
function put(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

const STRINGS: readonly string[] = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\u0000".repeat(64),
  "🚚📦🥬",
  "👨‍👩‍👧‍👦",
  "鲜达 🍓 草莓",
  "مرحبا بالعالم",
  "שלום",
  "\u202Eevil\u202C",
  "\u200B\u200C\u200D\uFEFF",
  "e\u0301".repeat(40),
  "\uD800",
  "\uDFFF\uD800",
  "\uFFFF\uFFFE",
  "𝕏𝕐",
  "null",
  "undefined",
  "true",
  "NaN",
  "-NaN",
  "Infinity",
  "-Infinity",
  "-1",
  "-0",
  "0x1f",
  "1e309",
  "9007199254740993",
  "__proto__",
  "constructor",
  "toString",
  "<script>alert(1)</script>",
  "' OR 1=1 --",
  "../../../etc/passwd",
  "%00%2e%2e%2f",
  "\\u0000",
  '"',
  "\\",
  "\n\r\t\b\f",
  "${jndi:ldap://x/a}",
  "{{7*7}}",
  "a".repeat(65),
  "a".repeat(129),
  "x".repeat(501),
  "鲜".repeat(300),
  "c.1",
  "c*",
  "c >",
  "ZZ99",
  "1234",
  "sha256:" + "0".repeat(64),
];

const NUMBERS: readonly unknown[] = [
  0,
  -0,
  1,
  -1,
  0.5,
  -0.5,
  42,
  1e308,
  -1e308,
  1e-320,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  Number.MAX_SAFE_INTEGER,
  Number.MIN_SAFE_INTEGER,
  1e21,
  180.0000001,
  -90.5,
  new Raw("1e999"),
  new Raw("-1e999"),
  new Raw("-0"),
  new Raw("123456789012345678901234567890"),
  new Raw("0.1e-999"),
  new Raw("NaN"),
  new Raw("Infinity"),
  new Raw("0x10"),
  new Raw("01"),
  new Raw("1."),
  new Raw(".5"),
  new Raw("+1"),
];

const KEYS: readonly string[] = [
  "__proto__",
  "constructor",
  "prototype",
  "courierId",
  "role",
  "sub",
  "storeId",
  "marketId",
  "by",
  "id",
  "type",
  "",
  "🔑",
  "a".repeat(200),
];

function randomString(r: Rng): string {
  const length = r.int(r.chance(0.1) ? 300 : 24);
  let s = "";
  for (let i = 0; i < length; i++) {
    switch (r.int(7)) {
      case 0:
        s += String.fromCharCode(r.int(32)); // controls, NUL included
        break;
      case 1:
        s += String.fromCharCode(0x4e00 + r.int(0x5000)); // CJK
        break;
      case 2:
        s += String.fromCodePoint(0x1f300 + r.int(0x300)); // emoji
        break;
      case 3:
        s += String.fromCharCode(0x0590 + r.int(0x200)); // Hebrew, Arabic
        break;
      case 4:
        s += String.fromCharCode(0xd800 + r.int(0x800)); // a lone surrogate
        break;
      default:
        s += String.fromCharCode(32 + r.int(95));
    }
  }
  return s;
}

function randomValue(r: Rng, depth = 0): unknown {
  switch (r.int(depth > 2 ? 5 : 8)) {
    case 0:
      return null;
    case 1:
      return r.chance(0.5);
    case 2:
      return r.pick(NUMBERS);
    case 3:
      return r.pick(STRINGS);
    case 4:
      return randomString(r);
    case 5:
      return Array.from({ length: r.int(5) }, () => randomValue(r, depth + 1));
    default: {
      const object: Record<string, unknown> = {};
      for (let i = r.int(5); i > 0; i--) {
        put(object, r.chance(0.5) ? r.pick(KEYS) : randomString(r), randomValue(r, depth + 1));
      }
      return object;
    }
  }
}

/** A value of another JSON type than `value`. */
function otherType(r: Rng, value: unknown): unknown {
  const kinds = ["null", "boolean", "number", "string", "array", "object"] as const;
  const kindOf = (v: unknown) =>
    v === null ? "null" : Array.isArray(v) ? "array" : (typeof v as (typeof kinds)[number]);
  for (;;) {
    const kind = r.pick(kinds);
    if (kind === kindOf(value)) continue;
    switch (kind) {
      case "null":
        return null;
      case "boolean":
        return r.chance(0.5);
      case "number":
        return r.pick(NUMBERS);
      case "string":
        return r.pick(STRINGS);
      case "array":
        return [value];
      case "object":
        return { value };
    }
  }
}

type Path = (string | number)[];

function pathsOf(value: unknown, path: Path = [], out: Path[] = []): Path[] {
  out.push(path);
  if (Array.isArray(value)) value.forEach((v, i) => pathsOf(v, [...path, i], out));
  else if (value !== null && typeof value === "object" && !(value instanceof Raw)) {
    for (const [k, v] of Object.entries(value)) pathsOf(v, [...path, k], out);
  }
  return out;
}

function getAt(value: unknown, path: Path): unknown {
  return path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)?.[k], value);
}

/** `root` with the node at `path` replaced (root itself when the path is empty). */
function setAt(root: unknown, path: Path, next: unknown): unknown {
  if (path.length === 0) return next;
  const parent = getAt(root, path.slice(0, -1)) as Record<string | number, unknown>;
  const key = path.at(-1)!;
  if (Array.isArray(parent)) parent[key as number] = next;
  else put(parent, String(key), next);
  return root;
}

function deleteAt(root: unknown, path: Path): unknown {
  if (path.length === 0) return undefined;
  const parent = getAt(root, path.slice(0, -1)) as Record<string | number, unknown>;
  if (Array.isArray(parent)) parent.splice(path.at(-1) as number, 1);
  else delete parent[path.at(-1)!];
  return root;
}

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** One change to a valid value: a wrong type, an odd string or number, a key less or more. */
function mutate(r: Rng, root: unknown): unknown {
  const paths = pathsOf(root);
  const path = r.pick(paths);
  const node = getAt(root, path);
  switch (r.int(8)) {
    case 0:
      return setAt(root, path, otherType(r, node));
    case 1:
      return setAt(root, path, r.chance(0.5) ? r.pick(STRINGS) : randomString(r));
    case 2:
      return setAt(root, path, r.pick(NUMBERS));
    case 3:
      return deleteAt(root, path);
    case 4: {
      const objects = paths.filter((p) => {
        const v = getAt(root, p);
        return v !== null && typeof v === "object" && !Array.isArray(v);
      });
      if (objects.length === 0) return setAt(root, path, randomValue(r));
      const target = getAt(root, r.pick(objects)) as Record<string, unknown>;
      put(target, r.pick(KEYS), randomValue(r, 2));
      return root;
    }
    case 5:
      return setAt(root, path, randomValue(r));
    case 6:
      return setAt(root, path, null);
    default:
      return typeof node === "string"
        ? setAt(root, path, node + r.pick(STRINGS))
        : setAt(root, path, r.pick(NUMBERS));
  }
}

function deepNesting(r: Rng): string {
  const depth = 500 + r.int(10_000);
  return r.chance(0.5)
    ? "[".repeat(depth) + "]".repeat(depth)
    : '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
}

function randomBytes(r: Rng, n: number): Uint8Array {
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = r.int(256);
  return bytes;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const BIG = "x".repeat(MAX_BODY + 16);

/** A body for a route whose valid sample is `sample`: mostly broken, sometimes not. */
function fuzzBody(r: Rng, sample: unknown): string | Uint8Array {
  const text = serialize(sample);
  switch (r.int(20)) {
    case 0:
    case 1:
      return serialize(randomValue(r));
    case 2:
    case 3:
      return text.slice(0, r.int(text.length));
    case 4: {
      // Text-level damage: a BOM, trailing garbage, comments, single quotes, a doubled key.
      const at = r.int(text.length);
      const insert = r.pick([
        "\uFEFF",
        ",",
        "}",
        "/* c */",
        "'",
        "\u0000",
        '"reason":"other",',
        '"__proto__":{"role":"admin"},',
        "\n\t ",
      ]);
      return r.chance(0.3) ? insert + text : text.slice(0, at) + insert + text.slice(at);
    }
    case 5: {
      // The same key twice: JSON.parse keeps the last.
      const paths = pathsOf(sample).filter((p) => p.length === 1);
      if (paths.length === 0) return text;
      const key = String(r.pick(paths)[0]);
      return `{${JSON.stringify(key)}:${serialize(randomValue(r, 2))},${text.slice(1)}`;
    }
    case 6:
      if (r.chance(0.1)) return deepNesting(r);
      return randomBytes(r, r.int(64));
    case 7:
      return r.pick(["", " ", "\n", "null", "[]", "{}", "0", '""', "true", "{", "}"]);
    case 8:
      if (r.chance(0.15)) {
        // Over the limit: a valid body with one field grown past it, or plain bytes.
        return r.chance(0.5) ? BIG : serialize({ ...(sample as object), note: BIG });
      }
      return serialize(mutate(r, clone(sample)));
    default: {
      let value = clone(sample);
      for (let i = 1 + r.int(3); i > 0 && value !== undefined; i--) value = mutate(r, value);
      return serialize(value ?? null);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The routes, their valid samples and the oracle

/** Who asks, and for which lane's things (see the file comment). */
type Lane = "watched" | "sandbox";

const IDS: Record<Lane, { store: string; market: string; order: string; courier: string }> = {
  watched: { store: A.store, market: A.market, order: A.order, courier: A.courier },
  sandbox: { store: KM2.store, market: KM2.market, order: KM2.order, courier: KM2.courier },
};

let createdOrders = 0;

/** A valid body per route that takes one (sandbox ids), keyed by operationId. */
function sample(operationId: string): unknown {
  const now = Date.now();
  const reason = { reason: "fuzzing" };
  const c = KM2.courier;
  switch (operationId) {
    case "revealShopperContact":
      return reason;
    case "mintToken":
      return { role: "courier", sub: "c-fz", mkt: KM2.market, ttlSeconds: 60 };
    case "setShift":
      return { on: true, vehicle: { mode: "ebike" }, capacity: { maxOrders: 3 } };
    case "createOrder":
      return {
        shopOrderId: `fz-${SEED}-${++createdOrders}`,
        shopperId: "u-fz",
        temperatureClass: "ambient",
        items: { summary: "2 × 草莓 500g", count: 2 },
        amounts: { goodsFen: 5600, deliveryFeeFen: 500, discountFen: 0, totalFen: 6100 },
        dropoff: { kind: "door", location: { lat: 25.0475, lng: 102.7065 } },
        promisedAt: now + 3_600_000,
        pickupCode: "ABCD12",
        deliveryPin: "4321",
        coord: "wgs84",
        contact: {
          name: "张三",
          phone: "13812341234",
          address: "云南省昆明市五华区翠湖南路12号",
          doorNote: "放门口",
        },
      };
    case "acceptOrder":
      return { readyAt: now + 600_000 };
    case "rejectOrder":
    case "cancelOrder":
      return { reason: "out_of_stock", note: "fuzz" };
    case "startPreparing":
    case "markReady":
    case "acceptOffer":
    case "arrivedAtStore":
    case "arrivedAtCustomer":
      return {};
    case "setReadyAt":
      return { readyAt: now + 1_200_000 };
    case "reportProblem":
      return { kind: "delay", note: "fuzz", delayMinutes: 5 };
    case "handOff":
      return { pickupCode: "ABCD12", courierId: c };
    case "markReturned":
      return { note: "fuzz" };
    case "declineOffer":
      return { reason: "busy", note: "fuzz" };
    case "deliver":
      return { pin: "1234" };
    case "failDelivery":
      return { reason: "no_answer", note: "fuzz" };
    case "reassignOrder":
    case "lockOrder":
      return { ...reason, courierId: c };
    case "unlockOrder":
    case "holdOrder":
    case "releaseOrder":
      return reason;
    case "forceAssignOrder":
    case "offerOrder":
      return { courierId: c, ...reason };
    case "reorderStops":
      return {
        ...reason,
        stops: [
          { orderId: KM2.order, kind: "pickup" },
          { orderId: KM2.order, kind: "dropoff" },
        ],
      };
    case "openWave":
      return {
        day: "20261123",
        slot: "fz",
        cutoffAt: now + 3_600_000,
        departAt: now + 7_200_000,
        horizonAt: now + 6 * 3_600_000,
        depot: { lat: 25.0389, lng: 102.7183 },
        fleet: {
          vans: [{ vehicleId: "v-fz", courierId: c }],
          capacity: { weightKg: 500, volumeL: 2000 },
          compartments: { frozen: 200, chilled: 400 },
        },
        pickupPoints: [
          {
            id: "pp-fz",
            name: "翠湖社区自提点",
            location: { lat: 25.0475, lng: 102.7065 },
            opensAt: now + 7_200_000,
            closesAt: now + 10 * 3_600_000,
            capacity: 50,
            chilledShelf: true,
            staffIds: ["store:s-fz"],
          },
        ],
      };
    case "moveWaveStop":
      return { planVersion: 1, fromVehicleId: "v-fz", stopIndex: 0, toVehicleId: "v-fz2" };
    case "lockWaveRoute":
      return { vehicleId: "v-fz", locked: true };
    case "confirmWaveArrival":
      return { vehicleId: "v-fz" };
    case "collectWaveOrder":
      return { pickupCode: "ABCD12" };
    default:
      return undefined;
  }
}

const BODY_ROUTES = API_ROUTES.filter((r) => r.method === "post" && (r.body || r.upload));
const JSON_ROUTES = BODY_ROUTES.filter((r) => r.body);
const PHOTO_ROUTE = BODY_ROUTES.find((r) => r.upload)!;
const GET_ROUTES = API_ROUTES.filter((r) => r.method === "get");

type Expected =
  { valid: true } | { valid: false; status: number; codes: readonly string[]; why: string };

function refused(status: number, codes: readonly string[], why: string): Expected {
  return { valid: false, status, codes, why };
}

/** What the gateway must answer to this JSON body on this route. */
function judgeJson(route: RouteSpec, body: string | Uint8Array, maxBody: number): Expected {
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  if (bytes.length > maxBody) return refused(413, ["too_large"], "over the body limit");
  const text = decoder.decode(bytes);
  let value: unknown = {};
  if (!route.body!.optional || text.trim() !== "") {
    try {
      value = JSON.parse(text);
    } catch {
      return refused(400, ["invalid_json"], "not JSON");
    }
  }
  const parsed = route.body!.schema.safeParse(value);
  if (!parsed.success) return refused(400, ["invalid_body"], "not the schema");
  return { valid: true };
}

const IMAGE_TYPES = ["image/jpeg", "image/png", "image/webp"];

function sniff(bytes: Uint8Array): string | null {
  const starts = (magic: number[], at = 0) => magic.every((b, i) => bytes[at + i] === b);
  if (starts([0xff, 0xd8, 0xff])) return "image/jpeg";
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "image/png";
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return "image/webp";
  return null;
}

function judgePhoto(type: string | null, bytes: Uint8Array, maxPhoto: number): Expected {
  if (bytes.length > maxPhoto) return refused(413, ["too_large"], "over the photo limit");
  const declared = (type ?? "").split(";")[0]!.trim().toLowerCase();
  if (!IMAGE_TYPES.includes(declared)) return refused(415, ["unsupported_media_type"], "type");
  if (bytes.length === 0) return refused(400, ["invalid_body"], "empty photo");
  if (sniff(bytes) !== declared) return refused(415, ["unsupported_media_type"], "not that image");
  return { valid: true };
}

const PHOTO_HEADS = [
  [0xff, 0xd8, 0xff, 0xe0],
  [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
  [0x52, 0x49, 0x46, 0x46, 1, 2, 3, 4, 0x57, 0x45, 0x42, 0x50],
  [0x47, 0x49, 0x46, 0x38], // GIF
  [0x25, 0x50, 0x44, 0x46], // PDF
  [],
];

// ---------------------------------------------------------------------------------------------
// Cases and their execution

interface Case {
  readonly n: number;
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string | Uint8Array;
  readonly expected: Expected | { valid: "any" };
  readonly lane: Lane;
}

type Role = "admin" | "courier" | "store" | "dispatcher";

interface Target {
  readonly name: string;
  readonly maxBody: number;
  readonly maxPhoto: number;
  token(role: Role, lane: Lane): string;
  request(c: Case): Promise<Response>;
}

function fillPath(path: string, lane: Lane, photo = false): string {
  const ids = IDS[lane];
  return (
    path
      .replace(":storeId", ids.store)
      .replace(":marketId", ids.market)
      .replace(":orderId", photo ? PHOTO_ORDER : ids.order)
      .replace(":id", ids.order)
      .replace(":courierId", ids.courier)
      .replace(":vehicleId", lane === "watched" ? A.vehicle : KM2.vehicle)
      // No wave is open here: a well-formed id in the lane's market, a point it does not have.
      .replace(":waveId", `${ids.market}-20261123-fz`)
      .replace(":pickupPointId", "pp-fz")
  );
}

function roleFor(r: Rng, route: RouteSpec): Role {
  const roles = (route.roles ?? ["admin"]).filter((x) => x !== "shopper") as Role[];
  return r.pick(roles);
}

const IDEMPOTENCY_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-";

function idempotencyKey(r: Rng): { key: string; ok: boolean } {
  if (r.chance(0.8)) {
    let key = "";
    for (let i = 1 + r.int(40); i > 0; i--) key += r.pick([...IDEMPOTENCY_CHARS]);
    return { key, ok: true };
  }
  // Header values are Latin-1 on the wire: bad keys within it.
  const bad = r.pick([
    "",
    " ",
    "a b",
    "a/b",
    "k".repeat(81),
    "é",
    "a\tb",
    "key;drop",
    "../x",
    "*",
    "ÿ".repeat(10),
  ]);
  return { key: bad, ok: false };
}

/** Valid input each route has sent to the sandbox so far. */
const validSent = new Map<string, number>();

/** Every field of every route's sample, and the sample itself, as each other JSON type. */
function typeSweep(): { route: RouteSpec; body: string }[] {
  const others: unknown[] = [null, true, -1, "x", [], {}];
  const kind = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v);
  return JSON_ROUTES.flatMap((route) => {
    const base = sample(route.operationId);
    return pathsOf(base).flatMap((path) =>
      others
        .filter((v) => kind(v) !== kind(getAt(base, path)))
        .map((v) => ({ route, body: serialize(setAt(clone(base), path, v)) })),
    );
  });
}

let sweep: { route: RouteSpec; body: string }[] | null = null;

function bodyCase(r: Rng, n: number, target: Target): Case {
  sweep ??= typeSweep();
  const swept = sweep.pop();
  if (!swept && r.chance(0.04)) return photoCase(r, n, target);
  const route = swept?.route ?? r.pick(JSON_ROUTES);
  const base = sample(route.operationId);
  let body = swept?.body ?? fuzzBody(r, base);
  let expected = judgeJson(route, body, target.maxBody);
  if (expected.valid && (validSent.get(route.operationId) ?? 0) >= VALID_PER_ROUTE) {
    // Enough of this route's valid input has reached the sandbox: one field too many.
    const text = decoder.decode(typeof body === "string" ? encoder.encode(body) : body);
    const value = (text.trim() === "" ? {} : JSON.parse(text)) as unknown;
    body = serialize(
      value !== null && typeof value === "object" && !Array.isArray(value)
        ? { ...value, fuzzExtra: true }
        : { fuzzExtra: value },
    );
    expected = judgeJson(route, body, target.maxBody);
  }
  const headers: Record<string, string> = {
    "content-type": r.pick([
      "application/json",
      "application/json; charset=utf-8",
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "application/json; charset=latin1",
    ]),
  };
  let key: { key: string; ok: boolean } | null = null;
  if (route.idempotencyKey && r.chance(0.4)) {
    key = idempotencyKey(r);
    headers["idempotency-key"] = key.key;
  }
  let lane: Lane = expected.valid ? "sandbox" : "watched";
  let judged: Case["expected"] = expected;
  if (expected.valid && key && !key.ok) {
    // A valid body with a malformed key: refused, but maybe by an earlier check (a 409 for an
    // order in the wrong state, …). Never applied.
    lane = "watched";
    judged = refused(400, ["invalid_idempotency_key", "*"], "bad Idempotency-Key");
  }
  if (lane === "sandbox")
    validSent.set(route.operationId, (validSent.get(route.operationId) ?? 0) + 1);
  const role = roleFor(r, route);
  headers.authorization = `Bearer ${target.token(role, lane)}`;
  return {
    n,
    method: "POST",
    path: fillPath(route.path, lane),
    headers,
    body,
    expected: judged,
    lane,
  };
}

function photoCase(r: Rng, n: number, target: Target): Case {
  const head = r.pick(PHOTO_HEADS);
  const size = r.chance(0.05) ? target.maxPhoto + 1 + r.int(1024) : r.int(256);
  const bytes = new Uint8Array(Math.max(size, r.chance(0.9) ? head.length : 0));
  bytes.set(head.slice(0, bytes.length));
  for (let i = head.length; i < bytes.length; i++) bytes[i] = r.int(256);
  const type = r.pick([
    "image/jpeg",
    "image/png",
    "image/webp",
    "IMAGE/PNG; q=1",
    "image/gif",
    "application/octet-stream",
    "text/html",
    "",
  ]);
  const headers: Record<string, string> = {
    authorization: `Bearer ${target.token("courier", "watched")}`,
  };
  if (type) headers["content-type"] = type;
  return {
    n,
    method: "POST",
    path: fillPath(PHOTO_ROUTE.path, "watched", true),
    headers,
    body: bytes,
    expected: judgePhoto(type || null, bytes, target.maxPhoto),
    // A stored photo commands no actor: every photo case is aimed at the watched order.
    lane: "watched",
  };
}

/** Percent-encoded, lone surrogates as U+FFFD (encodeURIComponent throws on them). */
function uriComponent(s: string): string {
  return encodeURIComponent(
    s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD"),
  );
}

/** Query strings, path ids, methods and Authorization headers on any route. */
function requestCase(r: Rng, n: number, target: Target): Case {
  const kind = r.int(4);
  const route = r.pick(kind === 0 ? GET_ROUTES : API_ROUTES);
  let path = fillPath(route.path, "watched", route === PHOTO_ROUTE);
  const headers: Record<string, string> = {
    authorization: `Bearer ${target.token(roleFor(r, route), "watched")}`,
  };
  let method = route.method.toUpperCase();
  let expected: Case["expected"] = { valid: "any" };
  const odd = () => uriComponent(r.chance(0.5) ? r.pick(STRINGS) : randomString(r));
  switch (kind) {
    case 0: {
      const names = ["coord", "lang", "token", "from", "to", "compartment", "x", "coord"];
      const parts: string[] = [];
      for (let i = 1 + r.int(3); i > 0; i--) {
        const value = r.chance(0.3)
          ? r.pick(["%", "%zz", "%E0%A4%A", "%FF", "%00", "+", "&&", "=="])
          : odd();
        parts.push(`${r.pick(names)}=${value}`);
      }
      path += `?${parts.join("&")}`;
      break;
    }
    case 1: {
      // An odd id where the route has one.
      const segments = path.split("/");
      const at = 2 + r.int(Math.max(1, segments.length - 2));
      segments[at] = r.chance(0.2)
        ? r.pick(["%", "%zz", "%E0%A4%A", "%2F", "..", "%2e%2e", "", "a".repeat(300)])
        : odd();
      path = segments.join("/");
      break;
    }
    case 2:
      method = r.pick(["PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]);
      break;
    default: {
      const real = headers.authorization!.slice("Bearer ".length);
      // One character of the header or claims changed. (Not the last of a segment: its low
      // bits are base64url padding, so some changes there decode to the same bytes.)
      const flip = (t: string) => {
        const i = r.int(t.indexOf(".", t.indexOf(".") + 1) - 1);
        if (t[i] === "." || t[i + 1] === ".") return `${t}x`;
        return t.slice(0, i) + (t[i] === "A" ? "B" : "A") + t.slice(i + 1);
      };
      headers.authorization = r.pick([
        "",
        "Bearer",
        "Bearer ",
        "Basic YWRtaW46YWRtaW4=",
        `bearer ${flip(real)}`,
        `Bearer ${real.slice(0, r.int(real.length))}`,
        `Bearer ${real}.${real}`,
        `Bearer ${"a".repeat(8000)}`,
        `Bearer ${real} extra`,
        `Bearer ${uriComponent(r.pick(STRINGS))}`,
        "Bearer e30.e30.",
      ]);
      if (headers.authorization === "") delete headers.authorization;
      if (route.roles !== null) {
        expected = refused(401, ["missing_token", "invalid_token", "token_expired"], "token");
      }
      break;
    }
  }
  if (method === "POST" && kind !== 3) {
    // Bodies are the other cases' business: a valid one, so the path or method decides.
    if (route === PHOTO_ROUTE) headers["content-type"] = "image/png";
    else headers["content-type"] = "application/json";
  }
  return {
    n,
    method,
    path,
    headers,
    ...(method === "POST"
      ? {
          body:
            route === PHOTO_ROUTE
              ? new Uint8Array(PHOTO_HEADS[1]!)
              : serialize({ ...(sample(route.operationId) as object), fuzzExtra: 1 }),
        }
      : {}),
    expected,
    lane: "watched",
  };
}

interface Verdict {
  readonly ok: boolean;
  readonly why?: string;
}

/** How often each answer came (`<status> <code>`, `ws <code>`), printed after the run. */
const tally = new Map<string, number>();
const record = (key: string) => tally.set(key, (tally.get(key) ?? 0) + 1);

/** Whether the answer is one the case allows. */
async function check(c: Case, res: Response): Promise<Verdict> {
  const text = c.method === "HEAD" ? "" : await res.text();
  if (res.status >= 500) return { ok: false, why: `${res.status} ${text.slice(0, 200)}` };
  if (!res.headers.get("x-request-id")) return { ok: false, why: "no X-Request-Id" };
  if (res.status >= 400 && c.method !== "HEAD") {
    let error: { code?: unknown; message?: unknown } | undefined;
    try {
      error = (JSON.parse(text) as { error?: typeof error }).error;
    } catch {
      return { ok: false, why: `${res.status} without a JSON body: ${text.slice(0, 100)}` };
    }
    record(`${res.status} ${String(error?.code)}`);
    if (typeof error?.code !== "string" || error.code === "") {
      return { ok: false, why: `${res.status} without an error code: ${text.slice(0, 200)}` };
    }
    if (typeof error.message !== "string" || error.message === "") {
      return { ok: false, why: `${res.status} without a message: ${text.slice(0, 200)}` };
    }
    const expected = c.expected;
    if (expected.valid === false) {
      const anyCode = expected.codes.includes("*");
      if (anyCode) return { ok: true };
      if (res.status !== expected.status || !expected.codes.includes(error.code)) {
        return {
          ok: false,
          why: `expected ${expected.status} ${expected.codes.join("|")} (${expected.why}), got ${res.status} ${error.code}: ${String(error.message).slice(0, 150)}`,
        };
      }
    }
    return { ok: true };
  }
  record(String(res.status));
  if (c.expected.valid === false) {
    return {
      ok: false,
      why: `expected ${c.expected.status} (${c.expected.why}), got ${res.status} ${text.slice(0, 150)}`,
    };
  }
  return { ok: true };
}

function describeCase(c: Case): string {
  const body =
    c.body === undefined
      ? ""
      : typeof c.body === "string"
        ? JSON.stringify(c.body.slice(0, 160))
        : `<${c.body.length} bytes>`;
  return `#${c.n} ${c.method} ${c.path.slice(0, 160)} ${JSON.stringify({ ...c.headers, authorization: c.headers.authorization?.slice(0, 24) })} ${body}`;
}

async function pool<T>(items: readonly T[], width: number, run: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await run(items[next++]!);
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Set-up

let world: World;
let gateway: Gateway;
let gatewayUrl: string;
let proofDir: string;
const errorLogs: string[] = [];
const unhandled: string[] = [];
const onUnhandled = (err: unknown) => unhandled.push(String(err));
const failures: string[] = [];
let cases = 0;

/** Actors refused input is aimed at: not one command may reach them. */
const WATCHED = [
  `order/${A.order}`,
  `order/${PHOTO_ORDER}`,
  `store/${A.store}`,
  `courier/${A.courier}`,
  `vehicle/${A.vehicle}`,
];

async function watchedSeqs(): Promise<Record<string, number>> {
  const all = await world.seqs();
  const photo = await world.stack.actors.state({ type: "order", id: PHOTO_ORDER });
  return Object.fromEntries(
    WATCHED.map((ref) => [ref, ref === `order/${PHOTO_ORDER}` ? photo.seq : all[ref]!]),
  );
}

const tokenOf = async (claims: Omit<TokenClaims, "exp">) =>
  signToken({ ...claims, exp: Math.floor(Date.now() / 1000) + 3600 }, SECRET);

let inProcess: Target;
let overSocket: Target;
let stackSocket: Target;

function targetOf(
  name: string,
  tokens: Record<Role, Record<Lane, string>>,
  limits: { maxBody: number; maxPhoto: number },
  request: (c: Case) => Promise<Response>,
): Target {
  return { name, ...limits, token: (role, lane) => tokens[role][lane], request };
}

const init = (c: Case): RequestInit => ({
  method: c.method,
  headers: c.headers,
  ...(c.body !== undefined ? { body: c.body as RequestInit["body"] } : {}),
});

beforeAll(async () => {
  process.on("unhandledRejection", onUnhandled);
  process.on("uncaughtException", onUnhandled);
  world = await startWorld();
  const { stack } = world;
  await stack.assignedOrder({
    orderId: PHOTO_ORDER,
    courierId: A.courier,
    marketId: A.market,
    storeId: A.store,
  });
  await stack.pickUp(PHOTO_ORDER);
  proofDir = await mkdtemp(join(tmpdir(), "xianda-fuzz-proofs-"));
  const log = pino(
    { level: "warn" },
    {
      write(line: string) {
        if ((JSON.parse(line) as { level: number }).level >= 50) errorLogs.push(line.slice(0, 600));
      },
    },
  );
  gateway = createGateway({
    nc: stack.nc,
    topology: stack.topology,
    actors: stack.actors,
    auth: { secret: SECRET },
    log,
    proofs: createFileProofStore(proofDir),
    coldChain: { db: stack.db, jwks: publicJwks(stack.signer) },
    pii: parseKeyring(newKeyringEntry("fuzz")),
    limits: { maxPhotoBytes: MAX_PHOTO },
  });
  const { port } = await gateway.listen(0, "127.0.0.1");
  gatewayUrl = `http://127.0.0.1:${port}`;

  const own: Record<Role, Record<Lane, string>> = {
    admin: {
      watched: await tokenOf({ role: "admin", sub: "a-fz" }),
      sandbox: await tokenOf({ role: "admin", sub: "a-fz" }),
    },
    courier: {
      watched: await tokenOf({ role: "courier", sub: A.courier, mkt: A.market }),
      sandbox: await tokenOf({ role: "courier", sub: KM2.courier, mkt: KM2.market }),
    },
    store: {
      watched: await tokenOf({ role: "store", sub: A.store }),
      sandbox: await tokenOf({ role: "store", sub: KM2.store }),
    },
    dispatcher: {
      watched: await tokenOf({ role: "dispatcher", sub: "d-fz", mkt: A.market }),
      sandbox: await tokenOf({ role: "dispatcher", sub: "d-fz", mkt: KM2.market }),
    },
  };
  const limits = { maxBody: MAX_BODY, maxPhoto: MAX_PHOTO };
  inProcess = targetOf("app.request", own, limits, async (c) =>
    gateway.app.request(c.path, init(c)),
  );
  overSocket = targetOf("socket", own, limits, (c) => fetch(`${gatewayUrl}${c.path}`, init(c)));
  const stackTokens: Record<Role, Record<Lane, string>> = {
    admin: { watched: world.tokens.admin!, sandbox: world.tokens.admin! },
    courier: {
      watched: world.tokens.courier!,
      sandbox: await stack.tokens.courier(KM2.courier, KM2.market),
    },
    store: { watched: world.tokens.store!, sandbox: await stack.tokens.store(KM2.store) },
    dispatcher: {
      watched: world.tokens.dispatcher!,
      sandbox: world.tokens.dispatcher2!,
    },
  };
  // The stack's own gateway keeps the default photo limit (5 MiB).
  stackSocket = targetOf(
    "stack socket",
    stackTokens,
    { maxBody: MAX_BODY, maxPhoto: 5 * 1024 * 1024 },
    (c) => fetch(`${stack.url}${c.path}`, init(c)),
  );
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  await world?.stop();
  if (proofDir) await rm(proofDir, { recursive: true, force: true });
  process.off("unhandledRejection", onUnhandled);
  process.off("uncaughtException", onUnhandled);
  const answers = [...tally].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k}: ${n}`);
  console.log(`fuzz: ${cases} cases, ${REPRO}\n  ${answers.join("\n  ")}`);
});

/** Runs cases in batches; refused ones concurrently with the watched actors' seqs checked around. */
async function runCases(
  target: Target,
  count: number,
  make: (r: Rng, n: number, target: Target) => Case,
  seed: number,
  width: number,
): Promise<void> {
  const r = new Rng(seed);
  const BATCH = 2_000;
  for (let done = 0; done < count; done += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, count - done) }, (_, i) =>
      make(r, cases + done + i, target),
    );
    const refusedCases = batch.filter((c) => c.lane === "watched");
    const validCases = batch.filter((c) => c.lane === "sandbox");
    const before = await watchedSeqs();
    const run = async (c: Case) => {
      let verdict: Verdict;
      try {
        verdict = await check(c, await target.request(c));
      } catch (err) {
        verdict = { ok: false, why: `request failed: ${String(err)}` };
      }
      if (!verdict.ok && failures.length < 50) {
        failures.push(`[${target.name}] ${verdict.why} — ${describeCase(c)}`);
      }
    };
    await pool(refusedCases, width, run);
    const after = await watchedSeqs();
    if (JSON.stringify(after) !== JSON.stringify(before)) {
      failures.push(
        `[${target.name}] refused input reached an actor in cases ${batch[0]!.n}…${batch.at(-1)!.n}: ${JSON.stringify(before)} → ${JSON.stringify(after)}`,
      );
    }
    await pool(validCases, Math.min(width, 8), run);
  }
  cases += count;
}

// ---------------------------------------------------------------------------------------------
// HTTP

describe("fuzzing HTTP", () => {
  it("has a valid sample for every route with a body, and the document agrees", async () => {
    const missing = BODY_ROUTES.filter((r) => !r.upload && sample(r.operationId) === undefined);
    expect(missing.map((r) => r.operationId)).toEqual([]);
    for (const route of JSON_ROUTES) {
      const parsed = route.body!.schema.safeParse(sample(route.operationId));
      expect(parsed.success, `${route.operationId}: ${JSON.stringify(parsed.error?.issues)}`).toBe(
        true,
      );
    }
    const doc = (await (await gateway.app.request("/openapi.json")).json()) as {
      paths: Record<string, Record<string, { requestBody?: unknown }>>;
    };
    const withBody = Object.values(doc.paths)
      .flatMap((item) => Object.values(item))
      .filter((op) => op.requestBody).length;
    expect(withBody).toBe(BODY_ROUTES.length);
  });

  it("answers every body on every route with a clear 4xx, or takes it only when it is valid", async () => {
    await runCases(inProcess, Math.round(TOTAL * SHARE.bodies), bodyCase, SEED, 16);
    await runCases(inProcess, Math.round(TOTAL * SHARE.requests), requestCase, SEED + 1, 16);
    expect(failures, REPRO).toEqual([]);
  }, 120_000);

  it("answers the same over the real sockets", async () => {
    const n = Math.round(TOTAL * SHARE.socket);
    await runCases(overSocket, Math.round(n * 0.7), bodyCase, SEED + 2, 16);
    await runCases(stackSocket, n - Math.round(n * 0.7), bodyCase, SEED + 3, 16);
    expect(failures, REPRO).toEqual([]);
  }, 60_000);

  it("applies a replayed Idempotency-Key once and answers it as the first time", async () => {
    const r = new Rng(SEED + 4);
    /** The same request with other values where the body has some to change. */
    const variant = (body: unknown): unknown =>
      JSON.parse(
        JSON.stringify(body)
          .replace('"fuzzing"', '"fuzzing, again"')
          .replace('"fuzz"', '"fuzz, again"')
          .replace('"busy"', '"too_far"')
          .replace('"no_answer"', '"refused"'),
      );
    for (const route of JSON_ROUTES.filter((x) => x.idempotencyKey)) {
      const key = `replay-${SEED}-${route.operationId}`;
      const token = inProcess.token(roleFor(r, route), "sandbox");
      const send = async (body: unknown) => {
        const res = await gateway.app.request(fillPath(route.path, "sandbox"), {
          method: "POST",
          headers: {
            authorization: `Bearer ${token}`,
            "content-type": "application/json",
            "idempotency-key": key,
          },
          body: JSON.stringify(body),
        });
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      };
      const body = sample(route.operationId);
      const first = await send(body);
      expect(first.status, `${route.operationId} ${JSON.stringify(first.body)}`).toBeLessThan(500);
      expect(await send(body), `${route.operationId}: the same again`).toEqual(first);
      expect(await send(variant(body)), `${route.operationId}: another body`).toEqual(first);
      cases += 3;
    }
  });

  it("answers a replayed shift change as it was applied, whatever the replay's body", async () => {
    const courierId = `c-fz-${SEED % 10_000}`;
    const token = await tokenOf({ role: "courier", sub: courierId, mkt: KM2.market });
    const shift = async (on: boolean) => {
      const res = await gateway.app.request("/v1/couriers/me/shift", {
        method: "POST",
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          "idempotency-key": "shift-once",
        },
        body: JSON.stringify({ on }),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const first = await shift(true);
    expect(first).toEqual({ status: 200, body: { ok: true, courierId, onShift: true } });
    // The key names the first request: a retry with another body gets the first answer.
    expect(await shift(false)).toEqual(first);
    const { view } = await world.stack.actors.state<{ shift: unknown }>({
      type: "courier",
      id: courierId,
    });
    expect(view.shift).not.toBeNull();
    cases += 2;
  });

  it("mints and takes courier and store tokens only for actor ids", async () => {
    const admin = inProcess.token("admin", "watched");
    for (const role of ["courier", "store"] as const) {
      for (const sub of ["c 1", "c.1", "c*", "c>", "鲜", "a".repeat(65)]) {
        const res = await gateway.app.request("/v1/tokens", {
          method: "POST",
          headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
          body: JSON.stringify({ role, sub, mkt: A.market, ttlSeconds: 60 }),
        });
        expect(res.status, `${role} ${sub}`).toBe(400);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_body");
        // One signed elsewhere with the same secret is refused as well.
        const forged = await new SignJWT({ role, ...(role === "courier" ? { mkt: A.market } : {}) })
          .setProtectedHeader({ alg: "HS256" })
          .setSubject(sub)
          .setExpirationTime("1m")
          .sign(new TextEncoder().encode(SECRET));
        const me = await gateway.app.request(
          role === "courier" ? "/v1/couriers/me" : `/v1/stores/${A.store}/orders`,
          { headers: { authorization: `Bearer ${forged}` } },
        );
        expect(me.status, `${role} ${sub}`).toBe(401);
        cases += 2;
      }
    }
  });

  it("answers a resubmitted order as created, and another body under its number as a conflict", async () => {
    const token = inProcess.token("store", "sandbox");
    const path = fillPath("/v1/stores/:storeId/orders", "sandbox");
    const body = sample("createOrder") as Record<string, unknown>;
    const post = (b: unknown) =>
      gateway.app.request(path, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(b),
      });
    const first = await post(body);
    expect(first.status).toBe(201);
    const { orderId } = (await first.json()) as { orderId: string };
    const seq = async () => (await world.stack.actors.state({ type: "order", id: orderId })).seq;
    await waitFor("the order created", async () => (await seq()) > 0);
    const created = await seq();
    const again = await post(body);
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    const other = await post({ ...body, items: { summary: "🥬".repeat(10), count: 9 } });
    expect(other.status).toBe(409);
    expect(((await other.json()) as { error: { code: string } }).error.code).toBe(
      "idempotency_conflict",
    );
    expect(await seq()).toBe(created);
    cases += 3;
  });
});

// ---------------------------------------------------------------------------------------------
// Websockets

const DRIVER_TYPES = new Set(["location", "locations", "ping", "temperature"]);
const LIVE_TYPES = new Set(["subscribe", "unsubscribe", "ping"]);
const SYNC_CODES = new Set(["invalid_frame", "unknown_type"]);

/** Whether every key of `raw` survived parsing (the gateway refuses unknown fields). */
function knownKeys(raw: unknown, parsed: unknown): boolean {
  if (Array.isArray(raw)) {
    return Array.isArray(parsed) && raw.every((v, i) => knownKeys(v, parsed[i]));
  }
  if (raw === null || typeof raw !== "object") return true;
  if (parsed === null || typeof parsed !== "object") return false;
  return Object.entries(raw).every(
    ([k, v]) =>
      Object.prototype.hasOwnProperty.call(parsed, k) &&
      knownKeys(v, (parsed as Record<string, unknown>)[k]),
  );
}

function frameIsValid(schema: z.ZodType, types: Set<string>, text: string): boolean {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return false;
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return false;
  const type = (raw as { type?: unknown }).type;
  if (typeof type !== "string" || !types.has(type)) return false;
  const parsed = schema.safeParse(raw);
  return parsed.success && knownKeys(raw, parsed.data);
}

interface FrameCase {
  readonly data: string | Uint8Array;
  readonly binary: boolean;
  readonly valid: boolean;
  readonly type: string | null;
}

function driverSamples(): unknown[] {
  const now = Date.now();
  const fix = { lat: 25.04, lng: 102.71, at: now, accuracy: 10, speed: 3, heading: 90 };
  return [
    { type: "location", fix, coord: "wgs84" },
    { type: "locations", fixes: [fix, { ...fix, at: now + 1000 }], coord: "gcj02" },
    { type: "ping", id: "p" },
    {
      type: "temperature",
      id: "t",
      vehicleId: KM2.vehicle,
      readings: [{ compartmentId: "k-chill", celsius: 3, at: now, doorOpen: false }],
    },
  ];
}

function liveSamples(): unknown[] {
  return [
    { type: "subscribe", channel: `order:${KM2.order}`, offset: 0 },
    { type: "subscribe", channel: `market:${KM2.market}` },
    { type: "unsubscribe", channel: `order:${KM2.order}` },
    { type: "ping", id: "p" },
  ];
}

/** Valid frames that reach something beyond the gateway (a stream, an actor), at most. */
const FRAME_QUOTA: Record<string, number> = { temperature: 100, subscribe: 300 };

function frameCase(
  r: Rng,
  samples: unknown[],
  schema: z.ZodType,
  types: Set<string>,
  sent: Map<string, number>,
): FrameCase {
  if (r.chance(0.03))
    return { data: randomBytes(r, r.int(200)), binary: true, valid: false, type: null };
  const base = r.pick(samples);
  let text: string;
  switch (r.int(10)) {
    case 0:
      text = serialize(randomValue(r));
      break;
    case 1: {
      const value = randomValue(r, 1);
      text = serialize({
        type: r.pick([...types, "LOCATION", "location ", "", "__proto__", "subscribe\u0000"]),
        ...(value !== null && typeof value === "object" ? value : { value }),
      });
      break;
    }
    case 2: {
      const s = serialize(base);
      text = s.slice(0, r.int(s.length));
      break;
    }
    case 3:
      text = r.pick(["", " ", "null", "[]", "{}", '{"type":null}', "ping", "\uFEFF{}", "\u0000"]);
      break;
    case 4:
      text = serialize({ ...(base as object), courierId: r.pick([A.courier, KM2.courier, "c-9"]) });
      break;
    default: {
      let value: unknown = clone(base);
      for (let i = 1 + r.int(2); i > 0 && value !== undefined; i--) value = mutate(r, value);
      text = serialize(value ?? null);
    }
  }
  // What the gateway reads: ws sends UTF-8 (a lone surrogate becomes U+FFFD).
  const read = Buffer.from(text, "utf8").toString("utf8");
  let valid = frameIsValid(schema, types, read);
  const type = valid ? (JSON.parse(read) as { type: string }).type : null;
  if (valid && type !== null && type in FRAME_QUOTA) {
    const used = sent.get(type) ?? 0;
    const watchedVehicle = read.includes(`"${A.vehicle}"`);
    if (used >= FRAME_QUOTA[type]! || watchedVehicle) {
      text = serialize({ ...(JSON.parse(read) as object), fuzzExtra: true });
      valid = false;
    } else {
      sent.set(type, used + 1);
    }
  }
  return { data: text, binary: false, valid, type: valid ? type : null };
}

class FrameClient {
  readonly ws: WebSocket;
  readonly frames: unknown[] = [];
  closed: number | null = null;
  readonly #waiters = new Set<() => void>();
  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on("message", (data, isBinary) => {
      this.frames.push(isBinary ? { binary: true } : JSON.parse(String(data)));
      this.#wake();
    });
    this.ws.on("close", (code) => {
      this.closed = code;
      this.#wake();
    });
    this.ws.on("error", () => {});
  }
  async until<T>(what: string, probe: () => T | null | undefined, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = probe();
      if (value !== null && value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        this.#waiters.add(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
  #wake() {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const w of waiters) w();
  }
}

async function open(path: string, token: string): Promise<FrameClient> {
  const client = new FrameClient(`${gatewayUrl.replace("http", "ws")}${path}?token=${token}`);
  await client.until("welcome", () =>
    client.frames.some((f) => (f as { type?: string }).type === "welcome") ? true : null,
  );
  return client;
}

type Down = DownFrame;

/**
 * Sends each case followed by a ping carrying its number; everything up to that pong answers
 * the case. A case the oracle refuses must get exactly one `invalid_frame`/`unknown_type` error
 * there; a valid one none (its own answers may come later: acks, subscriptions).
 */
async function fuzzFrames(
  path: string,
  token: string,
  count: number,
  seed: number,
  samples: unknown[],
  schema: z.ZodType,
  types: Set<string>,
  /** True once every valid frame's later answers (acks, subscriptions) have come. */
  settled: (
    frames: readonly Down[],
    valid: ReadonlyMap<string, number>,
    channels: ReadonlySet<string>,
  ) => boolean,
): Promise<void> {
  const r = new Rng(seed);
  const sent = new Map<string, number>();
  const channels = new Set<string>();
  let client = await open(path, token);
  const all: Down[] = [];
  let read = 0;
  /** Parses what came since the last call into `all`. */
  const take = (): Down[] => {
    const fresh: Down[] = [];
    for (const raw of client.frames.slice(read)) {
      const parsed = DownFrame.safeParse(raw);
      if (!parsed.success) {
        failures.push(`[${path}] not a down frame: ${JSON.stringify(raw).slice(0, 200)}`);
        continue;
      }
      if (parsed.data.type === "error" && parsed.data.message === "") {
        failures.push(`[${path}] an error frame without a message: ${JSON.stringify(raw)}`);
      }
      fresh.push(parsed.data);
    }
    read = client.frames.length;
    all.push(...fresh);
    return fresh;
  };
  const BATCH = 250;
  for (let done = 0; done < count; done += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, count - done) }, () =>
      frameCase(r, samples, schema, types, sent),
    );
    batch.forEach((c, i) => {
      if (c.type === "subscribe") {
        channels.add((JSON.parse(c.data as string) as { channel: string }).channel);
      }
      client.ws.send(c.data, { binary: c.binary });
      client.ws.send(JSON.stringify({ type: "ping", id: `case-${done + i}` }));
    });
    const lastId = `case-${done + batch.length - 1}`;
    await client.until(`the answers to cases ${done}…`, () => {
      if (client.closed !== null) throw new Error(`closed ${client.closed} during cases ${done}…`);
      return client.frames.some((f) => (f as { id?: string }).id === lastId) ? true : null;
    });
    let i = 0;
    let syncErrors = 0;
    for (const frame of take()) {
      record(`ws ${frame.type === "error" ? frame.code : frame.type}`);
      if (frame.type === "error" && SYNC_CODES.has(frame.code)) syncErrors++;
      if (frame.type === "pong" && frame.id === `case-${done + i}`) {
        const c = batch[i]!;
        const want = c.valid ? 0 : 1;
        if (syncErrors !== want && failures.length < 50) {
          const data =
            typeof c.data === "string" ? c.data.slice(0, 200) : `<${c.data.length} binary>`;
          failures.push(
            `[${path}] case ${done + i}: ${syncErrors} error frames, expected ${want}: ${JSON.stringify(data)}`,
          );
        }
        syncErrors = 0;
        i++;
      }
    }
    if (i !== batch.length) failures.push(`[${path}] ${batch.length - i} pongs missing at ${done}`);
  }
  cases += count;
  await client.until(`${path}: the answers of the valid frames`, () =>
    settled((take(), all), sent, channels) ? true : null,
  );

  // Frames over the limit: closed by ws with 1009; text that is not UTF-8: 1007. Reconnect.
  for (const [data, code] of [
    ["x".repeat(MAX_FRAME + 1), 1009],
    [JSON.stringify({ type: "ping", id: "y".repeat(MAX_FRAME) }), 1009],
    [Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 1007],
  ] as const) {
    client.ws.send(data, { binary: false });
    const closed = await client.until("the close", () => client.closed);
    expect(closed, `${path}: ${REPRO}`).toBe(code);
    client = await open(path, token);
    read = 0;
    cases++;
  }
  client.ws.close();
}

describe("fuzzing websockets", () => {
  it("answers every bad /ws/driver frame with an error frame and a reason", async () => {
    const before = await watchedSeqs();
    const token = inProcess.token("courier", "sandbox");
    await fuzzFrames(
      "/ws/driver",
      token,
      Math.round(TOTAL * SHARE.driver),
      SEED + 5,
      driverSamples(),
      DriverUpFrame,
      DRIVER_TYPES,
      // Every valid temperature frame stored (acknowledged) or refused with a reason.
      (frames, valid) =>
        frames.filter(
          (f) =>
            f.type === "temperature_ack" ||
            (f.type === "error" && f.ref === "temperature" && !SYNC_CODES.has(f.code)),
        ).length === (valid.get("temperature") ?? 0),
    );
    expect(failures, REPRO).toEqual([]);
    expect(await watchedSeqs(), `${REPRO}: watched actors moved`).toEqual(before);
  }, 60_000);

  it("answers every bad /ws/live frame with an error frame and a reason", async () => {
    const before = await watchedSeqs();
    const token = inProcess.token("dispatcher", "sandbox");
    await fuzzFrames(
      "/ws/live",
      token,
      Math.round(TOTAL * SHARE.live),
      SEED + 6,
      liveSamples(),
      LiveUpFrame,
      LIVE_TYPES,
      // Every channel validly subscribed to answered: subscribed, or refused with the
      // channel named. (A subscribe overtaken by another to the same channel, or by an
      // unsubscribe, is answered once or not at all.)
      (frames, valid, channels) => {
        const answers = frames.flatMap((f) =>
          f.type === "subscribed"
            ? [f.channel]
            : f.type === "error" && f.ref?.includes(":") && !SYNC_CODES.has(f.code)
              ? [f.ref]
              : [],
        );
        const answered = new Set(answers);
        return (
          [...channels].every((c) => answered.has(c)) &&
          answers.length <= (valid.get("subscribe") ?? 0)
        );
      },
    );
    expect(failures, REPRO).toEqual([]);
    expect(await watchedSeqs(), `${REPRO}: watched actors moved`).toEqual(before);
  }, 60_000);

  it("ran the cases it promised, with nothing unhandled and nothing logged as an error", () => {
    expect(cases).toBeGreaterThanOrEqual(TOTAL);
    expect(unhandled, REPRO).toEqual([]);
    expect(errorLogs, REPRO).toEqual([]);
  });
});
