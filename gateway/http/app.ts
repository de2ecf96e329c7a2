/** The gateway's HTTP API: one Hono app of sub-apps, one error boundary. */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import { ApiError } from "../errors.ts";
import { appRoutes } from "./apps.ts";
import { bodyIdleTimeout } from "./body-timeout.ts";
import type { Env, HttpDeps } from "./context.ts";
import { auditRoutes } from "./audit.ts";
import { coldChainRoutes } from "./cold-chain.ts";
import { courierRoutes } from "./couriers.ts";
import { healthRoutes } from "./health.ts";
import { orderRoutes } from "./orders.ts";
import { tokenRoutes } from "./tokens.ts";
import { openApiRoutes } from "../openapi/index.ts";
import { courierJobRoutes, proofUploadRoutes } from "./courier-jobs.ts";
import { dispatchRoutes } from "./dispatch.ts";
import { API_ROUTES } from "./documented.ts";
import { storeRoutes } from "./stores.ts";
import { waveRoutes } from "./waves.ts";

const STATUS_CODES: Record<number, string> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  408: "body_timeout",
  409: "conflict",
  413: "too_large",
  429: "rate_limited",
};

export function createHttpApp(deps: HttpDeps): Hono<Env> {
  const app = new Hono<Env>();
  app.use("*", requestId());
  app.use("*", async (c, next) => {
    const log = deps.log.child({ reqId: c.get("requestId") });
    c.set("log", log);
    const started = performance.now();
    await next();
    const status = c.res.status;
    deps.metrics.http.inc({ method: c.req.method, status: String(status) });
    const fields = {
      method: c.req.method,
      path: c.req.path,
      status,
      ms: Math.round((performance.now() - started) * 10) / 10,
    };
    if (status >= 500) log.error(fields, "request failed");
    else log.info(fields, "request");
  });
  // Before any route reads a body, the photo upload's included.
  app.use("/v1/*", bodyIdleTimeout(deps.limits.bodyIdleMs));
  // Photo uploads have a limit of their own: registered before the JSON body limit below.
  app.route("/", proofUploadRoutes(deps));
  app.use(
    "/v1/*",
    bodyLimit({
      maxSize: deps.limits.maxBodyBytes,
      onError: (c) =>
        c.json(
          {
            error: {
              code: "too_large",
              message: `the body is over ${deps.limits.maxBodyBytes} bytes`,
            },
          },
          413,
        ),
    }),
  );

  app.route("/", healthRoutes(deps));
  // Before the order routes: the printable certificate takes its token from the query too,
  // which the order routes' authentication (all of /v1/orders/*) would refuse.
  app.route("/", coldChainRoutes(deps));
  app.route("/", auditRoutes(deps));
  app.route("/v1/tokens", tokenRoutes(deps));
  app.route("/v1/orders", orderRoutes(deps));
  app.route("/v1/couriers", courierRoutes(deps));
  app.route("/", storeRoutes(deps));
  app.route("/", courierJobRoutes(deps));
  app.route("/", dispatchRoutes(deps));
  app.route("/", waveRoutes(deps));
  app.route(
    "/",
    openApiRoutes(API_ROUTES, {
      maxBodyBytes: deps.limits.maxBodyBytes,
      maxPhotoBytes: deps.limits.maxPhotoBytes,
    }),
  );
  app.route("/", appRoutes(deps));

  app.notFound((c) =>
    c.json(
      { error: { code: "not_found", message: `no route ${c.req.method} ${c.req.path}` } },
      404,
    ),
  );
  app.onError((err, c) => {
    if (err instanceof ApiError) {
      return c.json({ error: { code: err.code, message: err.message } }, err.status);
    }
    if (err instanceof HTTPException) {
      const code = STATUS_CODES[err.status] ?? "error";
      return c.json({ error: { code, message: err.message || code } }, err.status);
    }
    (c.get("log") ?? deps.log).error({ err }, "unhandled error");
    return c.json({ error: { code: "internal", message: "internal error" } }, 500);
  });
  return app;
}
