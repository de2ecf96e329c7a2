/**
 * The wave plan in the console (波次排线): a scheduled wave's routes per van on the map and in a
 * panel, stop by stop with planned times. A drop-off stop dragged onto another van is sent to the
 * wave as a move; the wave re-checks it and the panel shows the new cost, or the refusal with its
 * reason. Each van's route can be locked (re-plans keep it); the wave can be asked to plan again.
 * Opened with `?wave=<market>-<yyyymmdd>-<slot>` on the console's address.
 */
import { call } from "./api.ts";
import type { ApiResult } from "./api.ts";
import { refusalText, shortTime } from "./i18n.ts";
import type { Lang, MessageKey, Translate } from "./i18n.ts";

interface Stop {
  readonly kind: "pickup" | "dropoff";
  readonly place: string;
  readonly location: { readonly lat: number; readonly lng: number };
  readonly orderIds: readonly string[];
  readonly arriveAt: number;
}

interface Route {
  readonly vehicleId: string;
  readonly courierId: string;
  readonly locked: boolean;
  readonly stops: readonly Stop[];
  readonly travelMinutes: number;
  readonly returnAt: number | null;
}

/** `GET /v1/markets/:marketId/waves/:waveId`, the fields the panel uses. */
export interface WavePlanAnswer {
  readonly waveId: string;
  readonly status: string;
  readonly pickupPoints: ReadonlyArray<{ readonly id: string; readonly name: string }>;
  readonly plan: {
    readonly version: number;
    readonly cost: number;
    readonly vans: number;
    readonly unplanned: readonly string[];
    readonly routes: readonly Route[];
  } | null;
  readonly planning: { readonly requestId: number } | null;
}

/** What the map draws of the plan: one coloured line per van through its stops. */
export interface WaveDrawing {
  readonly vehicleId: string;
  readonly color: string;
  readonly locked: boolean;
  readonly stops: ReadonlyArray<{
    readonly kind: "pickup" | "dropoff";
    readonly location: { readonly lat: number; readonly lng: number };
    readonly label: string;
    readonly title: string;
  }>;
}

const COLORS = [
  "#d9480f",
  "#2f6fde",
  "#2b8a3e",
  "#9c36b5",
  "#c2255c",
  "#e67700",
  "#0b7285",
  "#5c940d",
];
const STOP_DRAG = "application/x-xianda-wave-stop";

export interface WavePanelOptions {
  readonly base: string;
  readonly token: string;
  readonly marketId: string;
  readonly waveId: string;
  readonly root: HTMLElement;
  readonly words: () => { t: Translate; lang: Lang };
  readonly draw: (routes: readonly WaveDrawing[]) => void;
}

export class WavePanel {
  readonly #o: WavePanelOptions;
  #plan: WavePlanAnswer | null = null;
  #message: { text: string; ok: boolean } | null = null;
  #loading = false;
  #drawn = "";

  constructor(options: WavePanelOptions) {
    this.#o = options;
  }

  get snapshot(): WavePlanAnswer | null {
    return this.#plan;
  }

