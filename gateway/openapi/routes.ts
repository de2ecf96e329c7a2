/**
 * GET /openapi.json (the document) and GET /docs (Swagger UI from the `swagger-ui-dist` package
 * on disk: no CDN, so the docs work where only the gateway is reachable).
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Hono } from "hono";
import type { Env } from "../http/context.ts";
import type { RouteSpec } from "../http/spec.ts";
import { openApiDocument } from "./document.ts";
import type { OpenApiOptions } from "./document.ts";

/** The Swagger UI files served under /docs/, and their types. */
const ASSETS: Readonly<Record<string, string>> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "swagger-ui-standalone-preset.js": "text/javascript; charset=utf-8",
  "favicon-32x32.png": "image/png",
  "favicon-16x16.png": "image/png",
};

const PAGE = `<!doctype html>
<html lang="zh-CN">
  <head>
    <meta charset="utf-8" />
    <title>鲜达 xianda API</title>
    <link rel="stylesheet" href="/docs/swagger-ui.css" />
    <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs/swagger-ui-bundle.js"></script>
    <script src="/docs/swagger-ui-standalone-preset.js"></script>
    <script src="/docs/init.js"></script>
  </body>
</html>
`;

const INIT = `window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "StandaloneLayout",
});
`;

function swaggerUiDir(): string {
  return dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
}

export function openApiRoutes(routes: readonly RouteSpec[], options: OpenApiOptions): Hono<Env> {
  const app = new Hono<Env>();
  let document: string | null = null;
  const files = new Map<string, Promise<Uint8Array<ArrayBuffer>>>();

  app.get("/openapi.json", (c) => {
    document ??= JSON.stringify(openApiDocument(routes, options));
    return c.body(document, 200, {
      "Content-Type": "application/json; charset=utf-8",
      "Cache-Control": "no-cache",
    });
  });
  app.get("/docs", (c) => c.html(PAGE, 200, { "Cache-Control": "no-cache" }));
  app.get("/docs/init.js", (c) =>
    c.body(INIT, 200, { "Content-Type": "text/javascript; charset=utf-8" }),
  );
  app.get("/docs/:file", async (c) => {
    const name = c.req.param("file");
    const type = ASSETS[name];
    if (!type) return c.notFound();
    let file = files.get(name);
    if (!file) {
      file = readFile(join(swaggerUiDir(), name)).then(
        (b) => new Uint8Array(b.buffer, b.byteOffset, b.length),
      );
      files.set(name, file);
      file.catch(() => files.delete(name));
    }
    return c.body(await file, 200, { "Content-Type": type, "Cache-Control": "max-age=3600" });
  });
  return app;
}
