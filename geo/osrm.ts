/**
 * Travel times from an OSRM server's HTTP API (v1): `/route/v1/{profile}/{lng,lat;lng,lat}` and
 * `/table/v1/{profile}/{coords}`. Every failure (timeout, connection refused, HTTP error, a code
 * other than "Ok" such as "NoRoute", a body that is not OSRM's documented shape) becomes `null`
 * so the caller falls back to the model; `onError` sees the reason as an `OsrmError`.
 *
 * Mode → profile: foot → "foot", bike and ebike → "bike" (e-bikes ride the non-motorised lanes,
 * 非机动车道, that OSRM's bicycle profile routes on), car and van → "car". osrm-routed serves the
 * dataset it was started with whatever the profile segment says, so a deployment with one
 * osrm-routed per profile maps modes to URLs with `baseUrls`. OSRM's bicycle profile assumes
 * ~15 km/h; an e-bike rides faster, so its durations are scaled by `durationScale.ebike` (0.8).
 */
import { z } from "zod";
import type { LatLng, Mode } from "./types.ts";

export interface TravelTime {
  seconds: number;
  meters: number;
  /** The route's line (WGS-84), simplified, when the source has it. */
  geometry?: LatLng[];
}

export interface TravelTable {
  /** seconds[i][j] from sources[i] to destinations[j]; null where there is no route. */
  seconds: (number | null)[][];
  meters: (number | null)[][];
}

export interface TravelTimeSource {
  route(from: LatLng, to: LatLng, mode: Mode): Promise<TravelTime | null>;
  table?(sources: LatLng[], destinations: LatLng[], mode: Mode): Promise<TravelTable | null>;
}

export type OsrmFailure = "timeout" | "network" | "http" | "code" | "invalid";

