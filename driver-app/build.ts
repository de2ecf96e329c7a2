/**
 * Builds the driver app in memory for the gateway to serve at `/driver`: one HTML page and its
 * assets (`app-<hash>.js`, `app-<hash>.css`), bundled by esbuild with nothing written to disk.
 */
import { buildApp } from "../app-kit/bundle.ts";
import type { BuiltApp } from "../app-kit/bundle.ts";

export type { BuiltApp, Asset } from "../app-kit/bundle.ts";

export interface DriverAppOptions {
  /** Gateway origin the app talks to. Default: the origin the page was served from. */
  gatewayUrl?: string;
  /** Leaflet tile URL template for the small map. Default: none (plain background). */
  tileUrl?: string | null;
  /** Path the gateway serves the app and its assets under. Default `/driver`. */
  basePath?: string;
  /** Minify the bundle. Default true. */
  minify?: boolean;
}

export function buildDriverApp(options: DriverAppOptions = {}): Promise<BuiltApp> {
  return buildApp({
    root: import.meta.dirname,
    basePath: options.basePath ?? "/driver",
    minify: options.minify ?? true,
    config: { gatewayUrl: options.gatewayUrl ?? null, tileUrl: options.tileUrl ?? null },
  });
}
