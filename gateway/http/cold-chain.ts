/**
 * The cold-chain routes: an order's temperature certificate (JSON and printable), the keys that
 * sign certificates, and a van's temperature readings for the console's charts.
 *
 *   GET /.well-known/xianda-certificate-keys.json  anyone: the JWKS of the certificate keys
 *   GET /v1/orders/:orderId/certificate            the order's shopper, its store, dispatchers of
 *   GET /v1/orders/:orderId/certificate.html         its market, admins
 *   GET /v1/vehicles/:vehicleId/readings           dispatchers of the van's market, admins
 *
 * Decisions:
 * - A certificate is served as it was signed, except that each reading's values (time, °C, door)
 *   are read again from `temperature_readings` by stream sequence, keeping the signed hashes. A
 *   reading edited in the database since issue therefore breaks the served certificate's hash
 *   chain (and its signature), and a deleted one leaves a gap: the certificate is checked against
 *   the evidence as it is now, not as it was. Whether it verifies now (signature by one of the
 *   gateway's own keys, chain, summary) is in `Xianda-Certificate-Verified`; the body stays the
 *   certificate document itself, so it can be handed to any verifier as it is.
 * - A shopper's token reads its order's certificate while the token is valid, also after the
 *   tracking link's "ended + 2 h" limit: that limit keeps the courier's whereabouts private, and a
 *   certificate holds none.
 * - The printable page is opened by following a link, which cannot carry a header, so it also
 *   takes the token as `?token=` (as `/t/<token>` and `/ws/live?token=` do). The page loads
 *   nothing and is sent with `Referrer-Policy: no-referrer` and a CSP that allows nothing to load.
 * - Readings for a chart: at most `MAX_READINGS` per compartment; when a window holds more, the
 *   newest win (a chart ends at "now") and the answer says from when it covers.
 */
import { Hono } from "hono";
import type { Context, MiddlewareHandler } from "hono";
import type { JWK } from "jose";
import { z } from "zod";
import {
  Certificate,
  CertificateKeyError,
  renderCertificateHtml,
  toShanghaiIso,
  verifyCertificate,
} from "../../coldchain/index.ts";
import type { CertificateLocale, CertificateVerification } from "../../coldchain/index.ts";
import {
  findCertificate,
  listExcursions,
  listReadings,
  readingKeyOf,
  readingsBySequence,
} from "../../db/index.ts";
import type { Database, TemperatureReading } from "../../db/index.ts";
import { ActorId } from "../../protocol/index.ts";
import type { TokenClaims } from "../../protocol/index.ts";
import type { Order } from "../access.ts";
import { ApiError } from "../errors.ts";
import type { GatewayOptions } from "../types.ts";
import { actorView, authenticated, existingOrder, idParam } from "./commands.ts";
import { authenticate, requireRole } from "./context.ts";
import type { Env, HttpDeps } from "./context.ts";
import type { RouteSpec } from "./spec.ts";

export const CERTIFICATE_KEYS_PATH = "/.well-known/xianda-certificate-keys.json";
/** `true` when the served certificate verifies now, else `false`. */
export const VERIFIED_HEADER = "Xianda-Certificate-Verified";
/** How many problems the check found (0 when it verifies). */
export const PROBLEMS_HEADER = "Xianda-Certificate-Problems";

const CERTIFICATE_ROLES = ["shopper", "store", "dispatcher", "admin"] as const;
const READINGS_ROLES = ["dispatcher", "admin"] as const;
/** The chart's window when none is asked for, and the longest one may ask for. */
const DEFAULT_WINDOW_MS = 2 * 3_600_000;
const MAX_WINDOW_MS = 48 * 3_600_000;
/** Readings per compartment in one answer (2 h of a sensor read every second fit). */
const MAX_READINGS = 10_000;
/** A certificate is issued a few seconds after delivery: a client asking earlier retries. */
const RETRY_AFTER_S = 3;

type ColdChain = NonNullable<GatewayOptions["coldChain"]>;

function coldChainOf(deps: HttpDeps): ColdChain {
  if (!deps.coldChain) {
    throw new ApiError(
      503,
      "unavailable",
      "cold-chain history is not configured on this gateway (no database)",
    );
  }
  return deps.coldChain;
}

