/**
 * The shopper's tracking page. Built with Component() (WeChat allows pages to be components),
 * which is also what miniprogram-simulate can load. All logic is in ../../shared; this file
 * wires wx.request, wx.connectSocket and the map to it.
 */
import { DEFAULT_CENTER, GATEWAY_ORIGIN } from "../../config.ts";
import { COURIER_MARKER_ID, DESTINATION_MARKER_ID } from "../../lib/map-types.ts";
import type { MapCircle, MapMarker, MapPolyline } from "../../lib/map-types.ts";
import { wxSocketFactory } from "../../lib/wx-socket.ts";
import {
  CERTIFICATE_VERIFIED_HEADER,
  TrackingConnection,
  applySnapshot,
  certificateAnswered,
  certificateDue,
  certificateRequested,
  certificateUrl,
  messages,
  printableCertificateUrl,
  decodeSnapshot,
  decodeTrackingToken,
  expire,
  expiredFromResponse,
  initialTracking,
  isTokenExpired,
  liveUrl,
  pickLocale,
  snapshotUrl,
  trackingView,
} from "../../shared/index.ts";
import type { Locale, TrackingState, TrackingView } from "../../shared/index.ts";

/** How long a marker glides to its next fix; fixes arrive every 1-3 s. */
const GLIDE_MS = 1000;
/** Radius drawn around a coarse (pre-pickup) position, metres. */
const COARSE_RADIUS_M = 400;
/** Re-render period for "updated 8 s ago" and the minutes left. */
const REFRESH_MS = 15_000;

interface Runtime {
  connection: TrackingConnection | null;
  token: string;
  orderId: string | null;
  /** Asks for a certificate not issued yet again when it is due. */
  certificateTimer: number | null;
  map: WechatMiniprogram.MapContext | null;
  locale: Locale;
  refresh: number | null;
  /** Markers as last given to setData; moves in between go through translateMarker. */
  markers: MapMarker[];
  courierShown: { lat: number; lng: number; coarse: boolean } | null;
  centred: boolean;
}

// Per page instance; a WeakMap keeps these off the typed `this`.
const runtimes = new WeakMap<object, Runtime>();

function courierMarker(view: TrackingView): MapMarker | null {
  if (!view.courier) return null;
  return {
    id: COURIER_MARKER_ID,
    latitude: view.courier.lat,
    longitude: view.courier.lng,
    iconPath: "/images/courier.png",
    width: 36,
    height: 36,
    anchor: { x: 0.5, y: 0.5 },
    rotate: view.courier.heading,
    alpha: view.courier.coarse ? 0.6 : 1,
    zIndex: 2,
  };
}

function destinationMarker(view: TrackingView): MapMarker | null {
  if (!view.destination) return null;
  return {
    id: DESTINATION_MARKER_ID,
    latitude: view.destination.lat,
    longitude: view.destination.lng,
    iconPath: "/images/destination.png",
    width: 30,
    height: 30,
    anchor: { x: 0.5, y: 0.5 },
    zIndex: 1,
  };
}

function routeLine(view: TrackingView): MapPolyline[] {
  if (!view.courier || !view.destination || view.courier.coarse) return [];
  return [
    {
      points: [
        { latitude: view.courier.lat, longitude: view.courier.lng },
        { latitude: view.destination.lat, longitude: view.destination.lng },
      ],
      color: "#16a34aCC",
      width: 6,
      dottedLine: true,
    },
  ];
}

function coarseArea(view: TrackingView): MapCircle[] {
  if (!view.courier?.coarse) return [];
  return [
    {
      latitude: view.courier.lat,
      longitude: view.courier.lng,
      radius: COARSE_RADIUS_M,
      color: "#16a34a66",
      fillColor: "#16a34a22",
      strokeWidth: 1,
    },
  ];
}

