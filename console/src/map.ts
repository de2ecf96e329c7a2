/**
 * The dispatcher's city map (Leaflet). With no tile server it draws a schematic of the city on a
 * neutral background; with one configured it draws the tiles instead. Couriers are div markers
 * (no images) that glide to each new position; stores are square markers. Supply (couriers) and
 * demand (orders waiting at a store) are shaded per H3 cell, together or one at a time, or as
 * their balance (see demand.ts).
 */
import * as L from "leaflet";
import "leaflet/dist/leaflet.css";
import type { CourierView } from "./fleet.ts";
import { STALE_AFTER_MS } from "./fleet.ts";
import type { Lang } from "./i18n.ts";
import { Glide, glideDuration, metresBetween } from "./motion.ts";
import type { CityOutline } from "./outline.ts";
import type { BalanceCell, DemandCell } from "./demand.ts";
import { balanceKey } from "./demand.ts";
import type { StoreView } from "./orders.ts";
import type { SupplyCell } from "./supply.ts";
import { supplyKey } from "./supply.ts";

/** What the cells show: couriers, orders, both overlaid, or couriers minus orders. */
export type ShadingMode = "both" | "supply" | "demand" | "balance";

interface CourierMarker {
  marker: L.Marker;
  glide: Glide;
  view: CourierView;
  receivedAt: number;
}

const SUPPLY_COLOURS: Record<SupplyCell["level"], string> = {
  1: "#bfe8cf",
  2: "#7fd3a2",
  3: "#35b46e",
  4: "#0f7f41",
};

const DEMAND_COLOURS: Record<DemandCell["level"], string> = {
  1: "#fdd9b0",
  2: "#fbb067",
  3: "#f3862b",
  4: "#c85a09",
};

const BALANCE_COLOURS: Record<BalanceCell["tone"], Record<BalanceCell["level"], string>> = {
  short: { 1: "#f7b7b0", 2: "#ec6e62", 3: "#c62f24" },
  even: { 1: "#c9ced4", 2: "#c9ced4", 3: "#c9ced4" },
  spare: { 1: "#bfe8cf", 2: "#6fcb96", 3: "#1f9a55" },
};

export class CityMap {
  private readonly map: L.Map;
  private readonly couriers = new Map<string, CourierMarker>();
  private readonly supplyLayer = L.layerGroup();
  private readonly demandLayer = L.layerGroup();
  private readonly balanceLayer = L.layerGroup();
  private readonly storeLayer = L.layerGroup();
  private readonly routeLayer = L.layerGroup();
  private readonly waveLayer = L.layerGroup();
  private lastWave = "";
  private lastRoutes = "";
  private readonly stores = new Map<string, { marker: L.Marker; key: string }>();
  private mode: ShadingMode = "both";
  private lastDemand = "";
  private lastBalance = "";
  private readonly placeLabels: Array<{ marker: L.Marker; name: { zh: string; en: string } }> = [];
  private lastSupply = "";
  private fitted = false;
  private frame: number | null = null;

  constructor(
    element: HTMLElement,
    private readonly options: {
      tileUrl: string | null;
      outline: CityOutline;
      onSelect: (courierId: string) => void;
    },
  ) {
    this.map = L.map(element, {
      center: options.outline.center,
      zoom: options.outline.zoom,
      zoomControl: true,
      attributionControl: options.tileUrl !== null,
      preferCanvas: false,
    });
    L.control.scale({ imperial: false, position: "bottomright" }).addTo(this.map);
    if (options.tileUrl !== null) {
      L.tileLayer(options.tileUrl, { maxZoom: 19 }).addTo(this.map);
    } else {
      this.drawOutline(options.outline);
    }
    this.supplyLayer.addTo(this.map);
    this.demandLayer.addTo(this.map);
    this.storeLayer.addTo(this.map);
    this.routeLayer.addTo(this.map);
    this.waveLayer.addTo(this.map);
  }

