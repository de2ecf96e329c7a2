/** Shared geo types. Every coordinate inside xianda is WGS-84 unless a name says otherwise. */

export interface LatLng {
  lat: number;
  lng: number;
}

/** How a courier travels. E-bikes (电动车) carry most of the fresh-grocery orders. */
export type Mode = "foot" | "bike" | "ebike" | "car" | "van";
export const MODES: readonly Mode[] = ["foot", "bike", "ebike", "car", "van"];

/** A GeoJSON Polygon (RFC 7946): rings of [lng, lat], WGS-84, first ring the outer one. */
export interface GeoJsonPolygon {
  type: "Polygon";
  coordinates: number[][][];
}

/** A delivery zone of a market: where it delivers, at what fee, in what promised time. */
export interface Zone {
  id: string;
  marketId: string;
  name: string;
  polygon: GeoJsonPolygon;
  /** Integer fen (分). */
  deliveryFeeFen: number;
  promisedMinutes: number;
}
