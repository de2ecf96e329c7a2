/**
 * The work screens of the driver app, drawn from plain state: the offer cards (countdown,
 * accept, decline with a reason), the route with a step per stop (arrived at the store and the
 * pickup code shown big; arrived at the customer and the proof of delivery: PIN and/or photo, or
 * a failed delivery with its reason). Events go back through `WorkHandlers`; nothing here talks
 * to the network.
 */
import type { CourierContact } from "./api.ts";
import type { Lang, Translate } from "./i18n.ts";
import { distanceText } from "./i18n.ts";
import { DECLINE_REASONS, FAILURE_REASONS } from "./reasons.ts";
import type { DeclineReason, DeliveryFailureReason } from "./reasons.ts";
import { jobOf, metresBetween, openOffers, secondsLeft } from "./work.ts";
import type { Offer, Stop, Work } from "./work.ts";

export type Arrival = "store" | "customer";

export interface WorkView {
  work: Work;
  /** Server time now. */
  now: number;
  here: { lat: number; lng: number } | null;
  /** Where the courier said they are, per order (kept until the stop is done). */
  arrived: Readonly<Record<string, Arrival>>;
  /** Orders with an action queued and not yet confirmed, by kind. */
  pending: ReadonlyMap<string, string>;
  declining: string | null;
  failing: string | null;
  pins: Readonly<Record<string, string>>;
  photos: Readonly<Record<string, string>>;
  /** A problem to show on one order's proof panel. */
  proofProblem: { orderId: string; text: string } | null;
  /** The shopper's contact per order, masked; the address only while the order is yours. */
  contacts: ReadonlyMap<string, CourierContact>;
}

