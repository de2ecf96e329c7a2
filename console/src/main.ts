/**
 * The dispatcher console in the browser: sign-in, the market channel on `/ws/live` (resumed by
 * offset after a reconnect), the city map with gliding courier markers, store markers and H3
 * supply / demand shading, and the side panel (KPIs, open orders, couriers with last-seen age,
 * refrigerated vans, alerts); a van's temperature chart over the map, kept live from its
 * `vehicle:<id>` channel. Logic lives in the modules beside this one; this file wires them to
 * the page.
 */
import type { Channel, PushFrame } from "../../protocol/index.ts";
import { AlertBook } from "./alerts.ts";
import type { Alert } from "./alerts.ts";
import { dispatchApi, vehicleApi } from "./api.ts";
import type { Override } from "./api.ts";
import { KpiBook } from "./kpi.ts";
import { RouteBook, moveStop } from "./routes.ts";
import type { CourierRoute } from "./routes.ts";
import { StoreScreen } from "./store-view.ts";
import { WavePanel } from "./waves.ts";
import { gatewayBases, parseConfig } from "../../app-kit/index.ts";
import { Fleet, STALE_AFTER_MS, ageOf, normaliseStatus } from "./fleet.ts";
import type { CourierView } from "./fleet.ts";
import { balanceCells, demandCells } from "./demand.ts";
import {
  ageText,
  clockTime,
  dateTime,
  orderStatusText,
  preferredLang,
  refusalText,
  shortTime,
  statusText,
  translator,
} from "./i18n.ts";
import type { Lang, MessageKey, Translate } from "./i18n.ts";
import { LiveChannels, memoryOffsets } from "../../app-kit/index.ts";
import { CityMap } from "./map.ts";
import type { ShadingMode } from "./map.ts";
import { OrderBook, awaitingPickup, isLate, phaseOf } from "./orders.ts";
import type { OrderView, StoreView } from "./orders.ts";
import { MARKET_NAMES, outlineFor } from "./outline.ts";
import { sessionFromToken, tokenFromHash } from "../../app-kit/index.ts";
import type { Session } from "../../app-kit/index.ts";
import { ReconnectingSocket } from "../../app-kit/index.ts";
import type { SocketStatus } from "../../app-kit/index.ts";
import { supplyCells } from "./supply.ts";
import { CHART_WINDOW_MS, VanSeries, chartSvg } from "./van-chart.ts";
import type { CompartmentSeries } from "./van-chart.ts";
import { COLD_CHAIN_ALERTS, VanBoard, vehicleSubject } from "./vans.ts";
import type { CompartmentView, VanState, VanView } from "./vans.ts";
import "./styles.css";

const KEYS = {
  token: "xianda.console.token",
  lang: "xianda.console.lang",
  shading: "xianda.console.shading",
} as const;
const SHADINGS: readonly ShadingMode[] = ["both", "supply", "demand", "balance"];
/** A dispatcher token without a market (an admin's) watches Kunming, the default market. */
const DEFAULT_MARKET = "km";

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
  marketId: DEFAULT_MARKET,
  status: "stopped" as SocketStatus,
  retryMs: undefined as number | undefined,
  selected: null as string | null,
  /** The van whose chart is open. */
  van: null as string | null,
  frames: 0,
  shading: (SHADINGS as readonly string[]).includes(localStorage.getItem(KEYS.shading) ?? "")
    ? (localStorage.getItem(KEYS.shading) as ShadingMode)
    : "both",
};

const fleet = new Fleet();
const alerts = new AlertBook();
const vans = new VanBoard();
const orders = new OrderBook();
const routes = new RouteBook();
const kpis = new KpiBook();
/** Holds and locks, from the market's view (frames do not carry them). */
const flags = { held: new Set<string>(), locked: new Set<string>() };
/** Alerts the dispatcher has dealt with (by id; late-order alerts as `late:<order>`). */
const dismissed = new Set<string>();
let channels: LiveChannels | null = null;
let storeScreen: StoreScreen | null = null;
let wavePanel: WavePanel | null = null;
let deskMessage: { text: () => string; ok: boolean } | null = null;
let socket: ReconnectingSocket | null = null;
let map: CityMap | null = null;
let panelDirty = true;

// --- sign-in ------------------------------------------------------------------------------------

function signIn(token: string): string | null {
  const result = sessionFromToken(token, ["dispatcher", "admin", "store"], Date.now());
  if ("problem" in result) return t(`login.${result.problem}`);
  localStorage.setItem(KEYS.token, result.token);
  state.session = result;
  state.marketId = result.claims.mkt ?? DEFAULT_MARKET;
  if (result.claims.role === "store") startStore(result);
  else start(result);
  return null;
}

function signOut(): void {
  socket?.stop();
  socket = null;
  localStorage.removeItem(KEYS.token);
  // The map and the market's state belong to this session: start clean.
  location.reload();
}

/** A store token: the store's screen (orders to take on, prepare and hand off). */
function startStore(session: Session): void {
  storeScreen = new StoreScreen({
    base: bases.http,
    token: session.token,
    storeId: session.claims.sub,
    root: $("store"),
    words: () => ({ t, lang }),
  });
  state.status = "open";
  renderAll();
  storeScreen.start();
}