Component({
  data: {
    headline: "",
    orderLabel: "",
    eta: { text: "", minutes: "", known: false, done: false },
    steps: [] as TrackingView["steps"],
    temperature: null as TrackingView["temperature"],
    certificate: null as TrackingView["certificate"],
    copyLabel: "",
    courierNote: "",
    banner: "",
    expired: null as TrackingView["expired"],
    center: { latitude: DEFAULT_CENTER.latitude, longitude: DEFAULT_CENTER.longitude },
    scale: 15,
    markers: [] as MapMarker[],
    polyline: [] as MapPolyline[],
    circles: [] as MapCircle[],
  },

  lifetimes: {
    detached() {
      this.teardown();
    },
  },

  methods: {
    onLoad(query: Record<string, string | undefined>) {
      const token = query.token ? decodeURIComponent(query.token) : "";
      const runtime: Runtime = {
        connection: null,
        token,
        orderId: null,
        certificateTimer: null,
        map: null,
        locale: pickLocale(query.lang ?? systemLanguage()),
        refresh: null,
        markers: [],
        courierShown: null,
        centred: false,
      };
      runtimes.set(this, runtime);
      const claims = decodeTrackingToken(token);
      if (!claims) {
        this.render(expire(initialTracking("unknown"), { reason: "invalid_token", message: null }));
        return;
      }
      runtime.orderId = claims.ord;
      const initial = initialTracking(claims.ord, "gcj02");
      if (isTokenExpired(claims, Date.now())) {
        this.render(expire(initial, { reason: "token_expired", message: null }));
        return;
      }
      runtime.map = wx.createMapContext("map", this);
      const connection = new TrackingConnection({
        url: liveUrl(GATEWAY_ORIGIN, token, "gcj02"),
        connect: wxSocketFactory,
        initial,
        onState: (state) => this.render(state),
      });
      runtime.connection = connection;
      this.render(initial);
      runtime.refresh = setInterval(
        () => this.render(connection.current),
        REFRESH_MS,
      ) as unknown as number;
      // First paint from the snapshot, then the socket resumes from the snapshot's offset.
      wx.request({
        url: snapshotUrl(GATEWAY_ORIGIN, claims.ord, "gcj02"),
        method: "GET",
        header: { Authorization: `Bearer ${token}` },
        success: (response) => {
          const expired = expiredFromResponse(response.statusCode, response.data);
          if (expired) {
            connection.update((s) => expire(s, expired));
            return;
          }
          const snapshot = response.statusCode === 200 ? decodeSnapshot(response.data) : null;
          if (snapshot) connection.update((s) => applySnapshot(s, snapshot));
          connection.start();
        },
        fail: () => connection.start(),
      });
    },

    onUnload() {
      this.teardown();
    },

    teardown() {
      const runtime = runtimes.get(this);
      if (!runtime) return;
      if (runtime.refresh !== null) clearInterval(runtime.refresh);
      runtime.refresh = null;
      if (runtime.certificateTimer !== null) clearTimeout(runtime.certificateTimer);
      runtime.certificateTimer = null;
      runtime.connection?.stop();
      runtime.connection = null;
    },

    render(state: TrackingState) {
      const runtime = runtimes.get(this);
      const locale = runtime?.locale ?? "zh-CN";
      const view = trackingView(state, locale, Date.now());
      if (view.expired) runtime?.connection?.stop();
      const patch: Record<string, unknown> = {
        headline: view.headline,
        orderLabel: view.orderLabel,
        eta: view.eta,
        steps: view.steps,
        temperature: view.temperature,
        certificate: view.certificate,
        copyLabel: messages(locale).certificate.copy,
        courierNote: view.courierNote,
        banner: view.banner,
        expired: view.expired,
        polyline: routeLine(view),
        circles: coarseArea(view),
      };
      if (runtime) this.placeMarkers(runtime, view, patch);
      this.setData(patch);
      if (runtime) this.scheduleCertificate(runtime, state);
    },

    /** After delivery: ask for the certificate now, or when a retry is due. */
    scheduleCertificate(runtime: Runtime, state: TrackingState) {
      if (runtime.certificateTimer !== null) return;
      const c = state.certificate;
      const now = Date.now();
      const at =
        c.status === "idle"
          ? certificateDue(state, now)
            ? now
            : null
          : c.status === "pending" || (c.status === "failed" && c.retryAt !== null)
            ? c.retryAt
            : null;
      if (at === null || state.status !== "delivered") return;
      runtime.certificateTimer = setTimeout(
        () => {
          runtime.certificateTimer = null;
          this.askCertificate();
        },
        Math.max(0, at - now),
      ) as unknown as number;
    },

    askCertificate() {
      const runtime = runtimes.get(this);
      const connection = runtime?.connection;
      if (!runtime || !connection || runtime.orderId === null) return;
      if (!certificateDue(connection.current, Date.now())) return;
      connection.update(certificateRequested);
      wx.request({
        url: certificateUrl(GATEWAY_ORIGIN, runtime.orderId),
        method: "GET",
        header: { Authorization: `Bearer ${runtime.token}` },
        success: (response) => {
          const verified = headerValue(response.header, CERTIFICATE_VERIFIED_HEADER);
          connection.update((s) =>
            certificateAnswered(s, response.statusCode, response.data, verified, Date.now()),
          );
        },
        fail: () => connection.update((s) => certificateAnswered(s, 0, null, null, Date.now())),
      });
    },

    /** A mini-program opens no outside pages: the printable certificate's link is copied. */
    copyCertificateLink() {
      const runtime = runtimes.get(this);
      if (!runtime || runtime.orderId === null) return;
      const words = messages(runtime.locale).certificate;
      wx.setClipboardData({
        data: printableCertificateUrl(
          GATEWAY_ORIGIN,
          runtime.orderId,
          runtime.token,
          runtime.locale,
        ),
        success: () => wx.showToast({ title: words.copied, icon: "none" }),
      });
    },

    /** Glide the courier with translateMarker; setData the markers only when the set changes. */
    placeMarkers(runtime: Runtime, view: TrackingView, patch: Record<string, unknown>) {
      const courier = courierMarker(view);
      const destination = destinationMarker(view);
      const next = [courier, destination].filter((m): m is MapMarker => m !== null);
      const shown = runtime.courierShown;
      const sameSet =
        next.length === runtime.markers.length &&
        next.every((m, i) => m.id === runtime.markers[i]?.id);
      const glide =
        sameSet &&
        courier !== null &&
        shown !== null &&
        shown.coarse === view.courier?.coarse &&
        runtime.map !== null;
      if (glide && courier && (shown.lat !== courier.latitude || shown.lng !== courier.longitude)) {
        runtime.map?.translateMarker({
          markerId: COURIER_MARKER_ID,
          destination: { latitude: courier.latitude, longitude: courier.longitude },
          autoRotate: false,
          rotate: courier.rotate ?? 0,
          moveWithRotate: true,
          duration: GLIDE_MS,
        });
      } else if (!glide) {
        patch.markers = next;
      }
      runtime.markers = next;
      runtime.courierShown = view.courier
        ? { lat: view.courier.lat, lng: view.courier.lng, coarse: view.courier.coarse }
        : null;
      if (!runtime.centred && (view.courier || view.destination)) {
        const at = view.courier ?? view.destination!;
        patch.center = { latitude: at.lat, longitude: at.lng };
        runtime.centred = true;
      }
      if (view.courier && view.destination && runtime.map && !glide) {
        runtime.map.includePoints({
          points: [
            { latitude: view.courier.lat, longitude: view.courier.lng },
            { latitude: view.destination.lat, longitude: view.destination.lng },
          ],
          padding: [60, 60, 60, 60],
        });
      }
    },
  },
});

function systemLanguage(): string | null {
  try {
    return wx.getAppBaseInfo?.().language ?? null;
  } catch {
    return null;
  }
}

/** A response header, whatever the case the server or the client gave its name. */
function headerValue(headers: unknown, name: string): string | null {
  if (typeof headers !== "object" || headers === null) return null;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
    if (key.toLowerCase() === wanted && typeof value === "string") return value;
  }
  return null;
}
