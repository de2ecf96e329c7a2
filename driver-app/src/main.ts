/**
 * The driver app in the browser: sign-in, shift, the location uplink on `/ws/driver` with its
 * offline queue, and the courier's own channel on `/ws/live`. Logic lives in the modules beside
 * this one; this file wires them to the page.
 */
import type { Channel, Fix, PushFrame } from "../../protocol/index.ts";
import { setShift } from "./api.ts";
import { gatewayBases, parseConfig } from "../../app-kit/index.ts";
import { clockTime, preferredLang, refusalText, rejectionText, translator } from "./i18n.ts";
import type { Lang, MessageKey, Translate } from "./i18n.ts";
import { LiveChannels, storageOffsets } from "../../app-kit/index.ts";
import { OwnPositionMap } from "./map.ts";
import { sessionFromToken, tokenFromHash } from "../../app-kit/index.ts";
import type { Session } from "../../app-kit/index.ts";
import { ReconnectingSocket } from "../../app-kit/index.ts";
import type { SocketStatus } from "../../app-kit/index.ts";
import { LocationUplink, fixFromPosition, storageFixStore } from "./uplink.ts";
import type { UplinkCounts } from "./uplink.ts";
import "./styles.css";

const KEYS = {
  token: "xianda.driver.token",
  courier: "xianda.driver.courier",
  lang: "xianda.driver.lang",
  shift: "xianda.driver.shift",
  queue: "xianda.driver.queue",
  offsets: "xianda.driver.offset.",
} as const;

/** Markets the screens know by name; others show their id. */
const MARKET_NAMES: Record<string, { zh: string; en: string }> = {
  km: { zh: "昆明", en: "Kunming" },
  kunming: { zh: "昆明", en: "Kunming" },
};

type GpsState = "idle" | "waiting" | "ok" | "denied" | "unavailable" | "timeout" | "unsupported";

interface FeedItem {
  at: number;
  text: (t: Translate, lang: Lang) => string;
}

const config = parseConfig(document.getElementById("xianda-config")?.textContent);
const bases = gatewayBases(config, location.origin);

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`missing #${id}`);
  return element as T;
};

let lang: Lang = preferredLang(localStorage.getItem(KEYS.lang));
let t: Translate = translator(lang);

const state = {
  session: null as Session | null,
  onShift: localStorage.getItem(KEYS.shift) === "on",
  shiftPending: false,
  shiftMessage: null as { text: () => string; info: boolean } | null,
  driverStatus: "stopped" as SocketStatus,
  driverRetryMs: undefined as number | undefined,
  liveStatus: "stopped" as SocketStatus,
  gps: "idle" as GpsState,
  lastFix: null as Fix | null,
  counts: null as UplinkCounts | null,
  feed: [] as FeedItem[],
};

let driverSocket: ReconnectingSocket | null = null;
let liveSocket: ReconnectingSocket | null = null;
let uplink: LocationUplink | null = null;
let watchId: number | null = null;
let map: OwnPositionMap | null = null;

// --- sign-in ----------------------------------------------------------------------------------

function signIn(token: string): string | null {
  const result = sessionFromToken(token, ["courier"], Date.now());
  if ("problem" in result) return t(`login.${result.problem}`);
  if (localStorage.getItem(KEYS.courier) !== result.claims.sub) {
    // Another courier on this phone: their shift and queued fixes are not this one's.
    for (const key of [KEYS.shift, KEYS.queue]) localStorage.removeItem(key);
    state.onShift = false;
    localStorage.setItem(KEYS.courier, result.claims.sub);
  }
  localStorage.setItem(KEYS.token, result.token);
  state.session = result;
  startSession(result);
  return null;
}

function signOut(): void {
  stopGps();
  driverSocket?.stop();
  liveSocket?.stop();
  driverSocket = liveSocket = null;
  uplink = null;
  state.session = null;
  state.onShift = false;
  state.feed = [];
  state.lastFix = null;
  localStorage.removeItem(KEYS.token);
  localStorage.removeItem(KEYS.shift);
  render();
}

function startSession(session: Session): void {
  const token = encodeURIComponent(session.token);
  driverSocket = new ReconnectingSocket({
    url: `${bases.ws}/ws/driver?token=${token}`,
    onWelcome: () => uplink?.flush(),
    onFrame: (frame) => uplink?.receive(frame),
    onStatus: (status, retryInMs) => {
      state.driverStatus = status;
      state.driverRetryMs = retryInMs;
      render();
    },
  });
  uplink = new LocationUplink(driverSocket, storageFixStore(localStorage, KEYS.queue), (counts) => {
    state.counts = counts;
    render();
  });
  state.counts = uplink.snapshot;

  const own = `courier:${session.claims.sub}` as Channel;
  const channels = new LiveChannels([own], storageOffsets(localStorage, KEYS.offsets), (_c, f) =>
    addToFeed(f),
  );
  liveSocket = new ReconnectingSocket({
    url: `${bases.ws}/ws/live?token=${token}`,
    onWelcome: () => {
      for (const frame of channels.subscribeFrames()) liveSocket?.send(frame);
    },
    onFrame: (frame) => void channels.receive(frame),
    onStatus: (status) => {
      state.liveStatus = status;
      render();
    },
  });
  driverSocket.start();
  liveSocket.start();
  if (state.onShift) startGps();
  render();
}

