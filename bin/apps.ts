/** The browser apps the gateway serves, built in memory on first request (esbuild, ~100 ms). */
import { buildConsoleApp } from "../console/build.ts";
import { buildTrackingPage } from "../customer-mini/h5/build.ts";
import { buildDriverApp } from "../driver-app/build.ts";
import type { StaticApp } from "../gateway/index.ts";
import type { Config } from "./config.ts";

export function buildApps(config: Config): {
  driver: StaticApp;
  console: StaticApp;
  tracking: StaticApp;
} {
  const lazy = (build: () => Promise<{ html: string; assets: StaticApp["assets"] }>): StaticApp => {
    let built: ReturnType<typeof build> | null = null;
    const once = () =>
      (built ??= build().catch((err) => {
        built = null;
        throw err;
      }));
    return {
      html: async () => (await once()).html,
      assets: async () => {
        const a = (await once()).assets;
        return typeof a === "function" ? a() : a;
      },
    };
  };
  const tileUrl = config.MAP_TILE_URL ?? null;
  return {
    driver: lazy(() => buildDriverApp()),
    console: lazy(() => buildConsoleApp({ tileUrl })),
    tracking: lazy(() => buildTrackingPage({ tileUrl })),
  };
}
