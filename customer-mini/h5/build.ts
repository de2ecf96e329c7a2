/**
 * Builds the H5 tracking page in memory with esbuild, for the gateway to serve at /t/<token>:
 * the html, and `app.js` / `app.css` which the gateway serves under /t/ (the html refers to
 * them relatively, so /t/<token> loads /t/app.js).
 */
import { build } from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));

export interface TrackingPageOptions {
  /**
   * Tile URL template for Leaflet (`{z}/{x}/{y}`, `{s}`). Default null: no tile server, a
   * neutral drawn background. Chinese tile providers (AutoNavi, Tencent) draw in GCJ-02, so
   * with a tile layer the page asks the gateway for GCJ-02 unless `tileCoord` says otherwise.
   */
  readonly tileUrl?: string | null;
  /** Coordinate system of the tile layer. Default "gcj02" (only used with `tileUrl`). */
  readonly tileCoord?: "gcj02" | "wgs84";
  readonly tileAttribution?: string | null;
  /** Minify the bundle. Default true. */
  readonly minify?: boolean;
}

export interface StaticPage {
  readonly html: string;
  readonly assets: Record<string, { contentType: string; body: string | Uint8Array }>;
}

function escapeJsonForHtml(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}

export async function buildTrackingPage(options: TrackingPageOptions = {}): Promise<StaticPage> {
  const tileUrl = options.tileUrl ?? null;
  const coord = tileUrl ? (options.tileCoord ?? "gcj02") : "wgs84";
  const result = await build({
    // Two entries named "app": app.js and app.css (the CSS pulls in Leaflet's own).
    entryPoints: [
      { in: join(HERE, "main.ts"), out: "app" },
      { in: join(HERE, "styles.css"), out: "app" },
    ],
    bundle: true,
    write: false,
    outdir: "/out",
    format: "iife",
    platform: "browser",
    target: ["es2020", "safari14", "chrome80"],
    minify: options.minify ?? true,
    legalComments: "none",
    loader: { ".png": "dataurl", ".svg": "dataurl" },
    logLevel: "silent",
  });
  const assets: StaticPage["assets"] = {};
  for (const file of result.outputFiles) {
    const name = file.path.slice(file.path.lastIndexOf("/") + 1);
    assets[name] = {
      contentType: name.endsWith(".css")
        ? "text/css; charset=utf-8"
        : "text/javascript; charset=utf-8",
      body: file.text,
    };
  }
  if (!assets["app.js"] || !assets["app.css"]) {
    throw new Error(`tracking page build: expected app.js and app.css, got ${Object.keys(assets)}`);
  }
  const config = { tileUrl, tileAttribution: options.tileAttribution ?? null, coord };
  const html = `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="referrer" content="no-referrer">
<meta name="theme-color" content="#16a34a">
<title>鲜达 · 订单追踪</title>
<link rel="stylesheet" href="app.css">
<script type="application/json" id="xianda-config">${escapeJsonForHtml(config)}</script>
</head>
<body>
<main id="app">
  <header class="bar">鲜达<small>订单追踪 · Order tracking</small></header>
  <div id="map" role="img" aria-label="骑手位置地图"></div>
  <section class="sheet">
    <div id="banner" class="banner" role="status"></div>
    <div class="head">
      <h1 id="headline">正在连接…</h1>
      <span id="temp-badge" class="badge" role="status" hidden><span aria-hidden="true">❄</span><span id="temp-label"></span><span id="temp-mark" class="mark" aria-hidden="true"></span><span id="temp-verdict" class="verdict"></span></span>
    </div>
    <p id="collect-code" class="card collect-code" role="status" hidden></p>
    <p id="temp-note" class="temp-note"></p>
    <div id="eta" class="card eta unknown"><span id="eta-text"></span><span id="eta-minutes"></span></div>
    <section id="certificate" class="card certificate" hidden>
      <div class="cert-head"><h2 id="cert-title"></h2><span id="cert-verdict" class="cert-verdict"></span></div>
      <p id="cert-check" class="cert-check"></p>
      <ul id="cert-lines" class="cert-lines"></ul>
      <a id="cert-link" class="cert-link" target="_blank" rel="noopener noreferrer" hidden></a>
      <p id="cert-note" class="cert-note"></p>
    </section>
    <p id="courier-note"></p>
    <ol id="timeline" class="card timeline"></ol>
    <p id="order-no" class="order-no"></p>
  </section>
</main>
<script src="app.js" defer></script>
</body>
</html>
`;
  return { html, assets };
}