// --- shift --------------------------------------------------------------------------------------

async function toggleShift(): Promise<void> {
  const session = state.session;
  if (session === null || state.shiftPending) return;
  const wanted = !state.onShift;
  state.shiftPending = true;
  state.shiftMessage = null;
  render();
  const result = await setShift(bases.http, session.token, wanted);
  state.shiftPending = false;
  if (result.ok) {
    applyShift(wanted);
  } else if (wanted && result.code === "invalid_transition") {
    // Going on shift twice is refused; the courier is on shift, which is what they asked for.
    applyShift(true);
    state.shiftMessage = { text: () => t("shift.already_on"), info: true };
  } else if (!wanted && result.code === "not_on_shift") {
    applyShift(false);
    state.shiftMessage = { text: () => t("shift.already_off"), info: true };
  } else {
    const code = result.code;
    state.shiftMessage = { text: () => refusalText(t, code), info: false };
  }
  render();
}

function applyShift(on: boolean): void {
  state.onShift = on;
  localStorage.setItem(KEYS.shift, on ? "on" : "off");
  if (on) startGps();
  else stopGps();
}

// --- geolocation --------------------------------------------------------------------------------

function startGps(): void {
  if (watchId !== null) return;
  if (!("geolocation" in navigator)) {
    state.gps = "unsupported";
    return;
  }
  state.gps = "waiting";
  watchId = navigator.geolocation.watchPosition(
    (position) => {
      const fix = fixFromPosition(position);
      if (fix === null) return;
      state.gps = "ok";
      state.lastFix = fix;
      uplink?.report(fix);
      map?.show(fix.lat, fix.lng, fix.accuracy);
      render();
    },
    (error) => {
      state.gps =
        error.code === error.PERMISSION_DENIED
          ? "denied"
          : error.code === error.TIMEOUT
            ? "timeout"
            : "unavailable";
      render();
    },
    { enableHighAccuracy: true, maximumAge: 0, timeout: 20_000 },
  );
}

function stopGps(): void {
  if (watchId !== null) navigator.geolocation.clearWatch(watchId);
  watchId = null;
  state.gps = "idle";
}

// --- the courier's own channel ------------------------------------------------------------------

function addToFeed(frame: PushFrame): void {
  const text = describe(frame);
  if (text === null) return;
  // Position echoes are frequent: keep only the newest one in the list.
  if (frame.kind === "courier") state.feed = state.feed.filter((item) => item.text !== echo);
  state.feed.unshift({ at: frame.at, text: frame.kind === "courier" ? echo : text });
  state.feed = state.feed.slice(0, 12);
  render();
}

const echo = (tr: Translate): string => tr("channel.courier");

function describe(frame: PushFrame): FeedItem["text"] | null {
  switch (frame.kind) {
    case "courier":
      return echo;
    case "status":
      return (tr) => tr("channel.status", { order: frame.orderId, status: frame.status });
    case "eta":
      return (tr, l) => tr("channel.eta", { order: frame.orderId, time: clockTime(l, frame.p50) });
    case "temperature":
      return (tr) =>
        tr("channel.temperature", {
          compartment: frame.compartmentId,
          celsius: frame.celsius.toFixed(1),
        });
    case "alert":
      return () => frame.message;
    case "couriers":
    case "order":
      return null;
  }
}

// --- rendering ----------------------------------------------------------------------------------

function translateStatic(): void {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = t("app.title");
  for (const element of document.querySelectorAll<HTMLElement>("[data-i18n]")) {
    element.textContent = t(element.dataset["i18n"] as MessageKey);
  }
  for (const element of document.querySelectorAll<HTMLTextAreaElement>("[data-i18n-placeholder]")) {
    element.placeholder = t(element.dataset["i18nPlaceholder"] as MessageKey);
  }
}

function connText(status: SocketStatus, retryInMs: number | undefined): string {
  if (status === "waiting") {
    return t("conn.waiting", { seconds: Math.max(1, Math.round((retryInMs ?? 0) / 1000)) });
  }
  return t(`conn.${status}`);
}