function isStore(): boolean {
  return state.session?.claims.role === "store";
}

function start(session: Session): void {
  const channel = `market:${state.marketId}` as Channel;
  const live = new LiveChannels([channel], memoryOffsets(), (_c, frame) => apply(frame));
  channels = live;
  socket = new ReconnectingSocket({
    url: `${bases.ws}/ws/live?token=${encodeURIComponent(session.token)}`,
    onWelcome: () => {
      for (const frame of live.subscribeFrames()) socket?.send(frame);
      void loadMarket();
    },
    onFrame: (frame) => void live.receive(frame),
    onStatus: (status, retryInMs) => {
      state.status = status;
      state.retryMs = retryInMs;
      renderBar();
    },
  });
  renderAll();
  socket.start();
  setInterval(() => void loadMarket(), 5_000);
  // `?wave=<market>-<yyyymmdd>-<slot>`: that wave's plan beside the live city.
  const waveId = new URLSearchParams(location.search).get("wave");
  if (waveId !== null) {
    wavePanel = new WavePanel({
      base: bases.http,
      token: session.token,
      marketId: state.marketId,
      waveId,
      root: $("wave-panel"),
      words: () => ({ t, lang }),
      draw: (routes) => map?.showWave(routes),
    });
    void wavePanel.reload();
  }
}

/** Watches a courier's own channel for its route (work frames). */
function follow(courierId: string | null | undefined): void {
  if (courierId == null || channels === null) return;
  const frame = channels.watch(`courier:${courierId}` as Channel);
  if (frame !== null) socket?.send(frame);
}

/** Holds, locks and who is on shift, from the market actor's view. */
async function loadMarket(): Promise<void> {
  const session = state.session;
  if (session === null || isStore()) return;
  const result = await dispatchApi.market(bases.http, session.token, state.marketId);
  if (!result.ok) return;
  const view = result.body;
  flags.held = new Set(
    Object.values(view.orders ?? {})
      .filter((o) => o.held)
      .map((o) => o.orderId),
  );
  flags.locked = new Set([
    ...Object.values(view.orders ?? {})
      .filter((o) => o.lockedTo !== null)
      .map((o) => o.orderId),
    ...Object.values(view.assigned ?? {})
      .filter((a) => a.locked)
      .map((a) => a.orderId),
  ]);
  for (const courierId of Object.keys(view.couriers ?? {})) follow(courierId);
  // A fresh console hears of a courier only when it next moves: place the market's couriers
  // at the positions the market knows (a newer frame always wins, see Fleet).
  const busy = new Set(Object.values(view.assigned ?? {}).map((a) => a.courierId));
  const offered = new Set(Object.values(view.offers ?? {}).map((o) => o.courierId));
  const known = Object.values(view.couriers ?? {}).flatMap((c) =>
    c.position == null
      ? []
      : [
          {
            courierId: c.courierId,
            lat: c.position.lat,
            lng: c.position.lng,
            at: c.position.at,
            status: busy.has(c.courierId) ? "busy" : offered.has(c.courierId) ? "offered" : "idle",
          },
        ],
  );
  if (known.length > 0) {
    apply({ kind: "couriers", marketId: state.marketId, couriers: known, at: Date.now() });
  }
  for (const a of Object.values(view.assigned ?? {})) follow(a.courierId);
  for (const c of Object.values(view.couriers ?? {})) {
    if (c.vehicleId) knowVan(c.vehicleId, c.courierId);
  }
  panelDirty = true;
}

// --- refrigerated vans ------------------------------------------------------------------------

/** Vans whose layout (classes, ranges, latest readings) was asked of the readings route. */
const vanLayouts = new Set<string>();
let vanSeries: VanSeries | null = null;
let vanStatus: { loading: boolean; error: string | null } = { loading: false, error: null };
let vanDirty = false;
let vanFetchedAt = 0;
let vanDrawnAt = 0;
let vanRefetch: ReturnType<typeof setTimeout> | null = null;

/** A van of the market: listed, its channel watched (temperatures, alerts), its layout read once. */
function knowVan(vehicleId: string, driverId: string | null = null): void {
  if (vans.know(vehicleId, driverId)) panelDirty = true;
  const frame = channels?.watch(`vehicle:${vehicleId}` as Channel) ?? null;
  if (frame !== null) socket?.send(frame);
  if (!vanLayouts.has(vehicleId)) {
    vanLayouts.add(vehicleId);
    void loadVanLayout(vehicleId);
  }
}

async function loadVanLayout(vehicleId: string): Promise<void> {
  const session = state.session;
  if (session === null) return;
  const now = Date.now();
  const result = await vehicleApi.readings(bases.http, session.token, vehicleId, {
    from: now - 60_000,
    to: now,
  });
  if (!result.ok) {
    // Asked again on the next sight of the van unless the answer was final.
    if (result.status === 0 || result.status >= 500) vanLayouts.delete(vehicleId);
    return;
  }
  vans.layout(vehicleId, result.body.driverId, result.body.compartments);
  panelDirty = true;
}