// ---------------------------------------------------------------------------------------------
// Access

/** The order whose certificate the caller asks for, if the caller may read it; else 403/404. */
async function certificateOrder(deps: HttpDeps, c: Context<Env>): Promise<Order> {
  const claims = requireRole(c, CERTIFICATE_ROLES);
  const orderId = idParam(c, "orderId");
  // A shopper's token names its order: refuse another before asking any actor.
  if (claims.role === "shopper" && claims.ord !== orderId) {
    throw new ApiError(403, "forbidden", "this tracking token is for another order");
  }
  coldChainOf(deps);
  const order = await existingOrder(deps, orderId);
  const denied = certificateDenied(claims, order);
  if (denied !== null) throw new ApiError(403, "forbidden", denied);
  return order;
}

function certificateDenied(claims: TokenClaims, order: Order): string | null {
  switch (claims.role) {
    case "admin":
    case "shopper":
      return null;
    case "dispatcher":
      return order.marketId === claims.mkt ? null : `order ${order.id} is not in your market`;
    case "store":
      return order.storeId === claims.sub
        ? null
        : `order ${order.id} is not one of your store's orders`;
    case "courier":
      return "a courier cannot read certificates";
  }
}

// ---------------------------------------------------------------------------------------------
// Certificates

/** The parts of a stored certificate document this file reads; the rest is passed through. */
const StoredDocument = z.looseObject({
  vehicle: z.looseObject({ id: z.string() }),
  compartment: z.looseObject({ id: z.string() }),
  readings: z.array(z.looseObject({ seq: z.number().int(), part: z.number().int().optional() })),
});

interface ServedCertificate {
  /** The signed document with its readings' values as stored now. */
  readonly document: Record<string, unknown>;
  /** As signed and stored, untouched. */
  readonly stored: Record<string, unknown>;
  readonly verification: CertificateVerification;
  /** Keys (`seq` or `seq.part`) of readings whose values changed since issue, and of those now gone. */
  readonly evidence: { readonly changed: string[]; readonly missing: string[] };
}

/**
 * The stored certificate of `orderId` with each reading's values read again from the readings
 * table, checked with the gateway's keys; null when none was issued (yet).
 */
async function servedCertificate(
  coldChain: ColdChain,
  orderId: string,
): Promise<ServedCertificate | null> {
  const row = await findCertificate(coldChain.db, orderId);
  if (row === null) return null;
  const stored = row.document;
  const parsed = StoredDocument.safeParse(stored);
  const changed: string[] = [];
  const missing: string[] = [];
  let document: Record<string, unknown> = stored;
  if (parsed.success) {
    const { vehicle, compartment, readings } = parsed.data;
    const now = await readingsBySequence(
      coldChain.db,
      readings.map((r) => ({ seq: r.seq, ...(r.part === undefined ? {} : { part: r.part }) })),
    );
    const served: Record<string, unknown>[] = [];
    for (const reading of readings) {
      const key = readingKeyOf({ streamSeq: reading.seq, streamPart: reading.part ?? 0 });
      const evidence = now.get(key);
      // A row moved to another van or compartment is no longer evidence for this one.
      if (
        evidence === undefined ||
        evidence.vehicleId !== vehicle.id ||
        evidence.compartmentId !== compartment.id
      ) {
        missing.push(key);
        continue;
      }
      const values = valuesOf(evidence);
      if (
        values.at !== reading.at ||
        values.celsius !== reading.celsius ||
        values.doorOpen !== reading.doorOpen
      ) {
        changed.push(key);
      }
      served.push({ ...reading, ...values });
    }
    document = { ...stored, readings: served };
  }
  return {
    document,
    stored,
    verification: await verify(document, coldChain),
    evidence: { changed, missing },
  };
}

function valuesOf(row: TemperatureReading): { at: number; celsius: number; doorOpen: boolean } {
  return { at: row.readAt.getTime(), celsius: row.celsius, doorOpen: row.doorOpen };
}