function render(): void {
  const session = state.session;
  $("login").hidden = session !== null;
  $("home").hidden = session === null;
  const conn = $("conn");
  conn.dataset["state"] = session === null ? "stopped" : state.driverStatus;
  conn.textContent = session === null ? "" : connText(state.driverStatus, state.driverRetryMs);
  conn.hidden = session === null;
  if (session === null) return;

  if (map === null) map = new OwnPositionMap($("map"), config.tileUrl);
  $("who-courier").textContent = session.claims.sub;
  const market = session.claims.mkt ?? "—";
  $("who-market").textContent = MARKET_NAMES[market]?.[lang] ?? market;

  $("shift-dot").classList.toggle("on", state.onShift);
  $("shift-text").textContent = t(state.onShift ? "shift.on" : "shift.off");
  const button = $<HTMLButtonElement>("shift-button");
  button.disabled = state.shiftPending;
  button.classList.toggle("stop", state.onShift);
  button.textContent = state.shiftPending
    ? t("shift.pending")
    : t(state.onShift ? "shift.end" : "shift.start");
  const message = $("shift-message");
  message.hidden = state.shiftMessage === null;
  message.textContent = state.shiftMessage?.text() ?? "";
  message.classList.toggle("info", state.shiftMessage?.info ?? false);

  const gps = $("gps");
  gps.textContent = `${t("gps.label")} · ${t(`gps.${state.gps}`)}`;
  gps.dataset["state"] =
    state.gps === "ok" ? "ok" : state.gps === "idle" || state.gps === "waiting" ? "" : "error";

  const fix = state.lastFix;
  $("stat-position").textContent =
    fix === null ? "—" : `${fix.lat.toFixed(5)}, ${fix.lng.toFixed(5)}`;
  $("stat-accuracy").textContent =
    fix?.accuracy === undefined ? "—" : t("stats.metres", { value: Math.round(fix.accuracy) });
  $("stat-time").textContent = fix === null ? "—" : clockTime(lang, fix.at);
  const counts = state.counts;
  $("stat-accepted").textContent = String(counts?.accepted ?? 0);
  $("stat-rejected").textContent = String(counts?.rejected ?? 0);
  $("stat-queued").textContent = String(counts?.queued ?? 0);
  const notes: string[] = [];
  if (counts?.lastRejection != null) {
    notes.push(t("stats.lastRejection", { reason: rejectionText(t, counts.lastRejection) }));
  }
  if ((counts?.dropped ?? 0) > 0) notes.push(t("stats.dropped", { count: counts?.dropped ?? 0 }));
  $("stat-note").hidden = notes.length === 0;
  $("stat-note").textContent = notes.join(" · ");

  const live = $("live-conn");
  live.dataset["state"] = state.liveStatus;
  live.textContent = t(`conn.${state.liveStatus === "waiting" ? "connecting" : state.liveStatus}`);
  const list = $("channel-list");
  list.replaceChildren(
    ...state.feed.map((item) => {
      const li = document.createElement("li");
      const text = document.createElement("span");
      text.textContent = item.text(t, lang);
      const time = document.createElement("time");
      time.textContent = clockTime(lang, item.at);
      li.append(text, time);
      return li;
    }),
  );
  $("channel-empty").hidden = state.feed.length > 0;
}

// --- start --------------------------------------------------------------------------------------

$("lang").addEventListener("click", () => {
  lang = lang === "zh" ? "en" : "zh";
  t = translator(lang);
  localStorage.setItem(KEYS.lang, lang);
  translateStatic();
  render();
});

$("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const problem = signIn($<HTMLTextAreaElement>("login-token").value);
  $("login-error").hidden = problem === null;
  $("login-error").textContent = problem ?? "";
  render();
  map?.refresh();
});

$("logout").addEventListener("click", signOut);
$("shift-button").addEventListener("click", () => void toggleShift());

/** Read by the browser tests; harmless in production. */
Object.assign(window, {
  __xiandaDriver: {
    state: () => ({
      signedIn: state.session !== null,
      onShift: state.onShift,
      driverStatus: state.driverStatus,
      liveStatus: state.liveStatus,
      gps: state.gps,
      lastFix: state.lastFix,
      counts: state.counts,
    }),
    /** Simulates losing the network for `holdMs` on the location uplink. */
    dropConnection: (holdMs?: number) => driverSocket?.drop(holdMs),
  },
});

translateStatic();
const linked = tokenFromHash(location.hash);
if (linked !== null) {
  // Take the token out of the address bar so it is not shared with a screenshot or a bookmark.
  history.replaceState(null, "", location.pathname + location.search);
}
const saved = linked ?? localStorage.getItem(KEYS.token);
if (saved !== null) {
  const problem = signIn(saved);
  if (problem !== null) {
    $("login-error").hidden = false;
    $("login-error").textContent = problem;
  }
}
render();