function selectVan(vehicleId: string): void {
  if (state.van !== vehicleId || vanSeries === null) {
    state.van = vehicleId;
    vanSeries = new VanSeries(vehicleId);
    vanStatus = { loading: true, error: null };
  }
  knowVan(vehicleId);
  void loadVanReadings();
  vanDirty = true;
  panelDirty = true;
}

function closeVan(): void {
  state.van = null;
  vanSeries = null;
  vanDirty = true;
  panelDirty = true;
}

/** The open van's last two hours, from the history (what live frames do not carry). */
async function loadVanReadings(): Promise<void> {
  const session = state.session;
  const series = vanSeries;
  if (session === null || series === null) return;
  vanFetchedAt = Date.now();
  const result = await vehicleApi.readings(bases.http, session.token, series.vehicleId);
  if (vanSeries !== series) return; // another van was opened meanwhile
  if (!result.ok) {
    vanStatus = { loading: false, error: result.code };
  } else {
    series.load(result.body);
    vans.layout(series.vehicleId, result.body.driverId, result.body.compartments);
    vanStatus = { loading: false, error: null };
    panelDirty = true;
  }
  vanDirty = true;
}

/** After an alert, the van's own excursion times reach the history a moment later. */
function refetchVanSoon(): void {
  if (vanRefetch !== null) clearTimeout(vanRefetch);
  vanRefetch = setTimeout(() => {
    vanRefetch = null;
    void loadVanReadings();
  }, 2_500);
}

const VAN_TEXT: Record<VanState, MessageKey> = {
  excursion: "vans.excursion",
  silent: "vans.silent",
  out_of_range: "vans.outOfRange",
  in_range: "vans.inRange",
  unknown: "vans.unknown",
};
const VAN_BADGE: Record<VanState, string> = {
  excursion: "severity-critical",
  silent: "status-unknown",
  out_of_range: "severity-warning",
  in_range: "status-idle",
  unknown: "",
};

function compartmentState(c: CompartmentView | undefined): VanState {
  if (c === undefined) return "unknown";
  if (c.excursion) return "excursion";
  if (c.silent) return "silent";
  return c.inRange === false ? "out_of_range" : c.inRange === true ? "in_range" : "unknown";
}

function classText(cls: string | null): string {
  return cls === "chilled" || cls === "frozen" || cls === "ambient" || cls === "custom"
    ? t(`class.${cls}`)
    : "";
}

function celsiusText(value: number): string {
  return `${value.toFixed(1)}°C`;
}

function rangeText(c: { minC: number | null; maxC: number | null }): string {
  if (c.minC !== null && c.maxC !== null) return `${c.minC}–${c.maxC}°C`;
  if (c.maxC !== null) return `≤ ${c.maxC}°C`;
  if (c.minC !== null) return `≥ ${c.minC}°C`;
  return "—";
}

function vanRow(van: VanView): HTMLLIElement {
  const main = document.createElement("div");
  main.className = "van-main";
  const temps = van.compartments
    .filter((c) => c.celsius !== null)
    .map((c) => `${classText(c.class) || c.id} ${celsiusText(c.celsius!)}`);
  main.append(
    span("name", van.vehicleId),
    span(
      "van-temps",
      [...temps, van.driverId ? t("vans.driver", { id: van.driverId }) : ""]
        .filter((x) => x !== "")
        .join(" · "),
    ),
  );
  const time = document.createElement("time");
  time.textContent = van.at === null ? "" : clockTime(lang, van.at);
  const li = row(
    `van-row state-${van.state}`,
    span(`badge ${VAN_BADGE[van.state]}`, t(VAN_TEXT[van.state])),
    main,
    time,
  );
  li.dataset["vehicleId"] = van.vehicleId;
  li.title = t("vans.show");
  li.classList.toggle("selected", van.vehicleId === state.van);
  li.addEventListener("click", () => selectVan(van.vehicleId));
  return li;
}

function vanChartBlock(
  series: CompartmentSeries,
  live: CompartmentView | undefined,
  window: { from: number; to: number },
): HTMLElement {
  const compartment = t("van.compartment", { class: classText(series.class), id: series.id });
  const status = compartmentState(live);
  const head = document.createElement("div");
  head.className = "van-chart-head";
  head.append(
    span("name", compartment),
    span("muted", t("van.range", { range: rangeText(series) })),
    span("now", live?.celsius == null ? "" : t("van.now", { value: celsiusText(live.celsius) })),
    span(`badge ${VAN_BADGE[status]}`, t(VAN_TEXT[status])),
  );
  const chart = document.createElement("div");
  chart.className = "van-chart-wrap";
  // chartSvg escapes every text it writes; the rest is numbers.
  chart.innerHTML = chartSvg(series, window, {
    title: t("van.chartLabel", { compartment }),
    noReadings: t("van.noReadings"),
    excursion: (kind, from, to) => t(`van.excursion.${kind}`, { from, to }),
    now: t("van.nowLabel"),
  });
  const block = document.createElement("div");
  block.className = `van-chart-block state-${status}`;
  block.dataset["compartmentId"] = series.id;
  block.append(head, chart);
  return block;
}