async function verify(document: unknown, coldChain: ColdChain): Promise<CertificateVerification> {
  try {
    return await verifyCertificate(document, { trustedKeys: coldChain.jwks.keys as JWK[] });
  } catch (err) {
    if (!(err instanceof CertificateKeyError)) throw err;
    return {
      ok: false,
      problems: [`the gateway's certificate keys cannot be used to check it: ${err.message}`],
      warnings: [],
    };
  }
}

/** The certificate, or the 404 that says why there is none. */
async function certificateFor(
  deps: HttpDeps,
  c: Context<Env>,
  order: Order,
): Promise<ServedCertificate> {
  const served = await servedCertificate(coldChainOf(deps), order.id);
  if (served !== null) return served;
  if (order.temperatureClass === "ambient") {
    throw new ApiError(404, "not_certified", `order ${order.id} is ambient: it has no cold chain`);
  }
  if (order.status !== "delivered") {
    throw new ApiError(
      404,
      "certificate_not_found",
      `order ${order.id} is ${order.status}: its certificate is issued after delivery`,
    );
  }
  if (order.coldChain == null) {
    throw new ApiError(
      404,
      "not_certified",
      `order ${order.id} did not travel in a monitored van compartment: no certificate is issued`,
    );
  }
  // The error boundary keeps headers set on the context.
  c.header("Retry-After", String(RETRY_AFTER_S));
  throw new ApiError(
    404,
    "certificate_not_found",
    `the certificate of order ${order.id} is being issued; try again in a few seconds`,
  );
}

function verificationHeaders(served: ServedCertificate): Record<string, string> {
  return {
    [VERIFIED_HEADER]: String(served.verification.ok),
    [PROBLEMS_HEADER]: String(served.verification.problems.length),
    "Cache-Control": "private, no-store",
  };
}

const CertificateHtmlQuery = z.object({
  lang: z.enum(["zh-CN", "en"]).optional(),
  token: z.string().optional(),
});

const STATUS_WORDS: Record<
  CertificateLocale,
  { ok: string; bad: string; checked: string; zone: string; changed: string; missing: string }
> = {
  "zh-CN": {
    ok: "✓ 核验通过：签名有效，证书中的每条温度记录与系统当前存储的原始记录一致。",
    bad: "✗ 核验未通过：此证书与系统当前存储的温度记录不符，或签名无效。请勿以此证书作为温度合格的凭据。",
    checked: "核验时间",
    zone: "北京时间",
    changed: "条记录自签发后被修改",
    missing: "条记录已不存在",
  },
  en: {
    ok: "✓ Verified: the signature is valid and every reading matches the records stored now.",
    bad: "✗ Not verified: this certificate no longer matches the temperature records stored now, or its signature is invalid. Do not rely on it.",
    checked: "Checked",
    zone: "Beijing time",
    changed: "reading(s) changed since issue",
    missing: "reading(s) no longer stored",
  },
};

