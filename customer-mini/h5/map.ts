/**
 * The Leaflet map of the tracking page: a neutral drawn background (or a configured tile
 * layer), the courier marker gliding between fixes, the destination, a coarse area before
 * pickup and the straight line courier → door once exact.
 */
import * as L from "leaflet";
import type { CourierMarker } from "../shared/index.ts";

/** Kunming's centre: where the map starts before anything is known. */
const DEFAULT_CENTER: L.LatLngTuple = [25.0406, 102.7123];
const GLIDE_MS = 1000;
const COARSE_RADIUS_M = 400;

/** Faint grid drawn on a canvas per tile: movement is visible without any tile server. */
const NeutralGrid = L.GridLayer.extend({
  createTile(): HTMLCanvasElement {
    const size = 256;
    const tile = document.createElement("canvas");
    tile.width = size;
    tile.height = size;
    const ctx = tile.getContext("2d");
    if (ctx) {
      ctx.fillStyle = "#eef1ef";
      ctx.fillRect(0, 0, size, size);
      ctx.strokeStyle = "#dde3df";
      ctx.lineWidth = 1;
      for (let i = 0; i <= size; i += 64) {
        ctx.beginPath();
        ctx.moveTo(i + 0.5, 0);
        ctx.lineTo(i + 0.5, size);
        ctx.moveTo(0, i + 0.5);
        ctx.lineTo(size, i + 0.5);
        ctx.stroke();
      }
    }
    return tile;
  },
});

export interface TrackingMapOptions {
  readonly tileUrl: string | null;
  readonly attribution?: string;
  readonly courierLabel: string;
}

export class TrackingMap {
  private readonly map: L.Map;
  private courier: L.Marker | null = null;
  private coarseArea: L.Circle | null = null;
  private route: L.Polyline | null = null;
  private destination: L.Marker | null = null;
  private glide: number | null = null;
  private framed = false;

  constructor(
    element: HTMLElement,
    private readonly options: TrackingMapOptions,
  ) {
    this.map = L.map(element, { zoomControl: false, attributionControl: Boolean(options.tileUrl) });
    if (options.tileUrl) {
      L.tileLayer(options.tileUrl, {
        maxZoom: 18,
        subdomains: "1234",
        attribution: options.attribution ?? "",
      }).addTo(this.map);
    } else {
      new NeutralGrid().addTo(this.map);
    }
    this.map.setView(DEFAULT_CENTER, 14);
  }

  show(courier: CourierMarker | null, destination: { lat: number; lng: number } | null): void {
    this.showDestination(destination);
    this.showCourier(courier);
    const exact = courier && !courier.coarse;
    const line: L.LatLngTuple[] | null =
      exact && destination
        ? [
            [courier.lat, courier.lng],
            [destination.lat, destination.lng],
          ]
        : null;
    if (line && !this.route) {
      this.route = L.polyline(line, {
        color: "#16a34a",
        weight: 4,
        dashArray: "6 8",
        opacity: 0.8,
      });
      this.route.addTo(this.map);
    } else if (line && this.route) {
      this.route.setLatLngs(line);
    } else if (!line && this.route) {
      this.route.remove();
      this.route = null;
    }
    this.frame(courier, destination);
  }

  private showDestination(destination: { lat: number; lng: number } | null): void {
    if (destination && !this.destination) {
      this.destination = L.marker([destination.lat, destination.lng], {
        icon: L.divIcon({
          className: "",
          html: '<div class="dest-marker"><span>⌂</span></div>',
          iconSize: [28, 28],
          iconAnchor: [14, 28],
        }),
        keyboard: false,
      }).addTo(this.map);
    } else if (destination && this.destination) {
      this.destination.setLatLng([destination.lat, destination.lng]);
    }
  }

  private showCourier(courier: CourierMarker | null): void {
    if (!courier) {
      this.courier?.remove();
      this.coarseArea?.remove();
      this.courier = null;
      this.coarseArea = null;
      return;
    }
    const to = L.latLng(courier.lat, courier.lng);
    if (!this.courier) {
      this.courier = L.marker(to, {
        icon: L.divIcon({
          className: "",
          // An arrow drawn in SVG: no icon font or CJK glyph needed.
          html: `<div class="courier-marker" role="img" aria-label="${this.options.courierLabel}"><svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true"><path d="M8 1 L14 14 L8 10.5 L2 14 Z" fill="#fff"/></svg></div>`,
          iconSize: [34, 34],
          iconAnchor: [17, 17],
        }),
        keyboard: false,
        zIndexOffset: 1000,
      }).addTo(this.map);
    } else {
      this.glideTo(this.courier, to);
    }
    const element = this.courier.getElement()?.querySelector<HTMLElement>(".courier-marker");
    if (element) {
      element.classList.toggle("coarse", courier.coarse);
      // Where the marker is headed, for tests and debugging; the DOM position lags by a glide.
      element.dataset.lat = String(courier.lat);
      element.dataset.lng = String(courier.lng);
    }
    if (courier.coarse) {
      if (!this.coarseArea) {
        this.coarseArea = L.circle(to, {
          radius: COARSE_RADIUS_M,
          color: "#16a34a",
          weight: 1,
          fillOpacity: 0.12,
        }).addTo(this.map);
      } else {
        this.coarseArea.setLatLng(to);
      }
    } else if (this.coarseArea) {
      this.coarseArea.remove();
      this.coarseArea = null;
    }
  }

  /** Glide between fixes (fixes come every 1-3 s), like the mini-program's translateMarker. */
  private glideTo(marker: L.Marker, to: L.LatLng): void {
    if (this.glide !== null) cancelAnimationFrame(this.glide);
    const from = marker.getLatLng();
    const start = performance.now();
    const step = (now: number) => {
      const t = Math.min(1, (now - start) / GLIDE_MS);
      const ease = t * (2 - t);
      marker.setLatLng([
        from.lat + (to.lat - from.lat) * ease,
        from.lng + (to.lng - from.lng) * ease,
      ]);
      this.glide = t < 1 ? requestAnimationFrame(step) : null;
    };
    this.glide = requestAnimationFrame(step);
  }

  /** Fit courier and door once; afterwards only pan when the courier leaves the view. */
  private frame(
    courier: CourierMarker | null,
    destination: { lat: number; lng: number } | null,
  ): void {
    const points: L.LatLngTuple[] = [];
    if (courier) points.push([courier.lat, courier.lng]);
    if (destination) points.push([destination.lat, destination.lng]);
    if (points.length === 0) return;
    if (!this.framed) {
      if (points.length === 2) this.map.fitBounds(L.latLngBounds(points), { padding: [48, 48] });
      else this.map.setView(points[0]!, 15);
      this.framed = points.length === 2 || Boolean(courier);
      return;
    }
    if (!courier) return;
    // With no door to frame, keep the courier in the middle; else only keep it in view.
    if (!destination) this.map.panTo([courier.lat, courier.lng], { animate: true, duration: 1 });
    else this.map.panInside([courier.lat, courier.lng], { padding: [40, 40] });
  }
}
