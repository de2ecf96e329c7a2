/**
 * The dispatcher console in the browser: sign-in, the market channel on `/ws/live` (resumed by
 * offset after a reconnect), the city map with gliding courier markers, store markers and H3
 * supply / demand shading, and the side panel (KPIs, open orders, couriers with last-seen age,
 * vans, alerts). Logic lives in the modules
 * beside this one; this file wires them to the page.
 */
import type { Channel, PushFrame } from "../../protocol/index.ts";
import { AlertBook } from "./alerts.ts";
import { gatewayBases, parseConfig } from "../../app-kit/index.ts";
import { Fleet, STALE_AFTER_MS, ageOf } from "./fleet.ts";
import type { CourierView } from "./fleet.ts";
import { balanceCells, demandCells } from "./demand.ts";
import {
  ageText,
  clockTime,
  dateTime,
  orderStatusText,
  preferredLang,
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
import { VanBoard } from "./vans.ts";
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
  frames: 0,
  shading: (SHADINGS as readonly string[]).includes(localStorage.getItem(KEYS.shading) ?? "")
    ? (localStorage.getItem(KEYS.shading) as ShadingMode)
    : "both",
};

const fleet = new Fleet();
const alerts = new AlertBook();
const vans = new VanBoard();
const orders = new OrderBook();
let socket: ReconnectingSocket | null = null;
let map: CityMap | null = null;
let panelDirty = true;

// --- sign-in ------------------------------------------------------------------------------------

function signIn(token: string): string | null {
  const result = sessionFromToken(token, ["dispatcher", "admin"], Date.now());
  if ("problem" in result) return t(`login.${result.problem}`);
  localStorage.setItem(KEYS.token, result.token);
  state.session = result;
  state.marketId = result.claims.mkt ?? DEFAULT_MARKET;
  start(result);
  return null;
}

function signOut(): void {
  socket?.stop();
  socket = null;
  localStorage.removeItem(KEYS.token);
  // The map and the market's state belong to this session: start clean.
  location.reload();
}

function start(session: Session): void {
  const channel = `market:${state.marketId}` as Channel;
  const channels = new LiveChannels([channel], memoryOffsets(), (_c, frame) => apply(frame));
  socket = new ReconnectingSocket({
    url: `${bases.ws}/ws/live?token=${encodeURIComponent(session.token)}`,
    onWelcome: () => {
      for (const frame of channels.subscribeFrames()) socket?.send(frame);
    },
    onFrame: (frame) => void channels.receive(frame),
    onStatus: (status, retryInMs) => {
      state.status = status;
      state.retryMs = retryInMs;
      renderBar();
    },
  });
  renderAll();
  socket.start();
}

// --- applying pushes -------------------------------------------------------------------------

function apply(frame: PushFrame): void {
  state.frames += 1;
  switch (frame.kind) {
    case "couriers":
    case "courier": {
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
    case "order":
      if (orders.apply(frame, Date.now())) {
        drawOrders();
        panelDirty = true;
      }
      break;
    case "alert":
      if (alerts.add(frame)) panelDirty = true;
      break;
    case "temperature":
      if (vans.add(frame)) panelDirty = true;
      break;
    case "status":
    case "eta":
      break;
  }
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
  li.append(head, meta);
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

  const readings = vans.list();
  $("vans").hidden = readings.length === 0;
  $("van-list").replaceChildren(
    ...readings.map((reading) =>
      row(
        "van-row",
        span(
          `badge ${reading.inRange ? "status-idle" : "severity-critical"}`,
          t(reading.inRange ? "vans.inRange" : "vans.outOfRange"),
        ),
        span(
          "name",
          `${reading.vehicleId} · ${reading.compartmentId} · ${reading.celsius.toFixed(1)}°C`,
        ),
        Object.assign(document.createElement("time"), { textContent: clockTime(lang, reading.at) }),
      ),
    ),
  );

  const list = alerts.list();
  $("alert-list").replaceChildren(
    ...list.map((alert) => {
      const time = document.createElement("time");
      time.textContent = dateTime(lang, alert.at);
      const li = row(
        "alert-row",
        span(`badge severity-${alert.severity}`, t(`severity.${alert.severity}`)),
        span("message", alert.subject ? `${alert.subject}：${alert.message}` : alert.message),
        time,
      );
      li.dataset["alertId"] = alert.id;
      return li;
    }),
  );
  $("alert-empty").hidden = list.length > 0;
  panelDirty = false;
}

function renderAll(): void {
  const signedIn = state.session !== null;
  $("login").hidden = signedIn;
  $("desk").hidden = !signedIn;
  renderBar();
  if (!signedIn) return;
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

for (const button of document.querySelectorAll<HTMLButtonElement>("#layer-toggle button")) {
  button.addEventListener("click", () => setShading(button.dataset["layer"] as ShadingMode));
}

// Ages, staleness and the clock move with time even when no frame arrives.
setInterval(() => {
  renderBar();
  if (state.session === null) return;
  const now = Date.now();
  map?.restyle((view) => describeCourier(view, now), now);
  // Finished orders leave after their grey moment; late badges and minutes left move on.
  if (orders.prune(now)) drawOrders();
  renderPanel();
}, 1000);

// Pushes can arrive many times a second; the panel is redrawn at most a few times a second.
setInterval(() => {
  if (panelDirty && state.session !== null) renderPanel();
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
