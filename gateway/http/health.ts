import { Hono } from "hono";
import type { Env, HttpDeps } from "./context.ts";

/** GET /healthz (the process answers), /readyz (NATS connected, fan-out running), /metrics. */
export function healthRoutes(deps: HttpDeps): Hono<Env> {
  const app = new Hono<Env>();
  app.get("/healthz", (c) => c.json({ ok: true }));
  app.get("/readyz", (c) => {
    const ready = deps.ready();
    return c.json(
      ready.ok ? { ok: true } : { ok: false, reason: ready.reason },
      ready.ok ? 200 : 503,
    );
  });
  app.get("/metrics", async (c) => {
    const registry = deps.metrics.registry;
    return c.body(await registry.metrics(), 200, { "Content-Type": registry.contentType });
  });
  return app;
}
