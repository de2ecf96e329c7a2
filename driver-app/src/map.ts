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