export interface WorkHandlers {
  accept(orderId: string): void;
  startDecline(orderId: string | null): void;
  decline(orderId: string, reason: DeclineReason): void;
  arrived(orderId: string, at: Arrival): void;
  pin(orderId: string, value: string): void;
  photo(orderId: string, file: File): void;
  deliver(orderId: string): void;
  startFail(orderId: string | null): void;
  fail(orderId: string, reason: DeliveryFailureReason): void;
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

function button(className: string, text: string, onClick: () => void): HTMLButtonElement {
  const b = el("button", className, text);
  b.type = "button";
  b.addEventListener("click", onClick);
  return b;
}

// --- offers -----------------------------------------------------------------------------------

export function offerCards(view: WorkView, t: Translate, on: WorkHandlers): HTMLElement[] {
  const offers = openOffers(view.work, view.now);
  if (offers.length === 0) return [];
  return [el("h2", "section-title", t("offers.title")), ...offers.map((o) => offerCard(o))];

  function offerCard(offer: Offer): HTMLElement {
    const card = el("article", "card offer");
    card.dataset["orderId"] = offer.orderId;
    const head = el("div", "offer-head");
    const left = el("div", "");
    left.append(
      el("div", "offer-order", t("offer.order", { order: offer.orderId })),
      el("div", "muted small", t("offer.store", { store: offer.storeId })),
    );
    const clock = el("div", "countdown");
    const seconds = el("b", "countdown-seconds", t("offer.countdown", { seconds: "" }));
    seconds.dataset["expiresAt"] = String(offer.expiresAt);
    seconds.textContent = t("offer.countdown", {
      seconds: secondsLeft(offer.expiresAt, view.now),
    });
    clock.append(seconds, el("span", "small", t("offer.countdownHint")));
    head.append(left, clock);

    const facts = el("div", "offer-facts");
    facts.append(
      el("span", `badge temp-${offer.temperatureClass}`, t(`temp.${offer.temperatureClass}`)),
    );
    if (view.here !== null) {
      facts.append(
        el(
          "span",
          "fact",
          t("offer.toStore", { distance: distanceText(t, metresBetween(view.here, offer.pickup)) }),
        ),
      );
    }
    if (offer.dropoff !== null) {
      facts.append(
        el(
          "span",
          "fact",
          t("offer.trip", {
            distance: distanceText(t, metresBetween(offer.pickup, offer.dropoff)),
          }),
        ),
      );
    }
    card.append(head, facts);

    if (view.pending.has(offer.orderId)) {
      card.append(el("p", "notice info", t("offer.sending")));
      return card;
    }
    if (view.declining === offer.orderId) {
      card.append(el("div", "label", t("offer.reasonTitle")));
      const reasons = el("div", "reasons");
      for (const reason of DECLINE_REASONS) {
        const b = button("ghost reason", t(`decline.${reason}`), () =>
          on.decline(offer.orderId, reason),
        );
        b.dataset["reason"] = reason;
        reasons.append(b);
      }
      reasons.append(button("ghost reason back", t("offer.back"), () => on.startDecline(null)));
      card.append(reasons);
      return card;
    }
    const actions = el("div", "offer-actions");
    actions.append(
      button("ghost decline", t("offer.decline"), () => on.startDecline(offer.orderId)),
      button("primary accept", t("offer.accept"), () => on.accept(offer.orderId)),
    );
    card.append(actions);
    return card;
  }
}

/** Refreshes the countdowns in place (every second, without redrawing the cards). */
export function tickCountdowns(root: HTMLElement, now: number, t: Translate): boolean {
  let expired = false;
  for (const element of root.querySelectorAll<HTMLElement>("[data-expires-at]")) {
    const left = secondsLeft(Number(element.dataset["expiresAt"]), now);
    element.textContent = t("offer.countdown", { seconds: left });
    element.classList.toggle("urgent", left <= 10);
    if (left === 0) expired = true;
  }
  return expired;
}

// --- route ------------------------------------------------------------------------------------

/** Who to hand the goods to and where: masked name and phone, the address while it is yours. */
export function contactBlock(contact: CourierContact, t: Translate): HTMLElement {
  const block = el("div", "contact");
  block.append(
    el("div", "contact-who", t("contact.who", { name: contact.name, phone: contact.phone })),
  );
  if (contact.address !== null) {
    block.append(el("div", "contact-address", t("contact.address", { address: contact.address })));
  }
  if (contact.doorNote !== null) {
    block.append(
      el("div", "contact-note muted small", t("contact.note", { note: contact.doorNote })),
    );
  }
  block.append(el("div", "muted small", t("contact.masked")));
  return block;
}

export function stopItems(
  view: WorkView,
  t: Translate,
  _lang: Lang,
  on: WorkHandlers,
): HTMLElement[] {
  return view.work.route.map((stop, index) => stopItem(stop, index));

  function stopItem(stop: Stop, index: number): HTMLElement {
    const li = el("li", `stop kind-${stop.kind}`);
    li.dataset["orderId"] = stop.orderId;
    li.dataset["kind"] = stop.kind;
    li.classList.toggle("next", index === 0);
    const job = jobOf(view.work, stop.orderId);
    const head = el("div", "stop-head");
    head.append(el("span", "stop-index", String(index + 1)));
    const what = el("div", "stop-what");
    what.append(
      el("div", "stop-kind", t(stop.kind === "pickup" ? "stop.pickup" : "stop.dropoff")),
      el(
        "div",
        "muted small",
        stop.kind === "pickup" && stop.storeId !== null
          ? `${t("stop.store", { store: stop.storeId })} · ${t("stop.order", { order: stop.orderId })}`
          : t("stop.order", { order: stop.orderId }),
      ),
    );
    head.append(what);
    if (index === 0) head.append(el("span", "badge next-badge", t("stop.next")));
    if (job !== undefined && job.temperatureClass !== "ambient") {
      head.append(
        el("span", `badge temp-${job.temperatureClass}`, t(`temp.${job.temperatureClass}`)),
      );
    }
    li.append(head);
    const contact = stop.kind === "dropoff" ? view.contacts.get(stop.orderId) : undefined;
    if (contact !== undefined) li.append(contactBlock(contact, t));
    const pending = view.pending.get(stop.orderId);

    if (stop.kind === "pickup") {
      const code = el("div", "pickup-code");
      code.append(el("div", "label", t("pickup.code")));
      const value = el("div", "code", job?.pickupCode ?? "—");
      value.dataset["pickupCode"] = job?.pickupCode ?? "";
      code.append(value);
      if (view.arrived[stop.orderId] === "store") {
        li.classList.add("arrived");
        code.append(el("p", "small", t(job?.pickupCode ? "pickup.show" : "pickup.none")));
        li.append(code);
      } else {
        li.append(code);
        li.append(
          button("primary block step", t("step.arrivedStore"), () =>
            on.arrived(stop.orderId, "store"),
          ),
        );
      }
      return li;
    }

    // A drop-off: only once the goods are picked up.
    if (job !== undefined && !job.pickedUp) {
      li.append(el("p", "muted small", t("step.waitPickup")));
      return li;
    }
    if (pending === "deliver" || pending === "fail") {
      li.append(el("p", "notice info", t("deliver.recorded")));
      return li;
    }
    if (view.arrived[stop.orderId] !== "customer") {
      li.append(
        button("primary block step", t("step.arrivedCustomer"), () =>
          on.arrived(stop.orderId, "customer"),
        ),
      );
      return li;
    }
    li.classList.add("arrived");
    li.append(proofPanel(stop.orderId));
    return li;
  }

  function proofPanel(orderId: string): HTMLElement {
    const panel = el("div", "proof");
    if (view.failing === orderId) {
      panel.append(el("div", "label", t("deliver.failTitle")));
      const reasons = el("div", "reasons");
      for (const reason of FAILURE_REASONS) {
        const b = button("ghost reason", t(`fail.${reason}`), () => on.fail(orderId, reason));
        b.dataset["reason"] = reason;
        reasons.append(b);
      }
      reasons.append(button("ghost reason back", t("offer.back"), () => on.startFail(null)));
      panel.append(reasons);
      return panel;
    }
    const pinLabel = el("label", "field");
    pinLabel.append(el("span", "label", t("deliver.pin")));
    const pin = el("input", "pin");
    pin.type = "text";
    pin.inputMode = "numeric";
    pin.autocomplete = "off";
    pin.maxLength = 8;
    pin.placeholder = t("deliver.pinPlaceholder");
    pin.value = view.pins[orderId] ?? "";
    pin.addEventListener("input", () => on.pin(orderId, pin.value));
    pinLabel.append(pin);

    const photoLabel = el("label", "photo-button");
    const photo = el("input", "");
    photo.type = "file";
    photo.accept = "image/*";
    photo.setAttribute("capture", "environment");
    photo.hidden = true;
    photo.addEventListener("change", () => {
      const file = photo.files?.[0];
      if (file !== undefined) on.photo(orderId, file);
    });
    const taken = view.photos[orderId];
    photoLabel.append(photo);
    if (taken !== undefined) {
      const thumb = el("img", "thumb");
      thumb.src = taken;
      thumb.alt = "";
      photoLabel.append(thumb);
    }
    photoLabel.append(
      el("span", "", t(taken !== undefined ? "deliver.photoTaken" : "deliver.photo")),
    );

    panel.append(pinLabel, photoLabel);
    if (view.proofProblem?.orderId === orderId) {
      panel.append(el("p", "error", view.proofProblem.text));
    }
    const actions = el("div", "proof-actions");
    actions.append(
      button("ghost fail", t("deliver.fail"), () => on.startFail(orderId)),
      button("primary deliver", t("deliver.submit"), () => on.deliver(orderId)),
    );
    panel.append(actions);
    return panel;
  }
}