  #path(suffix = ""): string {
    const { marketId, waveId } = this.#o;
    return `/v1/markets/${encodeURIComponent(marketId)}/waves/${encodeURIComponent(waveId)}${suffix}`;
  }

  async reload(): Promise<void> {
    if (this.#loading) return;
    this.#loading = true;
    try {
      const result = await call<WavePlanAnswer>(this.#o.base, this.#o.token, "GET", this.#path());
      if (result.ok) this.#plan = result.body;
      else this.#message = { text: this.#refusal(result), ok: false };
    } finally {
      this.#loading = false;
    }
    this.render();
  }

  #refusal(result: Extract<ApiResult, { ok: false }>): string {
    const { t } = this.#o.words();
    const said = refusalText(t, result.code);
    return result.message !== null && result.code !== "network_error"
      ? `${said}（${result.message}）`
      : said;
  }

  async move(fromVehicleId: string, stopIndex: number, toVehicleId: string): Promise<void> {
    const plan = this.#plan?.plan;
    if (!plan || fromVehicleId === toVehicleId) return;
    const { t } = this.#o.words();
    const result = await call<WavePlanAnswer & { previousCost: number; cost: number }>(
      this.#o.base,
      this.#o.token,
      "POST",
      this.#path("/moves"),
      { planVersion: plan.version, fromVehicleId, stopIndex, toVehicleId },
    );
    if (result.ok) {
      this.#plan = result.body;
      this.#message = {
        text: t("wave.moved", {
          van: toVehicleId,
          from: result.body.previousCost.toFixed(1),
          to: result.body.cost.toFixed(1),
        }),
        ok: true,
      };
      this.render();
      return;
    }
    this.#message = { text: t("wave.refused", { reason: this.#refusal(result) }), ok: false };
    if (result.code === "stale_plan") await this.reload();
    else this.render();
  }

  async lock(vehicleId: string, locked: boolean): Promise<void> {
    const result = await call(this.#o.base, this.#o.token, "POST", this.#path("/locks"), {
      vehicleId,
      locked,
    });
    if (!result.ok) this.#message = { text: this.#refusal(result), ok: false };
    await this.reload();
  }

  async replan(): Promise<void> {
    const { t } = this.#o.words();
    const result = await call(this.#o.base, this.#o.token, "POST", this.#path("/replan"), {});
    this.#message = result.ok
      ? { text: t("wave.replanAsked"), ok: true }
      : { text: this.#refusal(result), ok: false };
    await this.reload();
  }

  render(): void {
    const { t, lang } = this.#o.words();
    const root = this.#o.root;
    root.hidden = false;
    const answer = this.#plan;
    // A reload that changed nothing must not rebuild the rows: it would drop a drag in progress.
    const key = JSON.stringify([answer, this.#message, lang]);
    if (key === this.#drawn) return;
    this.#drawn = key;
    const plan = answer?.plan ?? null;
    const names = new Map((answer?.pickupPoints ?? []).map((p) => [p.id, p.name]));
    const nameOf = (place: string) => {
      const [kind, id = place] = place.split(":");
      return kind === "point" ? (names.get(id) ?? id) : id;
    };

    const head = document.createElement("h2");
    head.append(text("span", t("wave.title")), text("small", answer ? ` ${answer.waveId}` : ""));
    const status = text(
      "p",
      answer === null
        ? t("wave.noPlan")
        : [
            t(`wave.status.${answer.status}` as MessageKey),
            plan
              ? t("wave.summary", {
                  vans: plan.vans,
                  cost: plan.cost.toFixed(1),
                  version: plan.version,
                })
              : t("wave.noPlan"),
            answer.planning ? t("wave.planning") : "",
            plan && plan.unplanned.length > 0
              ? t("wave.unplanned", { count: plan.unplanned.length })
              : "",
          ]
            .filter((s) => s !== "")
            .join(" · "),
    );
    status.className = "wave-status";
    status.id = "wave-status";
    const message = text("p", this.#message?.text ?? "");
    message.id = "wave-message";
    message.className = `notice ${this.#message?.ok ? "info" : ""}`;
    message.hidden = this.#message === null;
    message.setAttribute("role", "status");
    const replan = document.createElement("button");
    replan.type = "button";
    replan.id = "wave-replan";
    replan.className = "ghost small";
    replan.textContent = t("wave.replan");
    replan.disabled = answer === null || answer.status === "departed";
    replan.addEventListener("click", () => void this.replan());
    const hint = text("p", t("wave.dropHint"));
    hint.className = "muted small";

    const list = document.createElement("ul");
    list.className = "rows wave-vans";
    const drawings: WaveDrawing[] = [];
    (plan?.routes ?? []).forEach((route, r) => {
      const color = COLORS[r % COLORS.length]!;
      if (route.stops.length > 0) {
        drawings.push({
          vehicleId: route.vehicleId,
          color,
          locked: route.locked,
          stops: route.stops.map((s, i) => ({
            kind: s.kind,
            location: s.location,
            label: `${i + 1}${t(s.kind === "pickup" ? "wave.pickup" : "wave.dropoff")}`,
            title: `${route.vehicleId} · ${nameOf(s.place)} · ${s.orderIds.length}`,
          })),
        });
      }
      list.append(this.#vanRow(route, color, nameOf, t, lang));
    });
    root.replaceChildren(head, status, replan, message, hint, list);
    this.#o.draw(drawings);
  }

  #vanRow(
    route: Route,
    color: string,
    nameOf: (place: string) => string,
    t: Translate,
    lang: Lang,
  ): HTMLLIElement {
    const li = document.createElement("li");
    li.className = "wave-van";
    li.dataset["vehicleId"] = route.vehicleId;
    li.classList.toggle("locked", route.locked);
    li.style.borderLeft = `4px solid ${color}`;
    const head = document.createElement("div");
    head.className = "wave-van-head";
    head.append(
      text("b", route.vehicleId),
      text("span", ` ${route.courierId} · `),
      text(
        "span",
        route.stops.length === 0
          ? t("wave.empty")
          : t("wave.vanLine", {
              stops: route.stops.length,
              minutes: route.travelMinutes.toFixed(1),
              back: route.returnAt === null ? "—" : shortTime(lang, route.returnAt),
            }),
      ),
    );
    const lock = document.createElement("button");
    lock.type = "button";
    lock.className = "ghost small wave-lock";
    lock.textContent = t(route.locked ? "wave.unlock" : "wave.lock");
    lock.addEventListener("click", () => void this.lock(route.vehicleId, !route.locked));
    head.append(lock);
    const stops = document.createElement("ol");
    stops.className = "wave-stops";
    route.stops.forEach((stop, i) => {
      const row = document.createElement("li");
      row.className = `wave-stop ${stop.kind}`;
      row.dataset["vehicleId"] = route.vehicleId;
      row.dataset["stopIndex"] = String(i);
      row.dataset["place"] = stop.place;
      row.textContent = t("wave.stop", {
        n: i + 1,
        kind: t(stop.kind === "pickup" ? "wave.pickup" : "wave.dropoff"),
        name: nameOf(stop.place),
        count: stop.orderIds.length,
        time: shortTime(lang, stop.arriveAt),
      });
      if (stop.kind === "dropoff" && !route.locked) {
        row.draggable = true;
        row.classList.add("draggable");
        row.addEventListener("dragstart", (event) => {
          event.stopPropagation();
          event.dataTransfer?.setData(
            STOP_DRAG,
            JSON.stringify({ from: route.vehicleId, index: i }),
          );
          event.dataTransfer?.setData("text/plain", stop.place);
        });
      }
      stops.append(row);
    });
    li.append(head, stops);
    li.addEventListener("dragover", (event) => {
      if (!event.dataTransfer?.types.includes(STOP_DRAG)) return;
      event.preventDefault();
      event.stopPropagation();
      li.classList.add("drop-over");
    });
    li.addEventListener("dragleave", () => li.classList.remove("drop-over"));
    li.addEventListener("drop", (event) => {
      li.classList.remove("drop-over");
      const raw = event.dataTransfer?.getData(STOP_DRAG);
      if (!raw) return;
      event.preventDefault();
      event.stopPropagation();
      const { from, index } = JSON.parse(raw) as { from: string; index: number };
      void this.move(from, index, route.vehicleId);
    });
    return li;
  }
}

function text<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  content: string,
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  element.textContent = content;
  return element;
}