function renderVan(): void {
  vanDirty = false;
  const series = vanSeries;
  $("van-detail").hidden = series === null;
  if (series === null) return;
  const now = Date.now();
  vanDrawnAt = now;
  const van = vans.get(series.vehicleId);
  $("van-detail-title").textContent = t("van.title", { id: series.vehicleId });
  $("van-detail-driver").textContent = van?.driverId ? t("vans.driver", { id: van.driverId }) : "";
  const note = $("van-detail-note");
  note.hidden = !vanStatus.loading && vanStatus.error === null;
  note.textContent =
    vanStatus.error !== null
      ? t("van.failed", { reason: refusalText(t, vanStatus.error) })
      : vanStatus.loading
        ? t("van.loading")
        : "";
  const window = { from: now - CHART_WINDOW_MS, to: now };
  series.trim(window.from);
  $("van-charts").replaceChildren(
    ...series.list().map((c) =>
      vanChartBlock(
        c,
        van?.compartments.find((k) => k.id === c.id),
        window,
      ),
    ),
  );
}

// --- dispatcher actions ---------------------------------------------------------------------

let reasonHandler: ((reason: string) => void) | null = null;

function askReason(title: string, then: (reason: string) => void): void {
  const dialog = $<HTMLDialogElement>("reason-dialog");
  $("reason-title").textContent = title;
  $<HTMLInputElement>("reason-input").value = "";
  $("reason-error").hidden = true;
  reasonHandler = then;
  dialog.showModal();
  $<HTMLInputElement>("reason-input").focus();
}

async function override(
  orderId: string,
  action: Override,
  reason: string,
  courierId?: string,
): Promise<void> {
  const session = state.session;
  if (session === null) return;
  const result = await dispatchApi.override(
    bases.http,
    session.token,
    state.marketId,
    orderId,
    action,
    {
      reason,
      ...(courierId !== undefined ? { courierId } : {}),
    },
  );
  report(`act.${action}`, orderId, result);
  await loadMarket();
}

function report(
  action: MessageKey,
  subject: string,
  result: { ok: true } | { ok: false; code: string },
): void {
  deskMessage = result.ok
    ? { text: () => t("act.done", { action: t(action), order: subject }), ok: true }
    : {
        text: () => t("act.failed", { action: t(action), reason: refusalText(t, result.code) }),
        ok: false,
      };
  panelDirty = true;
}

function reassign(orderId: string, courierId: string): void {
  if (orders.get(orderId)?.courierId === courierId) return;
  askReason(
    t("dialog.reassign", { order: orderId, courier: courierId }),
    (reason) => void override(orderId, "reassign", reason, courierId),
  );
}

function reorder(route: CourierRoute, index: number, by: -1 | 1): void {
  const stops = moveStop(route.stops, index, by);
  const session = state.session;
  if (stops === null || session === null) return;
  askReason(t("dialog.reorder", { courier: route.courierId }), (reason) => {
    void dispatchApi
      .reorder(bases.http, session.token, state.marketId, route.courierId, {
        reason,
        stops: stops.map((s) => ({ orderId: s.orderId, kind: s.kind })),
      })
      .then((result) => report("act.reorder", route.courierId, result));
  });
}

const ORDER_DRAG = "application/x-xianda-order";

/** Drag an order row onto a courier (a row, a route, or a marker on the map) to reassign it. */
function wireDragAndDrop(): void {
  const target = (event: DragEvent): HTMLElement | null => {
    if (!event.dataTransfer?.types.includes(ORDER_DRAG)) return null;
    return (event.target as HTMLElement | null)?.closest<HTMLElement>("[data-courier-id]") ?? null;
  };
  document.addEventListener("dragover", (event) => {
    const over = target(event);
    if (over === null) return;
    event.preventDefault();
    event.dataTransfer!.dropEffect = "move";
    for (const el of document.querySelectorAll(".drop-over")) el.classList.remove("drop-over");
    over.classList.add("drop-over");
  });
  document.addEventListener("dragleave", (event) => {
    (event.target as HTMLElement | null)?.closest(".drop-over")?.classList.remove("drop-over");
  });
  document.addEventListener("drop", (event) => {
    const over = target(event);
    for (const el of document.querySelectorAll(".drop-over")) el.classList.remove("drop-over");
    if (over === null) return;
    event.preventDefault();
    const orderId = event.dataTransfer!.getData(ORDER_DRAG);
    const courierId = over.dataset["courierId"];
    if (orderId !== "" && courierId !== undefined) reassign(orderId, courierId);
  });
}

// --- applying pushes -------------------------------------------------------------------------

