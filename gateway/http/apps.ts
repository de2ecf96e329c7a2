/**
 * The browser apps, served as they were handed over: GET /driver, /console and /t/:token (the
 * shopper's tracking page) return the app's html; their assets are served below the same base
 * (or at their own absolute path when the key starts with `/`).
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { StaticApp, StaticAsset } from "../types.ts";
import type { Env, HttpDeps } from "./context.ts";

interface Loaded {
  readonly html: string;
  readonly assets: Readonly<Record<string, StaticAsset>>;
}

/** Loads an app once; a failed load is tried again on the next request. */
function loader(app: StaticApp): () => Promise<Loaded> {
  let loading: Promise<Loaded> | null = null;
  return () => {
    loading ??= (async () => ({
      html: typeof app.html === "function" ? await app.html() : app.html,
      assets: typeof app.assets === "function" ? await app.assets() : app.assets,
    }))().catch((err: unknown) => {
      loading = null;
      throw err;
    });
    return loading;
  };
}

function asset(c: Context<Env>, found: StaticAsset): Response {
  const body = typeof found.body === "string" ? found.body : new Uint8Array(found.body);
  return c.body(body, 200, { "Content-Type": found.contentType, "Cache-Control": "no-cache" });
}

function page(c: Context<Env>, html: string, privateLink: boolean): Response {
  return c.html(html, 200, {
    "Cache-Control": "no-store",
    // The tracking link carries its token in the path: never hand it on as a referrer.
    ...(privateLink ? { "Referrer-Policy": "no-referrer" } : {}),
  });
}

export function appRoutes(deps: HttpDeps): Hono<Env> {
  const app = new Hono<Env>();
  const mounted: { base: string; load: () => Promise<Loaded>; privateLink: boolean }[] = [];
  const mount = (base: string, spec: StaticApp | undefined, privateLink: boolean) => {
    if (!spec) return;
    const load = loader(spec);
    mounted.push({ base, load, privateLink });
    return load;
  };

  for (const [base, spec] of [
    ["/driver", deps.apps.driver],
    ["/console", deps.apps.console],
  ] as const) {
    const load = mount(base, spec, false);
    if (!load) continue;
    app.get(base, async (c) => page(c, (await load()).html, false));
    app.get(`${base}/`, async (c) => page(c, (await load()).html, false));
    app.get(`${base}/*`, async (c, next) => {
      const found = (await load()).assets[c.req.path.slice(base.length + 1)];
      return found ? asset(c, found) : next();
    });
  }

  const tracking = mount("/t", deps.apps.tracking, true);
  if (tracking) {
    app.get("/t/*", async (c, next) => {
      const loaded = await tracking();
      const rest = c.req.path.slice("/t/".length);
      const found = loaded.assets[rest];
      if (found) return asset(c, found);
      // One segment that is not an asset: a tracking token (checked by the page's API calls).
      if (rest.length > 0 && !rest.includes("/")) return page(c, loaded.html, true);
      return next();
    });
  }

  // Assets an app gave an absolute path.
  app.get("*", async (c, next) => {
    for (const { load } of mounted) {
      const found = (await load()).assets[c.req.path];
      if (found) return asset(c, found);
    }
    return next();
  });
  return app;
}
