/**
 * In-memory esbuild bundle of one app folder: `src/main.ts` (with its CSS and Leaflet's) into
 * `app-<hash>.js` and `app-<hash>.css`, and the folder's `index.html` with the asset paths and the page config
 * filled in. Node only; the browser never imports this.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { build } from "esbuild";
import type { Plugin } from "esbuild";

export interface Asset {
  contentType: string;
  body: string | Uint8Array;
}

export interface BuiltApp {
  html: string;
  /** Keyed by file name (`app-<hash>.js`), served under the app's base path (`/driver/…`). */
  assets: Record<string, Asset>;
}

export interface BuildAppOptions {
  /** The app folder, holding `index.html` and `src/main.ts`. */
  root: string;
  basePath: string;
  minify: boolean;
  /** Baked into the page as JSON; read by `src/config.ts`. */
  config: Record<string, unknown>;
}

const CONTENT_TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".map": "application/json",
};

export async function buildApp(options: BuildAppOptions): Promise<BuiltApp> {
  const result = await build({
    entryPoints: { app: path.join(options.root, "src/main.ts") },
    bundle: true,
    write: false,
    outdir: "/out",
    // Content-hashed names: a page always loads the bundle it was built with, however cached.
    entryNames: "[name]-[hash]",
    format: "esm",
    platform: "browser",
    target: ["es2022", "chrome100", "safari15"],
    minify: options.minify,
    sourcemap: false,
    legalComments: "none",
    // Leaflet's CSS points at marker images these apps do not use (they draw div markers);
    // inline any that remain so the bundle stays two files.
    loader: { ".png": "dataurl", ".svg": "dataurl" },
    logLevel: "silent",
    plugins: [zodWithoutLocales],
  });
  const assets: Record<string, Asset> = {};
  for (const file of result.outputFiles) {
    const name = path.basename(file.path);
    const type = CONTENT_TYPES[path.extname(name)] ?? "application/octet-stream";
    assets[name] = {
      contentType: type,
      body: type.startsWith("text/") ? file.text : file.contents,
    };
  }
  const names = Object.keys(assets);
  const js = names.find((name) => name.endsWith(".js"));
  const css = names.find((name) => name.endsWith(".css"));
  if (js === undefined || css === undefined) {
    throw new Error(`bundle of ${options.root} produced ${names.join(", ")}`);
  }
  const template = await readFile(path.join(options.root, "index.html"), "utf8");
  const base = options.basePath.replace(/\/+$/, "");
  // `<` escaped so a config value can never close the script element.
  const config = JSON.stringify(options.config).replace(/</g, "\\u003c");
  const html = template
    .replaceAll("{{base}}", base)
    .replaceAll("{{js}}", js)
    .replaceAll("{{css}}", css)
    .replace("{{config}}", () => config);
  return { html, assets };
}

/**
 * zod re-exports all of its ~40 message locales as a namespace (`z.locales`), which cannot be
 * tree-shaken and is 260 kB of the bundle. The apps validate frames but never show zod's
 * messages to a user, and zod itself only imports `en` directly; so the namespace keeps `en` only.
 */
const zodWithoutLocales: Plugin = {
  name: "zod-without-locales",
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]/.test(args.importer)
        ? {
            path: path.join(path.dirname(args.importer), "../locales/en.js"),
            namespace: "zod-locales",
          }
        : undefined,
    );
    pluginBuild.onLoad({ filter: /.*/, namespace: "zod-locales" }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};`,
      resolveDir: path.dirname(args.path),
      loader: "js",
    }));
  },
};