function apply(frame: PushFrame): void {
  state.frames += 1;
  switch (frame.kind) {
    case "couriers":
    case "courier": {
      if (frame.kind === "couriers") for (const c of frame.couriers) follow(c.courierId);
      const changed = fleet.apply(frame);
      const now = Date.now();
      for (const view of changed) {
        const { label, title } = describeCourier(view, now);
        map?.showCourier(view, now, label, title);
      }
      if (changed.length > 0) {
        map?.fitOnce();
        map?.setSupply(supplyCells(fleet.list()));
        map?.setBalance(balanceCells(fleet.list(), orders.open()));
        panelDirty = true;
      }
      break;
    }
    case "work":
      if (routes.apply(frame)) {
        drawRoutes();
        panelDirty = true;
      }
      break;
    case "offer":
      break;
    case "wave_plan":
      if (wavePanel !== null && frame.waveId === wavePanel.snapshot?.waveId)
        void wavePanel.reload();
      break;
    case "wave_route":
      break;
    case "order":
      kpis.apply(frame);
      follow(frame.courierId);
      if (orders.apply(frame, Date.now())) {
        drawOrders();
        panelDirty = true;
      }
      break;
    case "alert": {
      if (alerts.add(frame)) panelDirty = true;
      const van = COLD_CHAIN_ALERTS.has(frame.code) ? vehicleSubject(frame.subject) : null;
      if (van !== null) {
        knowVan(van.vehicleId);
        if (vans.alert(frame)) panelDirty = true;
        if (vanSeries?.alert(frame)) vanDirty = true;
        if (state.van === van.vehicleId) refetchVanSoon();
      }
      break;
    }
    case "temperature":
      if (vans.add(frame)) panelDirty = true;
      if (vanSeries?.add(frame)) vanDirty = true;
      break;
    case "status":
    case "eta":
      break;
  }
}

function drawRoutes(): void {
  map?.showRoutes(routes.list(), { pickup: t("routes.pickup"), dropoff: t("routes.dropoff") });
}

/** Demand, balance and stores follow the orders. */
function drawOrders(): void {
  if (map === null) return;
  const open = orders.open();
  map.setDemand(demandCells(open));
  map.setBalance(balanceCells(fleet.list(), open));
  map.showStores(orders.storeList(), describeStore);
}

function describeStore(store: StoreView): string {
  return t("store.title", { id: store.storeId, waiting: store.waiting });
}

function describeCourier(view: CourierView, now: number): { label: string; title: string } {
  const age = ageText(t, ageOf(view.at, now));
  return {
    label: view.courierId,
    title: `${view.courierId} · ${statusText(t, view.status)} · ${age}`,
  };
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

function renderBar(): void {
  const signedIn = state.session !== null;
  const conn = $("conn");
  conn.hidden = !signedIn;
  conn.dataset["state"] = state.status;
  conn.textContent =
    state.status === "waiting"
      ? t("conn.waiting", { seconds: Math.max(1, Math.round((state.retryMs ?? 0) / 1000)) })
      : t(`conn.${state.status}`);
  $("clock").textContent = clockTime(lang, Date.now());
  $("logout").hidden = !signedIn;
  const market = $("market");
  market.hidden = !signedIn;
  market.textContent = MARKET_NAMES[state.marketId]?.[lang] ?? state.marketId;
  $("who").textContent = state.session?.claims.sub ?? "";
}

function row(className: string, ...cells: Array<Node | string>): HTMLLIElement {
  const li = document.createElement("li");
  li.className = className;
  li.append(...cells);
  return li;
}

function span(className: string, text: string): HTMLSpanElement {
  const element = document.createElement("span");
  element.className = className;
  element.textContent = text;
  return element;
}

/**
 * One order: status, id, badges (late, cold chain) on the first line; store, promised time and
 * the courier on the second. Clicking shows where it is picked up (or delivered, once picked up).
 */
function orderRow(order: OrderView, now: number): HTMLLIElement {
  const phase = phaseOf(order.status);
  const late = isLate(order, now);
  const head = document.createElement("div");
  head.className = "order-head";
  head.append(span(`badge order-status phase-${phase}`, orderStatusText(t, order.status)));
  head.append(span("name", order.orderId));
  if (late) head.append(span("badge late", t("orders.late")));
  if (order.temperatureClass === "chilled" || order.temperatureClass === "frozen") {
    head.append(
      span(`badge cold ${order.temperatureClass}`, `❄ ${t(`temp.${order.temperatureClass}`)}`),
    );
  }

  const meta = document.createElement("div");
  meta.className = "order-meta";
  if (order.storeId !== undefined)
    meta.append(span("store", `${t("legend.store")} ${order.storeId}`));
  if (order.promisedAt !== undefined) {
    // Minutes left round up (14:10 left reads 15), minutes over round down (3:20 over reads 3).
    const gap = Math.abs(order.promisedAt - now) / 60_000;
    const minutes = late ? Math.max(1, Math.floor(gap)) : Math.ceil(gap);
    const due = span("due", t("orders.due", { time: shortTime(lang, order.promisedAt) }));
    meta.append(due);
    if (phase !== "done") {
      meta.append(
        span(
          late ? "left over" : "left",
          late ? t("orders.over", { value: minutes }) : t("orders.left", { value: minutes }),
        ),
      );
    }
  } else {
    meta.append(span("due muted", t("orders.noPromise")));
  }
  meta.append(
    order.courierId !== null
      ? span("courier", t("orders.courier", { id: order.courierId }))
      : span("courier none", phase === "waiting" ? t("orders.noCourier") : ""),
  );

  const li = document.createElement("li");
  li.className = `order-row phase-${phase}`;
  li.classList.toggle("late", late);
  li.classList.toggle("finished", order.finishedAt !== undefined);
  li.dataset["orderId"] = order.orderId;
  li.dataset["status"] = order.status;
  if (flags.held.has(order.orderId)) head.append(span("badge held", t("orders.held")));
  if (flags.locked.has(order.orderId)) head.append(span("badge locked", t("orders.locked")));
  li.append(head, meta);
  if (phase === "waiting" || phase === "delivering") {
    // Reassigning is for orders not yet picked up; the order refuses later ones with a reason.
    li.draggable = awaitingPickup(order.status);
    li.addEventListener("dragstart", (event) => {
      event.dataTransfer?.setData("application/x-xianda-order", order.orderId);
      event.dataTransfer?.setData("text/plain", order.orderId);
    });
    if (li.draggable) li.classList.add("draggable");
    const actions = document.createElement("div");
    actions.className = "order-actions";
    const act = (action: Override, key: MessageKey) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = `ghost small act-${action}`;
      b.textContent = t(key);
      b.addEventListener("click", (event) => {
        event.stopPropagation();
        askReason(
          t(`dialog.${action}`, { order: order.orderId, courier: "" }),
          (reason) =>
            void override(
              order.orderId,
              action,
              reason,
              action === "lock" ? (order.courierId ?? undefined) : undefined,
            ),
        );
      });
      return b;
    };
    const locked = flags.locked.has(order.orderId);
    const held = flags.held.has(order.orderId);
    if (order.courierId !== null || locked) {
      actions.append(locked ? act("unlock", "act.unlock") : act("lock", "act.lock"));
    }
    if (awaitingPickup(order.status)) {
      actions.append(held ? act("release", "act.release") : act("hold", "act.hold"));
    }
    li.append(actions);
  }
  const spot = awaitingPickup(order.status) ? order.pickup : (order.dropoff ?? order.pickup);
  if (spot !== undefined) {
    li.title = t("orders.locate");
    li.addEventListener("click", () => map?.focusPoint(spot.lat, spot.lng));
  }
  return li;
}

