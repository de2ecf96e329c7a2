/**
 * The store's screen (a store token signs in to the same console): orders to take on, orders to
 * prepare with their ready button, and the hand-off, where staff type the code the courier shows.
 * There is no store channel on /ws/live, so the list is read from the store API every few
 * seconds and after every action.
 */
import { storeApi } from "./api.ts";
import type { StoreOrders } from "./api.ts";
import { refusalText, shortTime } from "./i18n.ts";
import type { Lang, Translate } from "./i18n.ts";

const POLL_MS = 2_000;

export interface StoreScreenOptions {
  base: string;
  token: string;
  storeId: string;
  root: HTMLElement;
  words: () => { t: Translate; lang: Lang };
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (className !== "") element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

export class StoreScreen {
  private orders: StoreOrders | null = null;
  private problem: { orderId: string | null; text: string; ok: boolean } | null = null;
  private busy = new Set<string>();
  /** Codes being typed, per order, kept across redraws. */
  private readonly codes = new Map<string, string>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private drawn = "";

  constructor(private readonly o: StoreScreenOptions) {}

  start(): void {
    void this.load();
    this.timer = setInterval(() => void this.load(), POLL_MS);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Orders as last read (for the browser tests). */
  get snapshot(): StoreOrders | null {
    return this.orders;
  }

  async load(): Promise<void> {
    const result = await storeApi.orders(this.o.base, this.o.token, this.o.storeId);
    if (result.ok) {
      this.orders = result.body;
    } else if (this.orders === null) {
      const { t } = this.o.words();
      this.problem = { orderId: null, text: refusalText(t, result.code), ok: false };
    }
    this.render();
  }

  private async act(
    orderId: string,
    action: "accept" | "preparing" | "ready" | "hand-off",
    body: Record<string, unknown> = {},
  ): Promise<void> {
    this.busy.add(orderId);
    this.render(true);
    const result = await storeApi.act(
      this.o.base,
      this.o.token,
      this.o.storeId,
      orderId,
      action,
      body,
    );
    this.busy.delete(orderId);
    const { t } = this.o.words();
    this.problem = result.ok
      ? { orderId, text: t(`storeView.done.${action}`, { order: orderId }), ok: true }
      : { orderId, text: refusalText(t, result.code), ok: false };
    if (result.ok && action === "hand-off") this.codes.delete(orderId);
    await this.load();
  }

  render(force = false): void {
    const { t, lang } = this.o.words();
    const orders = this.orders;
    const key = JSON.stringify([lang, orders, this.problem, [...this.busy]]);
    if (!force && key === this.drawn) return;
    this.drawn = key;
    const root = this.o.root;
    const $ = (id: string) => root.querySelector<HTMLElement>(`#${id}`)!;
    $("store-name").textContent =
      orders === null ? this.o.storeId : `${orders.name} · ${orders.storeId}`;
    const message = $("store-message");
    message.hidden = this.problem === null;
    message.textContent = this.problem?.text ?? "";
    message.classList.toggle("info", this.problem?.ok ?? false);

    const incoming = orders?.incoming ?? [];
    $("store-incoming").replaceChildren(
      ...incoming.map((order) => {
        const li = this.row(order.orderId, order.shopOrderId, order.itemsSummary);
        li.append(
          this.meta([
            t("storeView.promised", { time: shortTime(lang, order.promisedAt) }),
            temperature(t, order.temperatureClass),
          ]),
          this.actions([this.button(order.orderId, "primary", t("storeView.accept"), "accept")]),
        );
        return li;
      }),
    );
    $("store-incoming-empty").hidden = incoming.length > 0;

    const pending = orders?.pending ?? [];
    $("store-pending").replaceChildren(
      ...pending.map((order) => {
        const li = this.row(order.orderId, order.shopOrderId, order.itemsSummary);
        const ready = order.readyMarkedAt !== null;
        li.classList.toggle("is-ready", ready);
        li.prepend(
          el(
            "span",
            `badge ${ready ? "status-idle" : "status-offered"} prep-state`,
            t(
              ready
                ? "storeView.isReady"
                : order.preparingAt !== null
                  ? "storeView.isPreparing"
                  : "storeView.toPrepare",
            ),
          ),
        );
        li.append(
          this.meta([
            t(ready ? "storeView.readySince" : "storeView.readyBy", {
              time: shortTime(lang, order.readyMarkedAt ?? order.readyAt),
            }),
            t("storeView.promised", { time: shortTime(lang, order.promisedAt) }),
            temperature(t, order.temperatureClass),
            order.courierId === null
              ? t("storeView.noCourier")
              : t("storeView.courier", { id: order.courierId }),
          ]),
        );
        const buttons: HTMLElement[] = [];
        if (!ready && order.preparingAt === null) {
          buttons.push(this.button(order.orderId, "ghost", t("storeView.preparing"), "preparing"));
        }
        if (!ready) {
          buttons.push(this.button(order.orderId, "primary", t("storeView.ready"), "ready"));
        }
        li.append(this.actions(buttons), this.handOff(order.orderId, order.courierId !== null));
        return li;
      }),
    );
    $("store-pending-empty").hidden = pending.length > 0;
  }

  private row(orderId: string, shopOrderId: string, items: string): HTMLLIElement {
    const { t } = this.o.words();
    const li = el("li", "store-row");
    li.dataset["orderId"] = orderId;
    const head = el("div", "store-head");
    head.append(
      el("b", "shop-order", t("storeView.shopOrder", { id: shopOrderId })),
      el("span", "muted small", orderId),
    );
    li.append(head, el("div", "items", items));
    return li;
  }

  private meta(parts: string[]): HTMLElement {
    const meta = el("div", "order-meta");
    for (const part of parts) meta.append(el("span", "", part));
    return meta;
  }

  private actions(buttons: HTMLElement[]): HTMLElement {
    const box = el("div", "store-actions");
    box.append(...buttons);
    return box;
  }

  private button(
    orderId: string,
    style: string,
    text: string,
    action: "accept" | "preparing" | "ready",
  ): HTMLButtonElement {
    const b = el("button", `${style} store-${action}`, text);
    b.type = "button";
    b.disabled = this.busy.has(orderId);
    b.addEventListener("click", () => void this.act(orderId, action));
    return b;
  }

  /** The hand-off: staff type the courier's code; the order checks it. */
  private handOff(orderId: string, hasCourier: boolean): HTMLElement {
    const { t } = this.o.words();
    const form = el("form", "hand-off");
    const input = el("input", "pickup-input");
    input.placeholder = t("storeView.codePlaceholder");
    input.autocomplete = "off";
    input.maxLength = 12;
    input.value = this.codes.get(orderId) ?? "";
    input.setAttribute("aria-label", t("storeView.code"));
    input.addEventListener("input", () => {
      input.value = input.value.toUpperCase();
      this.codes.set(orderId, input.value);
    });
    const submit = el("button", "primary", t("storeView.handOff"));
    submit.type = "submit";
    submit.disabled = !hasCourier || this.busy.has(orderId);
    form.append(el("span", "label", t("storeView.code")), input, submit);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const code = input.value.trim();
      if (!/^[0-9A-Za-z]{4,12}$/.test(code)) {
        this.problem = { orderId, text: t("storeView.badCode"), ok: false };
        this.render(true);
        return;
      }
      void this.act(orderId, "hand-off", { pickupCode: code });
    });
    if (!hasCourier) form.title = t("storeView.noCourier");
    return form;
  }
}

function temperature(t: Translate, cls: "ambient" | "chilled" | "frozen"): string {
  return cls === "ambient" ? t("storeView.ambient") : `❄ ${t(`temp.${cls}`)}`;
}