function escapeHtml(value: unknown): string {
  return String(value)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** The line that says whether the certificate verifies now, put at the top of the page. */
function statusBlock(served: ServedCertificate, locale: CertificateLocale, now: number): string {
  const w = STATUS_WORDS[locale];
  const { verification, evidence } = served;
  const when = toShanghaiIso(now).slice(0, 19).replace("T", " ");
  const counts = [
    evidence.changed.length > 0 ? `${evidence.changed.length} ${w.changed}` : "",
    evidence.missing.length > 0 ? `${evidence.missing.length} ${w.missing}` : "",
  ].filter((s) => s !== "");
  const problems = verification.ok
    ? ""
    : `<ul>${[...counts, ...verification.problems].map((p) => `<li>${escapeHtml(p)}</li>`).join("")}</ul>`;
  return `<div id="verification-status" class="live-check ${verification.ok ? "ok" : "bad"}" role="status">
<p><strong>${escapeHtml(verification.ok ? w.ok : w.bad)}</strong></p>
<p class="when">${escapeHtml(w.checked)} ${escapeHtml(when)} <small>${escapeHtml(w.zone)}</small></p>
${problems}</div>
`;
}

const STATUS_STYLE = `<style>
.live-check { margin: 0 0 16px; padding: 10px 14px; border: 2px solid; border-radius: 4px; }
.live-check p { margin: 0; }
.live-check .when { margin-top: 4px; font-size: 12px; color: #5b6670; }
.live-check ul { margin: 6px 0 0; padding-left: 20px; font-size: 12px; }
.live-check.ok { color: #1a7f37; border-color: #1a7f37; background: #e8f5ec; }
.live-check.bad { color: #c62828; border-color: #c62828; background: #fdecea; }
</style>
`;

function printablePage(served: ServedCertificate, locale: CertificateLocale, now: number): string {
  const status = statusBlock(served, locale, now);
  // The page shows the values as stored now; if they no longer form a certificate at all (a
  // reading edited into something no certificate may hold), the signed values are shown under
  // the failed status instead.
  const current = Certificate.safeParse(served.document);
  const shown = current.success ? current : Certificate.safeParse(served.stored);
  if (!shown.success) {
    return `<!doctype html><html lang="${locale}"><head><meta charset="utf-8"><title>${escapeHtml(locale === "en" ? "Cold-chain certificate" : "冷链温度证书")}</title>${STATUS_STYLE}</head><body>${status}</body></html>`;
  }
  let html = renderCertificateHtml(shown.data, { locale });
  html = html.includes("</head>")
    ? html.replace("</head>", `${STATUS_STYLE}</head>`)
    : STATUS_STYLE + html;
  const anchor = html.includes('<main class="sheet">') ? '<main class="sheet">' : "<body>";
  return html.replace(anchor, `${anchor}\n${status}`);
}

// ---------------------------------------------------------------------------------------------
// Readings

/** `2025-01-01T09:00:00+08:00` (any ISO 8601 date-time with a zone) or epoch ms. */
function parseTime(name: string, raw: string | undefined): number | null {
  if (raw === undefined || raw === "") return null;
  const value = /^\d{1,15}$/.test(raw)
    ? Number(raw)
    : /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(raw)
      ? Date.parse(raw)
      : Number.NaN;
  if (!Number.isFinite(value)) {
    throw new ApiError(
      400,
      "invalid_param",
      `${name}: an ISO date-time with its zone (2025-01-01T09:00:00+08:00) or epoch ms, not ${raw.slice(0, 40)}`,
    );
  }
  return value;
}

/** The window asked for: `to` defaults to now, `from` to 2 h before `to`; at most 48 h. */
function readingsWindow(
  query: { from?: string | undefined; to?: string | undefined },
  now: number,
): { from: number; to: number } {
  const to = parseTime("to", query.to) ?? now;
  const from = parseTime("from", query.from) ?? to - DEFAULT_WINDOW_MS;
  if (from > to) throw new ApiError(400, "invalid_window", "from must not be after to");
  if (to - from > MAX_WINDOW_MS) {
    throw new ApiError(
      400,
      "window_too_large",
      `the window is ${Math.round((to - from) / 60_000)} min; at most 48 h may be asked at once`,
    );
  }
  return { from, to };
}

/** What the readings route reads of the vehicle actor's view. */
interface VehicleView {
  compartments?: Array<{
    id: string;
    class: string;
    minC: number | null;
    maxC: number | null;
    latest: { celsius: number; at: number; doorOpen: boolean | null } | null;
    inExcursion?: boolean;
  }>;
  marketId?: string | null;
  driverId?: string | null;
}

/**
 * A compartment's readings in [from, to], oldest first, at most `MAX_READINGS`. When the window
 * holds more, the newest win: the window is narrowed to end at `to` and span what the first
 * `MAX_READINGS` covered, a few times at most (sensors read at a steady rate, so once is usual).
 */
async function newestReadings(
  db: Database,
  q: { vehicleId: string; compartmentId: string; from: number; to: number },
): Promise<{ rows: TemperatureReading[]; coveredFrom: number; truncated: boolean }> {
  let from = q.from;
  let rows: TemperatureReading[] = [];
  for (let attempt = 0; attempt < 4; attempt++) {
    rows = await listReadings(db, {
      vehicleId: q.vehicleId,
      compartmentId: q.compartmentId,
      from: new Date(from),
      to: new Date(q.to),
      limit: MAX_READINGS + 1,
    });
    if (rows.length <= MAX_READINGS) return { rows, coveredFrom: from, truncated: attempt > 0 };
    const spanned = rows[MAX_READINGS - 1]!.readAt.getTime() - from;
    from = Math.max(from + 1, q.to - Math.floor(spanned * 0.9));
  }
  return { rows: rows.slice(-MAX_READINGS), coveredFrom: from, truncated: true };
}

// ---------------------------------------------------------------------------------------------
// The routes

export function coldChainRoutes(deps: HttpDeps): Hono<Env> {
  const app = new Hono<Env>();

  app.get(CERTIFICATE_KEYS_PATH, (c) =>
    c.json(coldChainOf(deps).jwks, 200, {
      "Cache-Control": "public, max-age=300",
      // Public keys: a verifier on any site may fetch them.
      "Access-Control-Allow-Origin": "*",
    }),
  );

  app.get("/v1/orders/:orderId/certificate", authenticated(deps), async (c) => {
    const order = await certificateOrder(deps, c);
    const served = await certificateFor(deps, c, order);
    return c.json(served.document, 200, {
      ...verificationHeaders(served),
      "Content-Disposition": `inline; filename="xianda-certificate-${order.id}.json"`,
    });
  });

  app.get(
    "/v1/orders/:orderId/certificate.html",
    authenticate(deps, { queryToken: true }),
    async (c) => {
      const query = CertificateHtmlQuery.safeParse(c.req.query());
      if (!query.success) throw new ApiError(400, "invalid_param", "lang: zh-CN or en");
      const order = await certificateOrder(deps, c);
      const served = await certificateFor(deps, c, order);
      const html = printablePage(served, query.data.lang ?? "zh-CN", deps.clock());
      return c.html(html, 200, {
        ...verificationHeaders(served),
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
      });
    },
  );

  app.get("/v1/vehicles/:vehicleId/readings", authenticated(deps), async (c) => {
    const claims = requireRole(c, READINGS_ROLES);
    const vehicleId = idParam(c, "vehicleId");
    const compartmentId = c.req.query("compartment");
    if (compartmentId !== undefined && !ActorId.safeParse(compartmentId).success) {
      throw new ApiError(400, "invalid_param", `compartment: not an id: ${compartmentId}`);
    }
    const window = readingsWindow(
      { from: c.req.query("from"), to: c.req.query("to") },
      deps.clock(),
    );
    const { db } = coldChainOf(deps);
    const { view } = await actorView<VehicleView>(deps, { type: "vehicle", id: vehicleId });
    const layout = view?.compartments ?? [];
    if (layout.length === 0) {
      throw new ApiError(404, "unknown_vehicle", `vehicle ${vehicleId} is not configured`);
    }
    const marketId = view.marketId ?? null;
    if (claims.role === "dispatcher" && marketId !== claims.mkt) {
      throw new ApiError(
        403,
        "forbidden",
        marketId === null
          ? `vehicle ${vehicleId} works in no market`
          : `vehicle ${vehicleId} is not in your market`,
      );
    }
    const shown =
      compartmentId === undefined ? layout : layout.filter((k) => k.id === compartmentId);
    if (shown.length === 0) {
      throw new ApiError(
        404,
        "unknown_compartment",
        `vehicle ${vehicleId} has no compartment ${compartmentId}`,
      );
    }
    const compartments = await Promise.all(
      shown.map(async (k) => {
        const q = { vehicleId, compartmentId: k.id, ...window };
        const [readings, excursions] = await Promise.all([
          newestReadings(db, q),
          listExcursions(db, {
            vehicleId,
            compartmentId: k.id,
            from: new Date(window.from),
            to: new Date(window.to),
          }),
        ]);
        return {
          id: k.id,
          class: k.class,
          minC: k.minC,
          maxC: k.maxC,
          latest: k.latest,
          inExcursion: k.inExcursion ?? false,
          readings: readings.rows.map(valuesOf),
          truncated: readings.truncated,
          coveredFrom: readings.coveredFrom,
          excursions: excursions.map((e) => ({
            kind: e.kind === "out_of_range" ? ("temperature" as const) : ("sensor_silent" as const),
            startedAt: e.startedAt.getTime(),
            endedAt: e.endedAt?.getTime() ?? null,
            peakC: e.peakC,
          })),
        };
      }),
    );
    return c.json(
      {
        vehicleId,
        marketId,
        driverId: view.driverId ?? null,
        from: window.from,
        to: window.to,
        compartments,
      },
      200,
      { "Cache-Control": "private, no-store" },
    );
  });
  return app;
}

// ---------------------------------------------------------------------------------------------
// OpenAPI

const EpochMs = z.number().int();

const VehicleReadings = z.object({
  vehicleId: z.string(),
  marketId: z.string().nullable(),
  driverId: z.string().nullable(),
  from: EpochMs,
  to: EpochMs,
  compartments: z.array(
    z.object({
      id: z.string(),
      class: z.enum(["frozen", "chilled", "ambient", "custom"]),
      minC: z.number().nullable(),
      maxC: z.number().nullable(),
      latest: z
        .object({ celsius: z.number(), at: EpochMs, doorOpen: z.boolean().nullable() })
        .nullable(),
      inExcursion: z.boolean(),
      readings: z.array(z.object({ at: EpochMs, celsius: z.number(), doorOpen: z.boolean() })),
      truncated: z
        .boolean()
        .describe("the window held more readings than one answer carries: the newest are given"),
      coveredFrom: EpochMs.describe("the readings cover [coveredFrom, to]"),
      excursions: z.array(
        z.object({
          kind: z.enum(["temperature", "sensor_silent"]),
          startedAt: EpochMs,
          endedAt: EpochMs.nullable(),
          peakC: z.number().nullable(),
        }),
      ),
    }),
  ),
});

const CERTIFICATE_DESCRIPTION = `The signed certificate document, with each reading's time, °C and door as stored now (its signed hash kept): a reading edited in the database since issue makes the served certificate fail verification. Header \`${VERIFIED_HEADER}: true|false\` says whether it verifies now with the gateway's keys (\`${CERTIFICATE_KEYS_PATH}\`), \`${PROBLEMS_HEADER}\` how many problems were found. 404 \`certificate_not_found\` before delivery and for a few seconds after it (\`Retry-After\`), \`not_certified\` for an order that has no cold chain.`;

export const COLD_CHAIN_ROUTES: readonly RouteSpec[] = [
  {
    method: "get",
    path: "/v1/orders/:orderId/certificate",
    operationId: "getCertificate",
    summary: "The order's cold-chain certificate, checked against the stored readings",
    description: CERTIFICATE_DESCRIPTION,
    tag: "cold-chain",
    roles: CERTIFICATE_ROLES,
    responses: { 200: { description: "the certificate document", schema: Certificate } },
    errors: [400, 401, 403, 404, 503],
  },
  {
    method: "get",
    path: "/v1/orders/:orderId/certificate.html",
    operationId: "getCertificatePage",
    summary: "The certificate as a printable page, with whether it verifies now",
    description: `${CERTIFICATE_DESCRIPTION} The page may also be opened with the token as \`?token=\` (a link cannot send a header).`,
    tag: "cold-chain",
    roles: CERTIFICATE_ROLES,
    query: z.object({
      lang: z.enum(["zh-CN", "en"]).optional().describe("default zh-CN"),
      token: z.string().optional().describe("the bearer token, when no header can be sent"),
    }),
    responses: {
      200: {
        description: "a self-contained HTML page (inline CSS and SVG)",
        contentType: "text/html",
      },
    },
    errors: [400, 401, 403, 404, 503],
  },
  {
    method: "get",
    path: "/v1/vehicles/:vehicleId/readings",
    operationId: "getVehicleReadings",
    summary: "A van's compartment temperatures and excursions over a window (the console's chart)",
    description:
      "Dispatchers of the van's market. `from` and `to` are ISO date-times with a zone or epoch ms; default the last 2 h, at most 48 h (`window_too_large`). Range and class come from the vehicle's configuration.",
    tag: "cold-chain",
    roles: READINGS_ROLES,
    query: z.object({
      compartment: z.string().optional().describe("one compartment; default all"),
      from: z.string().optional().describe("ISO 8601 with zone, or epoch ms"),
      to: z.string().optional().describe("ISO 8601 with zone, or epoch ms; default now"),
    }),
    responses: { 200: { description: "the readings", schema: VehicleReadings } },
    errors: [400, 401, 403, 404, 503],
  },
];