function renderPanel(): void {
  const now = Date.now();
  const couriers = fleet.list();
  const counts = fleet.countBy();
  $("sum-active").textContent = String(couriers.length - counts.offline);
  $("sum-busy").textContent = String(counts.busy + counts.offered);
  $("sum-idle").textContent = String(counts.idle);
  $("sum-alerts").textContent = String(alerts.count());
  $("courier-count").textContent = couriers.length > 0 ? `(${couriers.length})` : "";

  const orderCounts = orders.counts(now);
  $("sum-waiting").textContent = String(orderCounts.waiting);
  $("sum-delivering").textContent = String(orderCounts.delivering + orderCounts.problem);
  $("sum-late").textContent = String(orderCounts.late);
  $("sum-delivered").textContent = String(orderCounts.delivered);
  const listed = orders.list();
  const open = listed.filter((o) => o.finishedAt === undefined).length;
  $("order-count").textContent = open > 0 ? `(${open})` : "";
  $("order-list").replaceChildren(...listed.map((order) => orderRow(order, now)));
  $("order-empty").hidden = listed.length > 0;

  $("courier-list").replaceChildren(
    ...couriers.map((view) => {
      const li = row(
        "courier-row",
        span(`badge status-${view.status}`, statusText(t, view.status)),
        span("name", view.courierId),
        span("age", ageText(t, ageOf(view.at, now))),
      );
      li.dataset["courierId"] = view.courierId;
      li.title = t("couriers.locate");
      li.classList.toggle("stale", now - view.at > STALE_AFTER_MS);
      li.classList.toggle("selected", view.courierId === state.selected);
      li.addEventListener("click", () => select(view.courierId));
      return li;
    }),
  );
  $("courier-empty").hidden = couriers.length > 0;

  const vanList = vans.list();
  $("vans").hidden = vanList.length === 0;
  $("van-count").textContent = vanList.length > 0 ? `(${vanList.length})` : "";
  $("van-list").replaceChildren(...vanList.map(vanRow));

  const list = openAlerts(now);
  $("alert-list").replaceChildren(
    ...list.map((alert) => {
      const time = document.createElement("time");
      time.textContent = dateTime(lang, alert.at);
      const dismiss = document.createElement("button");
      dismiss.type = "button";
      dismiss.className = "ghost small dismiss";
      dismiss.textContent = t("alerts.dismiss");
      dismiss.addEventListener("click", () => {
        dismissed.add(alert.id);
        panelDirty = true;
      });
      const code = ALERT_CODES.has(alert.code)
        ? t(`alertCode.${alert.code}` as MessageKey)
        : t(`severity.${alert.severity}`);
      const li = row(
        "alert-row",
        span(`badge severity-${alert.severity}`, code),
        span("message", alertText(alert)),
        time,
        dismiss,
      );
      li.dataset["alertId"] = alert.id;
      li.dataset["code"] = alert.code;
      const van = COLD_CHAIN_ALERTS.has(alert.code) ? vehicleSubject(alert.subject) : null;
      if (van !== null) {
        li.classList.add("clickable");
        li.title = t("vans.show");
        li.addEventListener("click", () => selectVan(van.vehicleId));
      }
      return li;
    }),
  );
  $("alert-empty").hidden = list.length > 0;
  $("sum-alerts").textContent = String(list.length);
  renderRoutes();
  renderKpis(list.length);
  const message = $("desk-message");
  message.hidden = deskMessage === null;
  message.textContent = deskMessage?.text() ?? "";
  message.classList.toggle("info", deskMessage?.ok ?? false);
  panelDirty = false;
}