  /**
   * A scheduled wave's plan: one coloured line per van from stop to stop (dashed when locked),
   * numbered stop markers (取 pickup, 送 drop-off). The view fits the plan the first time.
   */
  showWave(
    routes: ReadonlyArray<{
      vehicleId: string;
      color: string;
      locked: boolean;
      stops: ReadonlyArray<{
        kind: "pickup" | "dropoff";
        location: { lat: number; lng: number };
        label: string;
        title: string;
      }>;
    }>,
  ): void {
    const key = JSON.stringify(routes);
    if (key === this.lastWave) return;
    const first = this.lastWave === "";
    this.lastWave = key;
    this.waveLayer.clearLayers();
    const all: L.LatLngTuple[] = [];
    for (const route of routes) {
      const points = route.stops.map((s): L.LatLngTuple => [s.location.lat, s.location.lng]);
      all.push(...points);
      L.polyline(points, {
        color: route.color,
        weight: 4,
        opacity: 0.8,
        ...(route.locked ? { dashArray: "2 6" } : {}),
        interactive: false,
        className: `wave-line vehicle-${route.vehicleId}`,
      }).addTo(this.waveLayer);
      for (const stop of route.stops) {
        const html = document.createElement("div");
        html.className = `wave-marker ${stop.kind}`;
        html.style.borderColor = route.color;
        html.textContent = stop.label;
        html.title = stop.title;
        L.marker([stop.location.lat, stop.location.lng], {
          icon: L.divIcon({ className: "", html, iconSize: [30, 18], iconAnchor: [15, 9] }),
          keyboard: false,
          title: stop.title,
        }).addTo(this.waveLayer);
      }
    }
    if (first && all.length > 0) this.map.fitBounds(L.latLngBounds(all), { padding: [30, 30] });
  }

  /**
   * Each courier's remaining stops in order, as a line from where the courier is through its
   * stops, with small numbered stop markers (取 pickup, 送 drop-off).
   */
  showRoutes(
    routes: ReadonlyArray<{
      courierId: string;
      stops: ReadonlyArray<{ kind: "pickup" | "dropoff"; location: { lat: number; lng: number } }>;
    }>,
    labels: { pickup: string; dropoff: string },
  ): void {
    const lines = routes.map((route) => {
      const from = this.couriers.get(route.courierId)?.view;
      const points: L.LatLngTuple[] = from !== undefined ? [[from.lat, from.lng]] : [];
      for (const stop of route.stops) points.push([stop.location.lat, stop.location.lng]);
      return { route, points };
    });
    const key = JSON.stringify([lines.map((l) => [l.route.courierId, l.points]), labels]);
    if (key === this.lastRoutes) return;
    this.lastRoutes = key;
    this.routeLayer.clearLayers();
    for (const { route, points } of lines) {
      L.polyline(points, {
        color: "#2f6fde",
        weight: 3,
        opacity: 0.75,
        dashArray: "7 6",
        interactive: false,
        className: `route-line courier-${route.courierId}`,
      }).addTo(this.routeLayer);
      route.stops.forEach((stop, index) => {
        const html = document.createElement("div");
        html.className = `route-stop ${stop.kind}`;
        html.textContent = `${index + 1}${stop.kind === "pickup" ? labels.pickup : labels.dropoff}`;
        html.title = route.courierId;
        L.marker([stop.location.lat, stop.location.lng], {
          icon: L.divIcon({ className: "", html, iconSize: [30, 18], iconAnchor: [15, 9] }),
          keyboard: false,
          interactive: false,
        }).addTo(this.routeLayer);
      });
    }
  }

  /** Which shading to draw; the others stay computed, just off the map. */
  setShading(mode: ShadingMode): void {
    this.mode = mode;
    const show = (layer: L.LayerGroup, on: boolean) => {
      if (on && !this.map.hasLayer(layer)) layer.addTo(this.map);
      if (!on && this.map.hasLayer(layer)) layer.remove();
    };
    show(this.supplyLayer, mode === "both" || mode === "supply");
    show(this.demandLayer, mode === "both" || mode === "demand");
    show(this.balanceLayer, mode === "balance");
  }

  get shading(): ShadingMode {
    return this.mode;
  }

  private drawOutline(outline: CityOutline): void {
    L.polygon(outline.urban, {
      color: "#b9b2a2",
      weight: 1.5,
      dashArray: "6 5",
      fillColor: "#f7f3ea",
      fillOpacity: 0.9,
      interactive: false,
    }).addTo(this.map);
    for (const water of outline.water) {
      L.polygon(water.ring, {
        color: "#8fb8d8",
        weight: 1,
        fillColor: "#cfe3f3",
        fillOpacity: 1,
        interactive: false,
      }).addTo(this.map);
    }
    const labels = [
      ...outline.water.map((w) => ({ name: w.name, at: centroid(w.ring), water: true })),
      ...outline.places.map((p) => ({ ...p, water: false })),
    ];
    for (const label of labels) {
      const marker = L.marker(label.at, {
        icon: placeIcon(label.name.zh, label.water),
        interactive: false,
        keyboard: false,
      }).addTo(this.map);
      this.placeLabels.push({ marker, name: label.name });
    }
  }

