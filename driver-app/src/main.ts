/**
 * The driver app in the browser: sign-in, shift, the location uplink on `/ws/driver` with its
 * offline queue, the courier's own channel on `/ws/live` (offers and work), and the work screens
 * whose actions go through a persisted queue (sent in order, once, when the network allows).
 * Logic lives in the modules beside this one; this file wires them to the page.
 */
import type { Channel, Fix, PushFrame } from "../../protocol/index.ts";
import { ActionQueue, storageActionStore } from "./actions.ts";
import type { CourierAction, Settled } from "./actions.ts";
import { fetchMe, fetchOrderContact, sendAction, setShift } from "./api.ts";
import type { CourierContact } from "./api.ts";
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
import { offerCards, stopItems, tickCountdowns } from "./screens.ts";
import type { Arrival, WorkHandlers, WorkView } from "./screens.ts";
import {
  NO_WORK,
  openOffers,
  storageWork,
  withOffer,
  workFromFrame,
  workFromView,
} from "./work.ts";
import type { Work } from "./work.ts";
import "./styles.css";

const KEYS = {
  token: "xianda.driver.token",
  courier: "xianda.driver.courier",
  lang: "xianda.driver.lang",
  shift: "xianda.driver.shift",
  queue: "xianda.driver.queue",
  offsets: "xianda.driver.offset.",
  actions: "xianda.driver.actions",
  work: "xianda.driver.work",
  arrived: "xianda.driver.arrived",
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
  work: NO_WORK as Work,
  /** Server clock minus this device's, from the gateway's welcome. */
  clockOffset: 0,
  arrived: {} as Record<string, Arrival>,
  declining: null as string | null,
  failing: null as string | null,
  pins: {} as Record<string, string>,
  photos: {} as Record<string, string>,
  proofProblem: null as { orderId: string; text: string } | null,
  workMessage: null as { text: () => string; ok: boolean } | null,
  /**
   * The shoppers' contacts of the courier's jobs (masked; the address while the order is theirs),
   * in memory only: never written to the phone's storage, dropped with the job.
   */
  contacts: new Map<string, CourierContact>(),
};
/** Orders whose contact is being fetched. */
const fetchingContacts = new Set<string>();

let driverSocket: ReconnectingSocket | null = null;
let liveSocket: ReconnectingSocket | null = null;
let uplink: LocationUplink | null = null;
let watchId: number | null = null;
let map: OwnPositionMap | null = null;
let actions: ActionQueue | null = null;
/** Bumped by every work frame: a snapshot fetched before one must not replace it. */
let workVersion = 0;
/** The van's stops in a scheduled wave, as its departure sent them (`wave_route`). */
let waveRoute: Extract<PushFrame, { kind: "wave_route" }> | null = null;
let drawnWork = "";
const workStore = storageWork(localStorage, KEYS.work);

// --- sign-in ----------------------------------------------------------------------------------

