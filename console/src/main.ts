/**
 * The dispatcher console in the browser: sign-in, the market channel on `/ws/live` (resumed by
 * offset after a reconnect), the city map with gliding courier markers and H3 supply shading,
 * and the side panel (couriers with last-seen age, vans, alerts). Logic lives in the modules
 * beside this one; this file wires them to the page.
 */
import type { Channel, PushFrame } from "../../protocol/index.ts";
import { AlertBook } from "./alerts.ts";
import { gatewayBases, parseConfig } from "../../app-kit/index.ts";
import { Fleet, STALE_AFTER_MS, ageOf } from "./fleet.ts";
import type { CourierView } from "./fleet.ts";
import { ageText, clockTime, dateTime, preferredLang, statusText, translator } from "./i18n.ts";
import type { Lang, MessageKey, Translate } from "./i18n.ts";
import { LiveChannels, memoryOffsets } from "../../app-kit/index.ts";
import { CityMap } from "./map.ts";
import { MARKET_NAMES, outlineFor } from "./outline.ts";
import { sessionFromToken, tokenFromHash } from "../../app-kit/index.ts";
import type { Session } from "../../app-kit/index.ts";
import { ReconnectingSocket } from "../../app-kit/index.ts";
import type { SocketStatus } from "../../app-kit/index.ts";
import { supplyCells } from "./supply.ts";
import { VanBoard } from "./vans.ts";
import "./styles.css";

const KEYS = { token: "xianda.console.token", lang: "xianda.console.lang" } as const;
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
};

const fleet = new Fleet();
const alerts = new AlertBook();
const vans = new VanBoard();
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
        panelDirty = true;
      }
      break;
    }
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

function renderPanel(): void {
  const now = Date.now();
  const couriers = fleet.list();
  const counts = fleet.countBy();
  $("sum-active").textContent = String(couriers.length - counts.offline);
  $("sum-busy").textContent = String(counts.busy + counts.offered);
  $("sum-idle").textContent = String(counts.idle);
  $("sum-alerts").textContent = String(alerts.count());
  $("courier-count").textContent = couriers.length > 0 ? `(${couriers.length})` : "";

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
    $("schematic").hidden = config.tileUrl !== null;
  }
  renderPanel();
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
  renderAll();
});

$("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const problem = signIn($<HTMLTextAreaElement>("login-token").value);
  $("login-error").hidden = problem === null;
  $("login-error").textContent = problem ?? "";
});

$("logout").addEventListener("click", signOut);

// Ages, staleness and the clock move with time even when no frame arrives.
setInterval(() => {
  renderBar();
  if (state.session === null) return;
  const now = Date.now();
  map?.restyle((view) => describeCourier(view, now), now);
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
