import type { Server } from "node:http";
import { createAdaptorServer } from "@hono/node-server";
import { jetstreamManager } from "@nats-io/jetstream";
import type { Hono } from "hono";
import { PiiCipher } from "../pii/index.ts";
import { createHttpApp } from "./http/app.ts";
import type { Env } from "./http/context.ts";
import { LiveHub } from "./live/hub.ts";
import { GatewayMetrics } from "./metrics.ts";
import { gatewayLimits, TRACKING_TOKEN_TTL_S } from "./options.ts";
import { createMemoryRateLimiter } from "./rate-limit.ts";
import type { Gateway, GatewayOptions } from "./types.ts";
import { WsEndpoints } from "./ws.ts";

/**
 * The edge: the HTTP API, the driver and live websockets, and the live fan-out from the PUSH
 * stream. Holds no state another gateway needs: any number can run behind a load balancer.
 */
export function createGateway(options: GatewayOptions): Gateway {
  if (options.auth.secret.length < 32) {
    throw new TypeError("auth.secret must be at least 32 characters (HS256)");
  }
  const limits = gatewayLimits(options.limits);
  const clock = options.clock ?? Date.now;
  const log = options.log.child({ component: "gateway" });
  const metrics = new GatewayMetrics(options.metrics);
  const rateLimiter =
    options.rateLimiter ??
    createMemoryRateLimiter({ limit: limits.locationRate, windowMs: 1000, clock });
  const jsm = jetstreamManager(options.nc);
  // Not awaited here; a failure surfaces where it is used.
  jsm.catch(() => {});
  const hub = new LiveHub(
    {
      nc: options.nc,
      topology: options.topology,
      log,
      metrics,
      clock,
      clientQueue: limits.clientQueue,
      socketHighWater: limits.socketHighWater,
    },
    jsm,
  );
  const ws = new WsEndpoints({
    nc: options.nc,
    topology: options.topology,
    actors: options.actors,
    hub,
    auth: options.auth,
    rateLimiter,
    log,
    metrics,
    limits,
    clock,
  });
  const app: Hono<Env> = createHttpApp({
    nc: options.nc,
    topology: options.topology,
    actors: options.actors,
    hub,
    auth: {
      secret: options.auth.secret,
      ...(options.auth.issuer ? { issuer: options.auth.issuer } : {}),
      trackingTokenTtlSeconds: options.auth.trackingTokenTtlSeconds ?? TRACKING_TOKEN_TTL_S,
    },
    log,
    metrics,
    limits,
    clock,
    apps: options.apps ?? {},
    ...(options.proofs ? { proofs: options.proofs } : {}),
    ...(options.coldChain ? { coldChain: options.coldChain } : {}),
    ...(options.pii ? { pii: new PiiCipher(options.pii) } : {}),
    ready: () => {
      if (options.nc.isClosed()) return { ok: false, reason: "NATS connection closed" };
      if (!natsConnected) return { ok: false, reason: "NATS disconnected" };
      if (!hub.consuming) return { ok: false, reason: "live fan-out not running" };
      return { ok: true, reason: "" };
    },
  });

  let natsConnected = true;
  void (async () => {
    for await (const status of options.nc.status()) {
      if (status.type === "disconnect") natsConnected = false;
      if (status.type === "reconnect") natsConnected = true;
    }
  })().catch(() => {});

  let server: Server | null = null;
  const startHub = () => {
    hub.start().catch((err: unknown) => log.error({ err }, "live fan-out could not start"));
  };

  return {
    app: app as unknown as Hono,
    attach(target) {
      ws.attach(target);
      startHub();
    },
    async listen(port, host) {
      if (server) throw new Error("the gateway is already listening");
      await hub.start();
      const created = createAdaptorServer({ fetch: app.fetch }) as Server;
      server = created;
      ws.attach(created);
      await new Promise<void>((resolve, reject) => {
        created.once("error", reject);
        created.listen(port, host, () => {
          created.off("error", reject);
          resolve();
        });
      });
      const address = created.address();
      const bound = typeof address === "object" && address ? address.port : port;
      log.info({ port: bound, host }, "gateway listening");
      return { port: bound };
    },
    async close() {
      await ws.close();
      await hub.stop();
      if (server) {
        const closing = server;
        server = null;
        await new Promise<void>((resolve) => {
          closing.close(() => resolve());
          closing.closeAllConnections();
        });
      }
    },
    stats() {
      return {
        connections: { driver: ws.count("driver"), live: ws.count("live") },
        maxQueued: hub.maxQueued(),
      };
    },
  };
}