function signIn(token: string): string | null {
  const result = sessionFromToken(token, ["courier"], Date.now());
  if ("problem" in result) return t(`login.${result.problem}`);
  if (localStorage.getItem(KEYS.courier) !== result.claims.sub) {
    // Another courier on this phone: their shift, queued fixes, actions and work are not this one's.
    for (const key of [KEYS.shift, KEYS.queue, KEYS.actions, KEYS.work, KEYS.arrived]) {
      localStorage.removeItem(key);
    }
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
  actions = null;
  state.work = NO_WORK;
  state.arrived = {};
  state.contacts.clear();
  drawnWork = "";
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

  state.work = workStore.load();
  state.arrived = loadArrived();
  actions = new ActionQueue({
    send: (queued) => sendAction(bases.http, session.token, queued),
    store: storageActionStore(localStorage, KEYS.actions),
    onChange: () => render(),
    onSettled: settled,
  });

  const own = `courier:${session.claims.sub}` as Channel;
  const channels = new LiveChannels([own], storageOffsets(localStorage, KEYS.offsets), (_c, f) =>
    onPush(f),
  );
  liveSocket = new ReconnectingSocket({
    url: `${bases.ws}/ws/live?token=${token}`,
    onWelcome: (welcome) => {
      state.clockOffset = welcome.now - Date.now();
      for (const frame of channels.subscribeFrames()) liveSocket?.send(frame);
      void refreshWork(session);
      void actions?.flush();
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
  void actions.flush();
  render();
}

// --- work: offers, jobs, route ------------------------------------------------------------------

function onPush(frame: PushFrame): void {
  if (frame.kind === "work") {
    workVersion += 1;
    setWork(workFromFrame(frame));
  } else if (frame.kind === "offer") {
    setWork(withOffer(state.work, frame));
  } else if (frame.kind === "wave_route") {
    waveRoute = frame;
    render();
  }
  addToFeed(frame);
}

/** The courier's state as the gateway has it: on every (re)connect, in case frames were missed. */
async function refreshWork(session: Session): Promise<void> {
  const version = workVersion;
  const view = await fetchMe(bases.http, session.token);
  const work = workFromView(view, serverNow());
  if (work === null || version !== workVersion || state.session !== session) return;
  setWork(work);
}

function setWork(work: Work): void {
  state.work = work;
  workStore.save(work);
  // Stops done (or jobs gone) need no arrival mark any more.
  const live = new Set(work.route.map((stop) => stop.orderId));
  let changed = false;
  for (const orderId of Object.keys(state.arrived)) {
    if (!live.has(orderId)) {
      delete state.arrived[orderId];
      delete state.pins[orderId];
      delete state.photos[orderId];
      changed = true;
    }
  }
  const pickups = new Set(work.route.filter((s) => s.kind === "pickup").map((s) => s.orderId));
  for (const [orderId, at] of Object.entries(state.arrived)) {
    // Picked up: the store arrival is behind us.
    if (at === "store" && !pickups.has(orderId)) {
      delete state.arrived[orderId];
      changed = true;
    }
  }
  if (changed) saveArrived();
  refreshContacts();
  render();
}

/**
 * Fetches the contact of each job that has none with an address yet (the gateway shows the
 * address from assignment until delivery), and forgets the contacts of jobs that are gone.
 */
function refreshContacts(): void {
  const jobs = new Set(state.work.jobs.map((j) => j.orderId));
  for (const orderId of [...state.contacts.keys()]) {
    if (!jobs.has(orderId)) state.contacts.delete(orderId);
  }
  const session = state.session;
  if (session === null) return;
  for (const orderId of jobs) {
    if (state.contacts.get(orderId)?.address != null || fetchingContacts.has(orderId)) continue;
    fetchingContacts.add(orderId);
    void fetchOrderContact(bases.http, session.token, orderId)
      .then((contact) => {
        if (contact === null || state.session !== session) return;
        if (!state.work.jobs.some((j) => j.orderId === orderId)) return;
        state.contacts.set(orderId, contact);
        render();
      })
      .finally(() => fetchingContacts.delete(orderId));
  }
}

function serverNow(): number {
  return Date.now() + state.clockOffset;
}

function loadArrived(): Record<string, Arrival> {
  try {
    const parsed = JSON.parse(localStorage.getItem(KEYS.arrived) ?? "{}") as unknown;
    return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, Arrival>) : {};
  } catch {
    return {};
  }
}

function saveArrived(): void {
  localStorage.setItem(KEYS.arrived, JSON.stringify(state.arrived));
}

function take(action: CourierAction): void {
  state.workMessage = null;
  actions?.take(action);
  render();
}

function settled(result: Settled): void {
  const what = () => t(`action.${result.action.kind}`, { order: result.action.orderId });
  if (result.ok) {
    state.workMessage = { text: () => t("settled.ok", { action: what() }), ok: true };
  } else {
    const code = result.code;
    state.workMessage = {
      text: () => t("settled.refused", { action: what(), reason: refusalText(t, code) }),
      ok: false,
    };
    const { kind, orderId } = result.action;
    // A refused arrival is not an arrival (unless it was refused for having been made already).
    if (
      (kind === "arrived_store" || kind === "arrived_customer") &&
      code !== "invalid_transition"
    ) {
      delete state.arrived[orderId];
      saveArrived();
    }
    if (kind === "deliver") state.proofProblem = { orderId, text: refusalText(t, code) };
  }
  if (state.session !== null) void refreshWork(state.session);
  render();
}

const handlers: WorkHandlers = {
  accept: (orderId) => take({ kind: "accept", orderId }),
  startDecline: (orderId) => {
    state.declining = orderId;
    render();
  },
  decline: (orderId, reason) => {
    state.declining = null;
    take({ kind: "decline", orderId, reason });
  },
  arrived: (orderId, at) => {
    state.arrived[orderId] = at;
    saveArrived();
    take({ kind: at === "store" ? "arrived_store" : "arrived_customer", orderId });
  },
  pin: (orderId, value) => {
    state.pins[orderId] = value.trim();
  },
  photo: (orderId, file) => {
    void shrinkPhoto(file).then(
      (dataUrl) => {
        state.photos[orderId] = dataUrl;
        state.proofProblem = null;
        render();
      },
      () => {
        state.proofProblem = { orderId, text: t("deliver.photoFailed") };
        render();
      },
    );
  },
  deliver: (orderId) => {
    const pin = state.pins[orderId] ?? "";
    const photo = state.photos[orderId];
    if (pin === "" && photo === undefined) {
      state.proofProblem = { orderId, text: t("deliver.needProof") };
      render();
      return;
    }
    if (pin !== "" && !/^[0-9]{4,8}$/.test(pin)) {
      state.proofProblem = { orderId, text: t("deliver.badPin") };
      render();
      return;
    }
    state.proofProblem = null;
    take({
      kind: "deliver",
      orderId,
      ...(pin !== "" ? { pin } : {}),
      ...(photo !== undefined ? { photo } : {}),
    });
  },
  startFail: (orderId) => {
    state.failing = orderId;
    render();
  },
  fail: (orderId, reason) => {
    state.failing = null;
    take({ kind: "fail", orderId, reason });
  },
};

/** A photo as a JPEG data: URL of at most 1280 px a side (small enough to queue offline). */
async function shrinkPhoto(file: File): Promise<string> {
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(1, 1280 / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(bitmap.width * scale));
  canvas.height = Math.max(1, Math.round(bitmap.height * scale));
  const context = canvas.getContext("2d");
  if (context === null) throw new Error("no canvas");
  context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  return canvas.toDataURL("image/jpeg", 0.8);
}

function pendingByOrder(): Map<string, string> {
  const pending = new Map<string, string>();
  for (const queued of actions?.pending ?? []) {
    const kind = queued.action.kind;
    pending.set(queued.action.orderId, kind === "accept" || kind === "decline" ? "answer" : kind);
  }
  return pending;
}

function renderWork(): void {
  const pending = pendingByOrder();
  const view: WorkView = {
    work: state.work,
    now: serverNow(),
    here: state.lastFix,
    arrived: state.arrived,
    pending,
    declining: state.declining,
    failing: state.failing,
    pins: state.pins,
    photos: state.photos,
    proofProblem: state.proofProblem,
    contacts: state.contacts,
  };
  // Redrawn only when something shown changed, so a PIN being typed keeps its focus.
  const key = JSON.stringify([
    lang,
    state.work,
    state.arrived,
    [...pending],
    state.declining,
    state.failing,
    Object.keys(state.photos),
    state.proofProblem,
    [...state.contacts],
    state.lastFix === null,
    // An offer running out changes what is shown; the clock otherwise does not.
    openOffers(state.work, view.now).map((o) => o.orderId),
  ]);
  if (key !== drawnWork) {
    drawnWork = key;
    $("offers").replaceChildren(...offerCards(view, t, handlers));
    $("route-list").replaceChildren(...stopItems(view, t, lang, handlers));
    map?.showRoute(state.work.route);
  }
  $("wave").hidden = waveRoute === null;
  if (waveRoute !== null) {
    $("wave-van").textContent = waveRoute.vehicleId;
    $("wave-list").replaceChildren(
      ...waveRoute.stops.map((stop) => {
        const li = document.createElement("li");
        li.className = `stop ${stop.kind}`;
        li.dataset["place"] = stop.place;
        li.textContent = t("wave.stop", {
          kind: t(stop.kind === "pickup" ? "wave.pickup" : "wave.dropoff"),
          name: stop.place.replace(/^(store|point|door):/, ""),
          count: stop.orderIds.length,
          time: clockTime(lang, stop.arriveAt).slice(0, 5),
        });
        return li;
      }),
    );
  }
  const stops = state.work.route.length;
  $("route-count").hidden = stops === 0;
  $("route-count").textContent = t("route.count", { count: stops });
  $("route-empty").hidden = stops > 0;
  const message = $("work-message");
  message.hidden = state.workMessage === null;
  message.textContent = state.workMessage?.text() ?? "";
  message.classList.toggle("info", state.workMessage?.ok ?? false);

  const queued = actions?.pending ?? [];
  $("queue").hidden = queued.length === 0;
  $("queue-title").textContent = t("queue.title", { count: queued.length });
  $("queue-list").replaceChildren(
    ...queued.map((q) => {
      const li = document.createElement("li");
      li.dataset["key"] = q.key;
      const text = document.createElement("span");
      text.textContent = t(`action.${q.action.kind}`, { order: q.action.orderId });
      const time = document.createElement("time");
      time.textContent = clockTime(lang, q.queuedAt);
      li.append(text, time);
      return li;
    }),
  );
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
    case "offer":
      return (tr) => tr("channel.offer", { order: frame.orderId });
    case "work":
      return (tr) => tr("channel.work");
    case "wave_route":
      return (tr) => tr("channel.waveRoute", { count: frame.stops.length });
    case "couriers":
    case "order":
    case "wave_plan":
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
  renderWork();
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
// Back online: send what was queued now rather than at the next retry.
window.addEventListener("online", () => void actions?.flush());
setInterval(() => {
  if (state.session === null) return;
  if (tickCountdowns($("offers"), serverNow(), t)) render();
}, 1000);
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
      work: state.work,
      queued: (actions?.pending ?? []).map((q) => ({ key: q.key, kind: q.action.kind })),
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