const ALERT_CODES: ReadonlySet<string> = new Set([
  "no_courier",
  "many_declines",
  "offer_unanswered",
  "late",
  ...COLD_CHAIN_ALERTS,
]);

/** Alert frames not dealt with (dismissed, or their order since taken by a courier) and late orders. */
function openAlerts(now: number): Alert[] {
  const open = alerts.list().filter((alert) => {
    if (dismissed.has(alert.id)) return false;
    const orderId = alert.subject?.startsWith("order:") ? alert.subject.slice(6) : null;
    if (orderId === null) return true;
    const order = orders.get(orderId);
    if (order === undefined) return true;
    const phase = phaseOf(order.status);
    return phase === "waiting" || phase === "problem";
  });
  const late: Alert[] = orders
    .open()
    .filter((order) => isLate(order, now) && !dismissed.has(`late:${order.orderId}`))
    .map((order) => ({
      kind: "alert",
      id: `late:${order.orderId}`,
      severity: "warning",
      code: "late",
      message: "",
      subject: `order:${order.orderId}`,
      at: order.promisedAt ?? now,
    }));
  return [...late, ...open].sort((a, b) => b.at - a.at);
}

function alertText(alert: Alert): string {
  const orderId = alert.subject?.startsWith("order:") ? alert.subject.slice(6) : null;
  if (alert.code === "late" && orderId !== null) {
    const minutes = Math.max(1, Math.floor((Date.now() - alert.at) / 60_000));
    return t("alert.late", { order: orderId, minutes });
  }
  const van = COLD_CHAIN_ALERTS.has(alert.code) ? vehicleSubject(alert.subject) : null;
  if (van !== null) {
    // The tracker writes "<中文> / <English>", the Chinese half naming the van and compartment.
    const [zh, en] = alert.message.split(" / ");
    if (lang === "zh" || en === undefined) return zh ?? alert.message;
    return t("alert.coldChain", {
      van: van.vehicleId,
      compartment: van.compartmentId ?? "",
      text: en,
    });
  }
  return alert.subject ? `${alert.subject}：${alert.message}` : alert.message;
}

function renderRoutes(): void {
  const list = routes.list();
  $("route-list").replaceChildren(
    ...list.map((route) => {
      const li = document.createElement("li");
      li.className = "route-row";
      li.dataset["courierId"] = route.courierId;
      const head = document.createElement("div");
      head.className = "route-head";
      // The courier's own word (its work frame) on its status is fresher than its last move's.
      const status = normaliseStatus(route.status);
      head.append(
        span(`badge status-${status}`, statusText(t, status)),
        span("name", route.courierId),
        span("muted", t("routes.stops", { count: route.stops.length })),
      );
      const stops = document.createElement("ol");
      stops.className = "route-stops";
      route.stops.forEach((stop, index) => {
        const item = document.createElement("li");
        item.className = `route-stop-row ${stop.kind}`;
        item.dataset["orderId"] = stop.orderId;
        item.dataset["kind"] = stop.kind;
        item.append(
          span(
            `stop-tag ${stop.kind}`,
            `${index + 1}${t(stop.kind === "pickup" ? "routes.pickup" : "routes.dropoff")}`,
          ),
          span("name", stop.orderId),
        );
        const move = (by: -1 | 1, key: MessageKey, glyph: string) => {
          const b = document.createElement("button");
          b.type = "button";
          b.className = `ghost small move-${by < 0 ? "up" : "down"}`;
          b.textContent = glyph;
          b.title = t(key);
          b.setAttribute("aria-label", t(key));
          b.disabled = moveStop(route.stops, index, by) === null;
          b.addEventListener("click", () => reorder(route, index, by));
          return b;
        };
        item.append(move(-1, "routes.up", "↑"), move(1, "routes.down", "↓"));
        stops.append(item);
      });
      li.append(head, stops);
      return li;
    }),
  );
  $("route-empty").hidden = list.length > 0;
}

function renderKpis(openAlertCount: number): void {
  const k = kpis.read();
  $("kpi-on-time").textContent = k.onTime === null ? "—" : `${Math.round(k.onTime * 100)}%`;
  $("kpi-on-time-note").textContent = t("kpi.sample", { count: k.delivered });
  $("kpi-click-to-door").textContent =
    k.meanClickToDoorMinutes === null
      ? "—"
      : t("kpi.minutes", { value: k.meanClickToDoorMinutes.toFixed(1) });
  $("kpi-utilisation").textContent =
    k.utilisation === null ? "—" : `${Math.round(k.utilisation * 100)}%`;
  $("kpi-open-alerts").textContent = String(openAlertCount);
}

