/**
 * The courier's own position on a small Leaflet map. No tile server is needed: a plain grid
 * background, the accuracy circle, the marker and the recent trail. A tile layer is added only
 * when one is configured.
 */
import * as L from "leaflet";
import "leaflet/dist/leaflet.css";

/** 昆明 (Kunming), Dongfeng Square: where the map looks before the first fix. */
export const DEFAULT_CENTER: L.LatLngTuple = [25.0406, 102.7123];
const TRAIL_POINTS = 60;

export class OwnPositionMap {
  private readonly map: L.Map;
  private readonly marker: L.Marker;
  private readonly accuracy: L.Circle;
  private readonly trail: L.Polyline;
  private placed = false;
  private readonly stops = L.layerGroup();
  private readonly routeLine: L.Polyline;

  constructor(element: HTMLElement, tileUrl: string | null) {
    this.map = L.map(element, {
      center: DEFAULT_CENTER,
      zoom: 15,
      zoomControl: false,
      attributionControl: tileUrl !== null,
    });
    if (tileUrl !== null) L.tileLayer(tileUrl, { maxZoom: 19 }).addTo(this.map);
    const icon = L.divIcon({
      className: "",
      html: '<div class="me-marker"></div>',
      iconSize: [18, 18],
    });
    this.marker = L.marker(DEFAULT_CENTER, { icon, keyboard: false, interactive: false });
    this.accuracy = L.circle(DEFAULT_CENTER, {
      radius: 0,
      color: "#1e7bf0",
      weight: 1,
      fillOpacity: 0.08,
      interactive: false,
    });
    this.trail = L.polyline([], { color: "#12a150", weight: 4, opacity: 0.7 }).addTo(this.map);
    this.routeLine = L.polyline([], {
      color: "#1e7bf0",
      weight: 3,
      opacity: 0.8,
      dashArray: "6 6",
    }).addTo(this.map);
    this.stops.addTo(this.map);
  }

  /** The remaining stops in order: numbered squares (取 pickup, 送 drop-off) joined by a line. */
  showRoute(
    route: ReadonlyArray<{ kind: "pickup" | "dropoff"; location: { lat: number; lng: number } }>,
  ): void {
    this.stops.clearLayers();
    const points: L.LatLngTuple[] = [];
    if (this.placed) {
      const here = this.marker.getLatLng();
      points.push([here.lat, here.lng]);
    }
    route.forEach((stop, index) => {
      const at: L.LatLngTuple = [stop.location.lat, stop.location.lng];
      points.push(at);
      const html = document.createElement("div");
      html.className = `stop-marker ${stop.kind}`;
      html.textContent = `${index + 1}${stop.kind === "pickup" ? "取" : "送"}`;
      L.marker(at, {
        icon: L.divIcon({ className: "", html, iconSize: [34, 22], iconAnchor: [17, 11] }),
        keyboard: false,
        interactive: false,
      }).addTo(this.stops);
    });
    this.routeLine.setLatLngs(points);
    if (route.length > 0 && points.length > 1) {
      this.map.fitBounds(L.latLngBounds(points).pad(0.25), { maxZoom: 16, animate: false });
    }
  }

  show(lat: number, lng: number, accuracyMetres: number | undefined): void {
    const here: L.LatLngTuple = [lat, lng];
    if (!this.placed) {
      this.placed = true;
      this.accuracy.addTo(this.map);
      this.marker.addTo(this.map);
      this.map.setView(here, 16, { animate: false });
    } else {
      this.map.panTo(here, { animate: true, duration: 0.25 });
    }
    this.marker.setLatLng(here);
    this.accuracy.setLatLng(here).setRadius(Math.min(accuracyMetres ?? 0, 2_000));
    const points = this.trail.getLatLngs() as L.LatLng[];
    points.push(L.latLng(lat, lng));
    this.trail.setLatLngs(points.slice(-TRAIL_POINTS));
    const element = this.marker.getElement();
    if (element !== undefined) {
      element.dataset["lat"] = lat.toFixed(6);
      element.dataset["lng"] = lng.toFixed(6);
    }
  }

  /** Leaflet measures its box once; call after the container changes size or is shown. */
  refresh(): void {
    this.map.invalidateSize();
  }
}
