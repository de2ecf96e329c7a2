/**
 * The `map` component's markers, polylines and circles. miniprogram-api-typings has no types
 * for them, so the fields this app sets are declared here (names as WeChat documents them).
 */
export interface MapMarker {
  id: number;
  latitude: number;
  longitude: number;
  iconPath: string;
  width: number;
  height: number;
  rotate?: number;
  alpha?: number;
  anchor?: { x: number; y: number };
  zIndex?: number;
  callout?: {
    content: string;
    color?: string;
    fontSize?: number;
    borderRadius?: number;
    bgColor?: string;
    padding?: number;
    display?: "BYCLICK" | "ALWAYS";
  };
}

export interface MapPolyline {
  points: { latitude: number; longitude: number }[];
  color: string;
  width: number;
  dottedLine?: boolean;
  arrowLine?: boolean;
  borderColor?: string;
  borderWidth?: number;
}

export interface MapCircle {
  latitude: number;
  longitude: number;
  radius: number;
  color: string;
  fillColor: string;
  strokeWidth: number;
}

export const COURIER_MARKER_ID = 1;
export const DESTINATION_MARKER_ID = 2;