  setLang(lang: Lang): void {
    for (const label of this.placeLabels) {
      const element = label.marker.getElement()?.querySelector(".place-label");
      if (element) element.textContent = label.name[lang];
    }
  }

  /** Places or moves a courier's marker; the move glides over about the reporting interval. */
  showCourier(view: CourierView, wallNow: number, label: string, title: string): void {
    const now = performance.now();
    const existing = this.couriers.get(view.courierId);
    const target = { lat: view.lat, lng: view.lng };
    if (existing === undefined) {
      const marker = L.marker([view.lat, view.lng], {
        icon: L.divIcon({
          className: "courier-icon",
          html: courierElement(),
          iconSize: [16, 16],
          iconAnchor: [8, 8],
        }),
        keyboard: false,
        riseOnHover: true,
      });
      marker.on("click", () => this.options.onSelect(view.courierId));
      marker.addTo(this.map);
      const entry: CourierMarker = { marker, glide: new Glide(target), view, receivedAt: now };
      this.couriers.set(view.courierId, entry);
      this.decorate(entry, label, title, wallNow);
      return;
    }
    const drawn = existing.glide.at(now);
    const duration = glideDuration(now - existing.receivedAt, metresBetween(drawn, target));
    existing.glide.retarget(target, now, duration);
    existing.view = view;
    existing.receivedAt = now;
    this.decorate(existing, label, title, wallNow);
    this.animate();
  }

  /** Refreshes labels and staleness (called every second and on a language change). */
  restyle(
    describe: (view: CourierView) => { label: string; title: string },
    wallNow: number,
  ): void {
    for (const entry of this.couriers.values()) {
      const { label, title } = describe(entry.view);
      this.decorate(entry, label, title, wallNow);
    }
  }

  setSupply(cells: readonly SupplyCell[]): void {
    const key = supplyKey(cells);
    if (key === this.lastSupply) return;
    this.lastSupply = key;
    this.supplyLayer.clearLayers();
    for (const cell of cells) {
      L.polygon(cell.boundary, {
        color: SUPPLY_COLOURS[cell.level],
        weight: 1,
        fillColor: SUPPLY_COLOURS[cell.level],
        fillOpacity: 0.45,
        interactive: false,
        className: `supply-cell level-${cell.level}`,
      }).addTo(this.supplyLayer);
    }
  }

  setDemand(cells: readonly DemandCell[]): void {
    const key = supplyKey(cells);
    if (key === this.lastDemand) return;
    this.lastDemand = key;
    this.demandLayer.clearLayers();
    for (const cell of cells) {
      L.polygon(cell.boundary, {
        color: DEMAND_COLOURS[Math.min(4, cell.level + 1) as DemandCell["level"]],
        weight: 2,
        dashArray: "5 3",
        fillColor: DEMAND_COLOURS[cell.level],
        fillOpacity: 0.4,
        interactive: false,
        className: `demand-cell level-${cell.level}`,
      }).addTo(this.demandLayer);
    }
  }

  setBalance(cells: readonly BalanceCell[]): void {
    const key = balanceKey(cells);
    if (key === this.lastBalance) return;
    this.lastBalance = key;
    this.balanceLayer.clearLayers();
    for (const cell of cells) {
      const colour = BALANCE_COLOURS[cell.tone][cell.level];
      L.polygon(cell.boundary, {
        color: colour,
        weight: 1,
        fillColor: colour,
        fillOpacity: 0.5,
        interactive: false,
        className: `balance-cell ${cell.tone} level-${cell.level}`,
      }).addTo(this.balanceLayer);
    }
  }

  /** Places each store's marker (labelled with its id) and its count of orders waiting. */
  showStores(stores: readonly StoreView[], title: (store: StoreView) => string): void {
    for (const store of stores) {
      const key = `${store.lat},${store.lng},${store.waiting},${title(store)}`;
      const known = this.stores.get(store.storeId);
      if (known?.key === key) continue;
      const icon = L.divIcon({
        className: "store-icon",
        html: storeElement(store),
        iconSize: [22, 22],
        iconAnchor: [11, 11],
      });
      if (known === undefined) {
        // Below the couriers: a courier waiting at a store stays visible.
        const marker = L.marker([store.lat, store.lng], {
          icon,
          keyboard: false,
          riseOnHover: true,
          zIndexOffset: -1000,
        });
        marker.addTo(this.storeLayer);
        this.stores.set(store.storeId, { marker, key });
      } else {
        known.marker.setLatLng([store.lat, store.lng]);
        known.marker.setIcon(icon);
        known.key = key;
      }
      const element = this.stores.get(store.storeId)?.marker.getElement();
      if (element !== undefined) {
        element.dataset["storeId"] = store.storeId;
        element.title = title(store);
      }
    }
  }

