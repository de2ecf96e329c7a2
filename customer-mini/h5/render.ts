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

export interface RenderLinks {
  /** The printable certificate page (with the token), once there is a certificate. */
  readonly certificate: string;
}

export function renderView(view: TrackingView, links?: RenderLinks): void {
  document.title = view.title;
  setText("banner", view.banner);
  setText("headline", view.headline);
  const code = byId("collect-code");
  code.hidden = view.collectCode === "";
  setText("collect-code", view.collectCode);
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
    badge.dataset.state = view.temperature.state;
    setText("temp-label", view.temperature.label);
    setText("temp-mark", view.temperature.mark);
    setText("temp-verdict", view.temperature.verdict);
  } else {
    badge.hidden = true;
  }
  setText("temp-note", view.temperature?.note ?? "");
  renderCertificate(view.certificate, links);

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

function renderCertificate(card: TrackingView["certificate"], links?: RenderLinks): void {
  const section = byId("certificate");
  section.hidden = card === null;
  if (card === null) return;
  section.dataset.state = card.state;
  setText("cert-title", card.title);
  const verdict = byId("cert-verdict");
  verdict.className = `cert-verdict ${card.verdictState}`;
  setText("cert-verdict", card.verdict);
  const check = byId("cert-check");
  check.className = `cert-check ${card.checkState}`;
  setText("cert-check", card.check);
  const lines = card.lines.map((line) => {
    const li = document.createElement("li");
    li.textContent = line;
    return li;
  });
  const list = byId("cert-lines");
  if (list.textContent !== card.lines.join("")) list.replaceChildren(...lines);
  const link = byId<HTMLAnchorElement>("cert-link");
  link.hidden = card.linkLabel === "" || !links;
  if (links && card.linkLabel !== "") {
    if (link.getAttribute("href") !== links.certificate) link.href = links.certificate;
    setText("cert-link", card.linkLabel);
  }
  setText("cert-note", card.note);
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