export class OsrmError extends Error {
  override readonly name = "OsrmError";
  constructor(
    message: string,
    readonly kind: OsrmFailure,
    readonly url: string,
    /** OSRM's `code` when it sent one ("NoRoute", "InvalidQuery", ...). */
    readonly code?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface OsrmClientOptions {
  /** e.g. "http://127.0.0.1:5000" (no trailing path). */
  baseUrl: string;
  /** Per-mode base URLs, for one osrm-routed per profile; falls back to `baseUrl`. */
  baseUrls?: Partial<Record<Mode, string>>;
  /** Per request. 1500 ms. */
  timeoutMs?: number;
  profiles?: Partial<Record<Mode, string>>;
  /** Multiplies OSRM's durations per mode. ebike 0.8, others 1. */
  durationScale?: Partial<Record<Mode, number>>;
  /** Injected for tests and instrumentation. globalThis.fetch. */
  fetch?: typeof fetch;
  /** Told about every failure that became `null` (for logs and metrics). */
  onError?: (error: OsrmError) => void;
}

const DEFAULT_PROFILES: Record<Mode, string> = {
  foot: "foot",
  bike: "bike",
  ebike: "bike",
  car: "car",
  van: "car",
};
const DEFAULT_SCALE: Record<Mode, number> = { foot: 1, bike: 1, ebike: 0.8, car: 1, van: 1 };

const RouteResponse = z.object({
  code: z.string(),
  message: z.string().optional(),
  routes: z
    .array(
      z.object({
        duration: z.number().nonnegative(),
        distance: z.number().nonnegative(),
        geometry: z
          .object({
            type: z.literal("LineString"),
            coordinates: z.array(z.array(z.number()).min(2)),
          })
          .optional(),
      }),
    )
    .optional(),
});

const Matrix = z.array(z.array(z.number().nonnegative().nullable()));
const TableResponse = z.object({
  code: z.string(),
  message: z.string().optional(),
  durations: Matrix.optional(),
  distances: Matrix.optional(),
});

export class OsrmClient implements TravelTimeSource {
  private readonly baseUrl: string;
  private readonly baseUrls: Partial<Record<Mode, string>>;
  private readonly timeoutMs: number;
  private readonly profiles: Record<Mode, string>;
  private readonly scale: Record<Mode, number>;
  private readonly fetch: typeof fetch;
  private readonly onError: (error: OsrmError) => void;

  constructor(options: OsrmClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.baseUrls = options.baseUrls ?? {};
    this.timeoutMs = options.timeoutMs ?? 1500;
    this.profiles = { ...DEFAULT_PROFILES, ...options.profiles };
    this.scale = { ...DEFAULT_SCALE, ...options.durationScale };
    this.fetch = options.fetch ?? globalThis.fetch;
    this.onError = options.onError ?? (() => {});
  }

  /** The URL `route` requests (exported for logs and tests). */
  routeUrl(from: LatLng, to: LatLng, mode: Mode): string {
    return `${this.base(mode)}/route/v1/${this.profiles[mode]}/${coords([from, to])}?overview=simplified&geometries=geojson`;
  }

  tableUrl(sources: LatLng[], destinations: LatLng[], mode: Mode): string {
    const all = [...sources, ...destinations];
    const src = sources.map((_, i) => i).join(";");
    const dst = destinations.map((_, i) => sources.length + i).join(";");
    return `${this.base(mode)}/table/v1/${this.profiles[mode]}/${coords(all)}?sources=${src}&destinations=${dst}&annotations=duration,distance`;
  }

  async route(from: LatLng, to: LatLng, mode: Mode): Promise<TravelTime | null> {
    const url = this.routeUrl(from, to, mode);
    const body = await this.get(url, RouteResponse);
    if (body === null) return null;
    const route = body.routes?.[0];
    if (route === undefined) {
      this.onError(new OsrmError("no route in an Ok response", "invalid", url));
      return null;
    }
    const out: TravelTime = { seconds: route.duration * this.scale[mode], meters: route.distance };
    if (route.geometry !== undefined) {
      out.geometry = route.geometry.coordinates.map((c) => ({ lat: c[1]!, lng: c[0]! }));
    }
    return out;
  }

  async table(sources: LatLng[], destinations: LatLng[], mode: Mode): Promise<TravelTable | null> {
    if (sources.length === 0 || destinations.length === 0) return { seconds: [], meters: [] };
    const url = this.tableUrl(sources, destinations, mode);
    const body = await this.get(url, TableResponse);
    if (body === null) return null;
    const { durations, distances } = body;
    const shaped = (m: (number | null)[][] | undefined) =>
      m !== undefined &&
      m.length === sources.length &&
      m.every((row) => row.length === destinations.length);
    if (!shaped(durations) || !shaped(distances)) {
      this.onError(new OsrmError("table matrices missing or mis-shaped", "invalid", url));
      return null;
    }
    const k = this.scale[mode];
    return {
      seconds: durations!.map((row) => row.map((s) => (s === null ? null : s * k))),
      meters: distances!,
    };
  }

  private failure(url: string, cause: unknown): OsrmError {
    return isTimeout(cause)
      ? new OsrmError(`no answer within ${this.timeoutMs} ms`, "timeout", url, undefined, { cause })
      : new OsrmError("request failed", "network", url, undefined, { cause });
  }

  private base(mode: Mode): string {
    return (this.baseUrls[mode] ?? this.baseUrl).replace(/\/+$/, "");
  }

  private async get<T extends { code: string; message?: string | undefined }>(
    url: string,
    schema: z.ZodType<T>,
  ): Promise<T | null> {
    let response: Response;
    try {
      response = await this.fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (cause) {
      this.onError(this.failure(url, cause));
      return null;
    }
    let json: unknown;
    try {
      json = await response.json();
    } catch (cause) {
      const timedOut = isTimeout(cause);
      const kind = timedOut ? "timeout" : response.ok ? "invalid" : "http";
      const message = timedOut
        ? `no answer within ${this.timeoutMs} ms`
        : `HTTP ${response.status}, body is not JSON`;
      this.onError(new OsrmError(message, kind, url, undefined, { cause }));
      return null;
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const kind = response.ok ? "invalid" : "http";
      this.onError(new OsrmError(`HTTP ${response.status}, unexpected body`, kind, url));
      return null;
    }
    // OSRM answers errors with HTTP 400 and a body like {code: "NoRoute", message}.
    if (parsed.data.code !== "Ok") {
      const message = parsed.data.message ?? parsed.data.code;
      this.onError(
        new OsrmError(`OSRM ${parsed.data.code}: ${message}`, "code", url, parsed.data.code),
      );
      return null;
    }
    return parsed.data;
  }
}

function isTimeout(cause: unknown): boolean {
  return (
    cause instanceof DOMException && (cause.name === "TimeoutError" || cause.name === "AbortError")
  );
}

function coords(points: LatLng[]): string {
  return points.map((p) => `${p.lng.toFixed(6)},${p.lat.toFixed(6)}`).join(";");
}