function renderAll(): void {
  const signedIn = state.session !== null;
  $("login").hidden = signedIn;
  $("desk").hidden = !signedIn || isStore();
  $("store").hidden = !signedIn || !isStore();
  renderBar();
  if (!signedIn) return;
  if (isStore()) {
    storeScreen?.render(true);
    return;
  }
  if (map === null) {
    map = new CityMap($("map"), {
      tileUrl: config.tileUrl,
      outline: outlineFor(state.marketId),
      onSelect: select,
    });
    map.setLang(lang);
    map.setShading(state.shading);
    $("schematic").hidden = config.tileUrl !== null;
  }
  renderShading();
  renderPanel();
  renderVan();
}

function renderShading(): void {
  for (const button of document.querySelectorAll<HTMLButtonElement>("#layer-toggle button")) {
    const on = button.dataset["layer"] === state.shading;
    button.classList.toggle("on", on);
    button.setAttribute("aria-pressed", String(on));
  }
  for (const block of document.querySelectorAll<HTMLElement>(".legend-block")) {
    block.hidden = !(block.dataset["for"] ?? "").split(" ").includes(state.shading);
  }
}

function setShading(mode: ShadingMode): void {
  state.shading = mode;
  localStorage.setItem(KEYS.shading, mode);
  map?.setShading(mode);
  renderShading();
}

function select(courierId: string): void {
  state.selected = courierId;
  map?.focus(courierId);
  panelDirty = true;
}

// --- start --------------------------------------------------------------------------------------

$("lang").addEventListener("click", () => {
  lang = lang === "zh" ? "en" : "zh";
  t = translator(lang);
  localStorage.setItem(KEYS.lang, lang);
  translateStatic();
  map?.setLang(lang);
  map?.restyle((view) => describeCourier(view, Date.now()), Date.now());
  drawOrders();
  renderAll();
});

$("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const problem = signIn($<HTMLTextAreaElement>("login-token").value);
  $("login-error").hidden = problem === null;
  $("login-error").textContent = problem ?? "";
});

$("logout").addEventListener("click", signOut);
$("van-detail-close").addEventListener("click", closeVan);
wireDragAndDrop();
$("reason-cancel").addEventListener("click", () => {
  reasonHandler = null;
  $<HTMLDialogElement>("reason-dialog").close();
});
$("reason-form").addEventListener("submit", (event) => {
  const reason = $<HTMLInputElement>("reason-input").value.trim();
  if (reason === "") {
    event.preventDefault();
    $("reason-error").hidden = false;
    return;
  }
  const then = reasonHandler;
  reasonHandler = null;
  then?.(reason);
});

for (const button of document.querySelectorAll<HTMLButtonElement>("#layer-toggle button")) {
  button.addEventListener("click", () => setShading(button.dataset["layer"] as ShadingMode));
}

// Ages, staleness and the clock move with time even when no frame arrives.
setInterval(() => {
  renderBar();
  if (state.session === null || isStore()) return;
  const counts = fleet.countBy();
  kpis.sample(counts.busy, counts.idle + counts.offered + counts.busy + counts.unknown);
  drawRoutes();
  const now = Date.now();
  map?.restyle((view) => describeCourier(view, now), now);
  // Finished orders leave after their grey moment; late badges and minutes left move on.
  if (orders.prune(now)) drawOrders();
  renderPanel();
  // The open chart: the history again each minute (live frames are sampled), the window slides.
  if (state.van !== null && now - vanFetchedAt > 60_000) void loadVanReadings();
  if (state.van !== null && now - vanDrawnAt > 10_000) vanDirty = true;
}, 1000);

// Pushes can arrive many times a second; the panel is redrawn at most a few times a second.
setInterval(() => {
  if (state.session === null || isStore()) return;
  if (panelDirty) renderPanel();
  if (vanDirty) renderVan();
}, 250);

/** Read by the browser tests; harmless in production. */
Object.assign(window, {
  __xiandaConsole: {
    state: () => ({
      signedIn: state.session !== null,
      marketId: state.marketId,
      status: state.status,
      frames: state.frames,
      alerts: alerts.count(),
    }),
    couriers: () => fleet.list(),
    markers: () => map?.drawn() ?? [],
    orders: () => orders.list(),
    shading: () => map?.shading ?? state.shading,
    routes: () => routes.list().map((r) => ({ courierId: r.courierId, stops: r.stops })),
    kpis: () => kpis.read(),
    store: () => storeScreen?.snapshot ?? null,
    vans: () => vans.list(),
    wave: () => wavePanel?.snapshot ?? null,
    van: () =>
      vanSeries === null
        ? null
        : { vehicleId: vanSeries.vehicleId, compartments: vanSeries.list() },
    /** Simulates losing the network for `holdMs`; the console resumes from its last offset. */
    dropConnection: (holdMs?: number) => socket?.drop(holdMs),
  },
});

translateStatic();
const linked = tokenFromHash(location.hash);
if (linked !== null) history.replaceState(null, "", location.pathname + location.search);
const saved = linked ?? localStorage.getItem(KEYS.token);
if (saved !== null) {
  const problem = signIn(saved);
  if (problem !== null) {
    $("login-error").hidden = false;
    $("login-error").textContent = problem;
  }
}
renderAll();
