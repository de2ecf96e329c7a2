/** What the build bakes into the page (`<script id="xianda-config" type="application/json">`). */
export interface AppConfig {
  /** Gateway origin, e.g. `https://api.example.cn`; null means the page's own origin. */
  gatewayUrl: string | null;
  /** Leaflet tile URL template; null shows the plain background. */
  tileUrl: string | null;
}

export const DEFAULT_CONFIG: AppConfig = { gatewayUrl: null, tileUrl: null };

export function parseConfig(text: string | null | undefined): AppConfig {
  try {
    const raw: unknown = JSON.parse(text ?? "{}");
    if (typeof raw !== "object" || raw === null) return DEFAULT_CONFIG;
    const record = raw as Record<string, unknown>;
    return {
      gatewayUrl: typeof record["gatewayUrl"] === "string" ? record["gatewayUrl"] : null,
      tileUrl: typeof record["tileUrl"] === "string" ? record["tileUrl"] : null,
    };
  } catch {
    return DEFAULT_CONFIG;
  }
}

/** HTTP and websocket bases for the gateway, without a trailing slash. */
export function gatewayBases(config: AppConfig, pageOrigin: string): { http: string; ws: string } {
  const http = (config.gatewayUrl ?? pageOrigin).replace(/\/+$/, "");
  return { http, ws: http.replace(/^http/, "ws") };
}