  /** Shows a point (an order's pickup or drop-off) without changing the zoom out of reach. */
  focusPoint(lat: number, lng: number): void {
    this.map.setView([lat, lng], Math.max(this.map.getZoom(), 15));
  }

  focus(courierId: string): void {
    const entry = this.couriers.get(courierId);
    if (entry === undefined) return;
    this.map.setView(entry.marker.getLatLng(), Math.max(this.map.getZoom(), 15));
    for (const other of this.couriers.values()) {
      other.marker.getElement()?.classList.toggle("selected", other === entry);
    }
  }

  /** Where each marker is drawn right now (for tests and the side panel). */
  drawn(): Array<{ courierId: string; lat: number; lng: number }> {
    return [...this.couriers.entries()].map(([courierId, entry]) => {
      const at = entry.marker.getLatLng();
      return { courierId, lat: at.lat, lng: at.lng };
    });
  }

  refresh(): void {
    this.map.invalidateSize();
  }

  /** `wallNow` is the wall clock (ms since the epoch), compared with the report's `at`. */
  private decorate(entry: CourierMarker, label: string, title: string, wallNow: number): void {
    const element = entry.marker.getElement();
    if (element === undefined) return;
    element.dataset["courierId"] = entry.view.courierId;
    element.dataset["status"] = entry.view.status;
    element.dataset["lat"] = entry.view.lat.toFixed(6);
    element.dataset["lng"] = entry.view.lng.toFixed(6);
    element.title = title;
    element.classList.toggle("stale", wallNow - entry.view.at > STALE_AFTER_MS);
    const marker = element.querySelector(".courier-marker");
    if (marker !== null) marker.className = `courier-marker status-${entry.view.status}`;
    const tag = element.querySelector(".courier-tag");
    if (tag !== null && tag.textContent !== label) tag.textContent = label;
  }

  /**
   * The first time couriers are known, makes sure they are in view (zooming in only as far as
   * needed); after that the dispatcher's own panning and zooming are left alone.
   */
  fitOnce(): void {
    if (this.fitted) return;
    const points = [...this.couriers.values()].map((e) => e.marker.getLatLng());
    if (points.length === 0) return;
    this.fitted = true;
    const bounds = L.latLngBounds(points);
    if (!this.map.getBounds().pad(-0.1).contains(bounds)) {
      this.map.fitBounds(bounds.pad(0.5), { maxZoom: 15, animate: false });
    }
  }

  private animate(): void {
    if (this.frame !== null) return;
    const step = (): void => {
      const now = performance.now();
      let moving = false;
      for (const entry of this.couriers.values()) {
        const at = entry.glide.at(now);
        entry.marker.setLatLng([at.lat, at.lng]);
        moving ||= entry.glide.moving(now);
      }
      this.frame = moving ? requestAnimationFrame(step) : null;
    };
    this.frame = requestAnimationFrame(step);
  }
}

function courierElement(): HTMLElement {
  const marker = document.createElement("div");
  marker.className = "courier-marker";
  const dot = document.createElement("span");
  dot.className = "courier-dot";
  const tag = document.createElement("span");
  tag.className = "courier-tag";
  marker.append(dot, tag);
  return marker;
}

function storeElement(store: StoreView): HTMLElement {
  const marker = document.createElement("div");
  marker.className = "store-marker";
  const glyph = document.createElement("span");
  glyph.className = "store-glyph";
  glyph.textContent = "店";
  const tag = document.createElement("span");
  tag.className = "store-tag";
  tag.textContent = store.storeId;
  marker.append(glyph, tag);
  if (store.waiting > 0) {
    const count = document.createElement("span");
    count.className = "store-count";
    count.textContent = String(store.waiting);
    marker.append(count);
  }
  return marker;
}

function placeIcon(text: string, water: boolean): L.DivIcon {
  const label = document.createElement("span");
  label.className = water ? "place-label water" : "place-label";
  label.textContent = text;
  return L.divIcon({ className: "place-icon", html: label, iconSize: [0, 0] });
}

function centroid(ring: Array<[number, number]>): [number, number] {
  const lat = ring.reduce((sum, p) => sum + p[0], 0) / ring.length;
  const lng = ring.reduce((sum, p) => sum + p[1], 0) / ring.length;
  return [lat, lng];
}
