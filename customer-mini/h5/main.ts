/**
 * The H5 tracking page at /t/<token>, for shoppers outside WeChat. Same session logic as the
 * mini-program (../shared); the browser's WebSocket and fetch plug into it.
 *
 * Coordinates: Leaflet draws in whatever system its tiles use. With a Chinese tile layer
 * configured (GCJ-02, e.g. AutoNavi) the page asks the gateway for `coord=gcj02`; with no tile
 * layer, or one declared WGS-84, it asks for `wgs84`, the system's own.
 */
import {
  CERTIFICATE_VERIFIED_HEADER,
  TrackingConnection,
  applySnapshot,
  certificateAnswered,
  certificateDue,
  certificateRequested,
  certificateUrl,
  printableCertificateUrl,
  decodeSnapshot,
  decodeTrackingToken,
  expire,
  expiredFromResponse,
  initialTracking,
  isTokenExpired,
  liveUrl,
  messages,
  pickLocale,
  snapshotUrl,
  trackingView,
} from "../shared/index.ts";
import type { CoordSystem, LiveSocket, LinkExpired, TrackingState } from "../shared/index.ts";
import { TrackingMap } from "./map.ts";
import { renderExpired, renderView } from "./render.ts";

interface PageConfig {
  readonly tileUrl: string | null;
  readonly tileAttribution: string | null;
  readonly coord: CoordSystem;
}

function readConfig(): PageConfig {
  const element = document.getElementById("xianda-config");
  const raw = element?.textContent ? (JSON.parse(element.textContent) as Partial<PageConfig>) : {};
  return {
    tileUrl: raw.tileUrl ?? null,
    tileAttribution: raw.tileAttribution ?? null,
    coord: raw.coord === "gcj02" ? "gcj02" : "wgs84",
  };
}

function browserSocket(url: string): LiveSocket {
  const ws = new WebSocket(url);
  return {
    send: (text) => ws.readyState === WebSocket.OPEN && ws.send(text),
    close: (code, reason) => ws.close(code, reason),
    onOpen: (listener) => ws.addEventListener("open", () => listener()),
    onMessage: (listener) =>
      ws.addEventListener("message", (event: MessageEvent) => {
        if (typeof event.data === "string") listener(event.data);
      }),
    onClose: (listener) =>
      ws.addEventListener("close", (event: CloseEvent) => listener(event.code, event.reason)),
    onError: (listener) => ws.addEventListener("error", () => listener("websocket error")),
  };
}

/** GET the snapshot: the state to paint, or why the link no longer works. */
async function fetchSnapshot(
  orderId: string,
  token: string,
  coord: CoordSystem,
): Promise<{ expired: LinkExpired | null; apply: (s: TrackingState) => TrackingState }> {
  const response = await fetch(snapshotUrl(location.origin, orderId, coord), {
    headers: { Authorization: `Bearer ${token}` },
    cache: "no-store",
  });
  const body: unknown = await response.json().catch(() => null);
  const expired = expiredFromResponse(response.status, body);
  const snapshot = response.ok ? decodeSnapshot(body) : null;
  return { expired, apply: (s) => (snapshot ? applySnapshot(s, snapshot) : s) };
}

function tokenFromPath(): string {
  const match = /\/t\/([^/?#]+)/.exec(location.pathname);
  return match?.[1] ? decodeURIComponent(match[1]) : "";
}

/** GET the certificate with the shopper's token: status 0 when the network failed. */
async function fetchCertificate(
  orderId: string,
  token: string,
): Promise<{ status: number; body: unknown; verified: string | null }> {
  try {
    const response = await fetch(certificateUrl(location.origin, orderId), {
      headers: { Authorization: `Bearer ${token}` },
      cache: "no-store",
    });
    const body: unknown = await response.json().catch(() => null);
    return {
      status: response.status,
      body,
      verified: response.headers.get(CERTIFICATE_VERIFIED_HEADER),
    };
  } catch {
    return { status: 0, body: null, verified: null };
  }
}

async function main(): Promise<void> {
  const config = readConfig();
  const locale = pickLocale(new URLSearchParams(location.search).get("lang"));
  document.documentElement.lang = locale;
  const token = tokenFromPath();
  const claims = decodeTrackingToken(token);
  let shownExpired = false;
  let map: TrackingMap | null = null;

  // After delivery of a chilled or frozen order: its certificate, asked for (again) when due.
  let connection: TrackingConnection | null = null;
  const askCertificate = () => {
    const live = connection;
    if (!claims || !live || !certificateDue(live.current, Date.now())) return;
    live.update(certificateRequested);
    void fetchCertificate(claims.ord, token).then(({ status, body, verified }) =>
      live.update((s) => certificateAnswered(s, status, body, verified, Date.now())),
    );
  };
  let askedCode = false;
  const askCode = () => {
    const live = connection;
    if (!claims || !live) return;
    void fetchSnapshot(claims.ord, token, config.coord)
      .then(({ apply }) => live.update(apply))
      .catch(() => {
        askedCode = false; // the network: asked again on the next render
      });
  };
  const links = claims
    ? { certificate: printableCertificateUrl(location.origin, claims.ord, token, locale) }
    : undefined;

  const render = (state: TrackingState) => {
    const view = trackingView(state, locale, Date.now());
    if (view.expired) {
      if (!shownExpired) renderExpired(view.expired);
      shownExpired = true;
      return;
    }
    renderView(view, links);
    map?.show(view.courier, view.destination);
    // Deferred: render runs inside the connection's own state change.
    if (certificateDue(state, Date.now())) setTimeout(askCertificate, 0);
    // The goods reached the pickup point (a live status frame): the code comes with the snapshot.
    if (state.status === "at_pickup_point" && !state.collectCode && !askedCode) {
      askedCode = true;
      setTimeout(askCode, 0);
    }
  };

  if (!claims) {
    render(expire(initialTracking("unknown"), { reason: "invalid_token", message: null }));
    return;
  }
  const initial = initialTracking(claims.ord, config.coord);
  if (isTokenExpired(claims, Date.now())) {
    render(expire(initial, { reason: "token_expired", message: null }));
    return;
  }
  const mapElement = document.getElementById("map");
  if (mapElement) {
    map = new TrackingMap(mapElement, {
      tileUrl: config.tileUrl,
      ...(config.tileAttribution ? { attribution: config.tileAttribution } : {}),
      courierLabel: messages(locale).courier,
    });
  }
  render(initial);

  const live = new TrackingConnection({
    url: liveUrl(location.origin, token, config.coord),
    connect: browserSocket,
    initial,
    onState: render,
    probeExpired: async () => (await fetchSnapshot(claims.ord, token, config.coord)).expired,
  });
  connection = live;
  // Keep "updated 8 s ago" and the minutes left current.
  setInterval(() => {
    if (!shownExpired) render(live.current);
  }, 15_000);
  // A certificate not issued yet is asked for again when due.
  setInterval(askCertificate, 1_000);
  try {
    const { expired, apply } = await fetchSnapshot(claims.ord, token, config.coord);
    if (expired) {
      live.update((s) => expire(s, expired));
      return;
    }
    live.update(apply);
  } catch {
    // No snapshot (network): the socket still brings everything.
  }
  live.start();
}

void main();
