/**
 * Builds the dispatcher console in memory for the gateway to serve at `/console`: one HTML page
 * and its assets (`app-<hash>.js`, `app-<hash>.css`), bundled by esbuild with nothing on disk.
 */
import { buildApp } from "../app-kit/bundle.ts";
import type { BuiltApp } from "../app-kit/bundle.ts";

export type { BuiltApp, Asset } from "../app-kit/bundle.ts";

export interface ConsoleAppOptions {
  /**
   * Leaflet tile URL template (`https://…/{z}/{x}/{y}.png`). Default null: no tile server, the
   * map draws a schematic of the city instead. Chinese tile providers serve GCJ-02 tiles, on
   * which WGS-84 positions sit a few hundred metres off; use WGS-84 tiles here.
   */
  tileUrl?: string | null;
  /** Gateway origin the console talks to. Default: the origin the page was served from. */
  gatewayUrl?: string;
  /** Path the gateway serves the console and its assets under. Default `/console`. */
  basePath?: string;
  /** Minify the bundle. Default true. */
  minify?: boolean;
}

export function buildConsoleApp(options: ConsoleAppOptions = {}): Promise<BuiltApp> {
  return buildApp({
    root: import.meta.dirname,
    basePath: options.basePath ?? "/console",
    minify: options.minify ?? true,
    config: { gatewayUrl: options.gatewayUrl ?? null, tileUrl: options.tileUrl ?? null },
  });
}
