/** Renders a TrackingView into the page's DOM (built once by `pageSkeleton`). */
import type { TrackingView } from "../shared/index.ts";

function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`tracking page: #${id} missing`);
  return element as T;
}

function setText(id: string, text: string): void {
  const element = byId(id);
  if (element.textContent !== text) element.textContent = text;
}

export function renderView(view: TrackingView): void {
  document.title = view.title;
  setText("banner", view.banner);
  setText("headline", view.headline);
  setText("eta-text", view.eta.text);
  setText("eta-minutes", view.eta.minutes);
  const eta = byId("eta");
  eta.classList.toggle("unknown", !view.eta.known);
  eta.classList.toggle("done", view.eta.done);
  setText("courier-note", view.courierNote);
  setText("order-no", view.orderLabel);

  const badge = byId("temp-badge");
  if (view.temperature) {
    badge.hidden = false;
    badge.className = `badge ${view.temperature.state}`;
    setText("temp-label", view.temperature.label);
    setText("temp-verdict", view.temperature.verdict);
  } else {
    badge.hidden = true;
  }

  const list = byId("timeline");
  const items = view.steps.map((step) => {
    const li = document.createElement("li");
    li.className = `step ${step.state}`;
    li.dataset.step = step.key;
    const label = document.createElement("span");
    label.className = "label";
    label.textContent = step.label;
    const time = document.createElement("span");
    time.className = "time";
    time.textContent = step.time;
    li.append(label, time);
    return li;
  });
  list.replaceChildren(...items);
}

export function renderExpired(expired: NonNullable<TrackingView["expired"]>): void {
  const app = byId("app");
  const box = document.createElement("section");
  box.className = "expired";
  box.id = "expired";
  const icon = document.createElement("div");
  icon.className = "icon";
  // A clock in SVG: no emoji font needed.
  icon.innerHTML =
    '<svg width="56" height="56" viewBox="0 0 24 24" aria-hidden="true"><circle cx="12" cy="12" r="10" fill="none" stroke="#9ca3af" stroke-width="2"/><path d="M12 6v6l4 2" fill="none" stroke="#9ca3af" stroke-width="2" stroke-linecap="round"/></svg>';
  const title = document.createElement("h1");
  title.textContent = expired.title;
  const reason = document.createElement("p");
  reason.id = "expired-reason";
  reason.textContent = expired.reason;
  const hint = document.createElement("p");
  hint.className = "hint";
  hint.textContent = expired.hint;
  box.append(icon, title, reason, hint);
  const bar = app.querySelector(".bar");
  app.replaceChildren(...(bar ? [bar] : []), box);
}
