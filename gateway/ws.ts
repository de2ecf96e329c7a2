/**
 * The websocket endpoints on the gateway's HTTP server:
 *
 *   /ws/driver?token=…            a courier's fixes up, acks and errors down
 *   /ws/live?token=…&coord=…      subscribe to channels, push frames down (see live/hub.ts)
 *
 * The token travels in the query because browsers cannot set headers on a websocket. A bad
 * token is answered after the upgrade with an `error` frame and close 4001 (4003 for a role
 * that may not use the endpoint), so the app can tell "log in again" from a network failure.
 * Frames over `maxFrameBytes` make ws close the socket with 1009; any other bad frame gets an
 * `error` frame and the connection stays open.
 */
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { headers } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import type { Logger } from "pino";
import { WebSocketServer } from "ws";
import type { z } from "zod";
import type { RawData, WebSocket } from "ws";
import { ActorTimeoutError } from "../actors/index.ts";
import type { ActorClient } from "../actors/index.ts";
import { FixFilter, toWgs84 } from "../geo/index.ts";
import type { AcceptedFix } from "../geo/index.ts";
import { BatchingPublisher } from "../nats/index.ts";
import type { Topology } from "../nats/index.ts";
import { CoordSystem, DriverUpFrame, LiveUpFrame } from "../protocol/index.ts";
import type { DownFrame, DriverUpFrame as DriverUp, Fix, TokenClaims } from "../protocol/index.ts";
import { channelAccess, fetchOrder, trackable } from "./access.ts";
import { verifyToken } from "./auth.ts";
import { AuthError } from "./errors.ts";
import { readFrame } from "./frames.ts";
import { CloseCode, Connection } from "./live/connection.ts";
import type { LiveHub } from "./live/hub.ts";
import type { GatewayMetrics } from "./metrics.ts";
import { ACK_INTERVAL_MS, PING_INTERVAL_MS, SHOPPER_RECHECK_MS } from "./options.ts";
import type { GatewayLimits, GatewayRateLimiter } from "./types.ts";

const DRIVER_TYPES: ReadonlySet<string> = new Set(["location", "locations", "ping", "temperature"]);
const LIVE_TYPES: ReadonlySet<string> = new Set(["subscribe", "unsubscribe", "ping"]);
/** Frames a driver connection may have waiting for the rate limiter before more are refused. */
const MAX_PENDING_DRIVER_FRAMES = 64;
/** Rejections reported per ack at most (the count of the rest is in the metrics). */
const MAX_REJECTIONS_PER_ACK = 100;
const encoder = new TextEncoder();

export interface WsDeps {
  readonly nc: NatsConnection;
  readonly topology: Topology;
  readonly actors: ActorClient;
  readonly hub: LiveHub;
  readonly auth: { readonly secret: string; readonly issuer?: string };
  readonly rateLimiter: GatewayRateLimiter;
  readonly log: Logger;
  readonly metrics: GatewayMetrics;
  readonly limits: GatewayLimits;
  readonly clock: () => number;
}

export class WsEndpoints {
  readonly #d: WsDeps;
  /** Subscribes of each connection still being checked (they count against its channel cap). */
  readonly #subscribing = new Map<Connection, Set<string>>();
  readonly #wss: WebSocketServer;
  readonly #perIp = new Map<string, number>();
  readonly #connections = new Set<Connection>();
  readonly #servers = new Set<Server>();
  readonly #filter = new FixFilter();
  /** Fixes from every socket, one NATS message per loop turn (see nats/coalesce.ts). */
  readonly #fixes: BatchingPublisher<Record<string, unknown>>;
  readonly #pinger: NodeJS.Timeout;
  #closing = false;

  constructor(deps: WsDeps) {
    this.#d = deps;
    this.#fixes = new BatchingPublisher(deps.nc, deps.topology.subjects.courierFixBatch());
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: deps.limits.maxFrameBytes });
    this.#pinger = setInterval(() => this.#ping(), PING_INTERVAL_MS);
    this.#pinger.unref();
  }

  count(kind: "driver" | "live"): number {
    let n = 0;
    for (const c of this.#connections) if (c.kind === kind) n++;
    return n;
  }

  attach(server: Server): void {
    if (this.#servers.has(server)) return;
    this.#servers.add(server);
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.#upgrade(req, socket, head),
    );
  }

  async close(): Promise<void> {
    this.#closing = true;
    clearInterval(this.#pinger);
    for (const connection of this.#connections) {
      connection.close(CloseCode.goingAway, "gateway shutting down");
    }
    for (const ws of this.#wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? "/", "http://gateway");
    const kind =
      url.pathname === "/ws/driver" ? "driver" : url.pathname === "/ws/live" ? "live" : null;
    if (kind === null) return reject(socket, 404, "Not Found");
    if (this.#closing) return reject(socket, 503, "Service Unavailable");
    const ip = req.socket.remoteAddress ?? "unknown";
    const open = this.#perIp.get(ip) ?? 0;
    if (open >= this.#d.limits.maxConnectionsPerIp) {
      this.#d.log.warn({ ip, open }, "websocket refused: too many connections from this address");
      return reject(socket, 429, "Too Many Requests");
    }
    this.#perIp.set(ip, open + 1);
    let counted = true;
    const release = () => {
      if (!counted) return;
      counted = false;
      const n = (this.#perIp.get(ip) ?? 1) - 1;
      if (n <= 0) this.#perIp.delete(ip);
      else this.#perIp.set(ip, n);
    };
    socket.once("close", release);
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      ws.once("close", release);
      void this.#accept(kind, ws, url).catch((err: unknown) => {
        this.#d.log.error({ err }, "websocket set-up failed");
        ws.close(1011, "internal error");
      });
    });
  }

  async #accept(kind: "driver" | "live", ws: WebSocket, url: URL): Promise<void> {
    const d = this.#d;
    // Frames that arrive before the token is checked are read once it is.
    const early: RawData[] = [];
    const hold = (data: RawData) => early.push(data);
    ws.on("message", hold);
    // ws reports an oversized frame as an error and closes with 1009 itself.
    ws.on("error", (err) => d.log.debug({ err: String(err) }, "websocket error"));
    const coordParam = url.searchParams.get("coord") ?? "wgs84";
    const refuse = (code: number, frame: DownFrame & { type: "error" }) => {
      ws.send(JSON.stringify(frame));
      ws.close(code, frame.code);
    };
    const coord = CoordSystem.safeParse(coordParam);
    if (!coord.success) {
      return refuse(4000, {
        type: "error",
        code: "invalid_coord",
        message: "coord: wgs84 or gcj02",
      });
    }
    const token = url.searchParams.get("token");
    let claims: TokenClaims;
    try {
      if (!token) throw new AuthError("missing_token", "a token is required (?token=…)");
      claims = await verifyToken(token, d.auth.secret, {
        now: d.clock(),
        ...(d.auth.issuer ? { issuer: d.auth.issuer } : {}),
      });
    } catch (err) {
      if (!(err instanceof AuthError)) throw err;
      return refuse(CloseCode.unauthorized, {
        type: "error",
        code: err.code,
        message: err.message,
      });
    }
    if (kind === "driver" && claims.role !== "courier") {
      return refuse(CloseCode.forbidden, {
        type: "error",
        code: "forbidden",
        message: `/ws/driver is for couriers; this token is a ${claims.role}'s`,
      });
    }
    if (claims.role === "shopper") {
      const denied = await this.#shopperDenied(claims);
      if (denied) return refuse(CloseCode.forbidden, denied);
    }
    if (ws.readyState !== ws.OPEN) return;
    const connection = new Connection(kind, ws, claims, coord.data, d.limits.clientQueue, d.hub);
    this.#connections.add(connection);
    if (claims.role === "shopper") shopperChecks.set(connection, d.clock());
    d.metrics.connections.inc({ kind });
    ws.on("pong", () => {
      connection.alive = true;
    });
    ws.once("close", () => {
      connection.open = false;
      this.#connections.delete(connection);
      d.metrics.connections.dec({ kind });
      if (kind === "live") d.hub.remove(connection);
    });
    connection.send({
      type: "welcome",
      role: claims.role,
      subject: claims.sub,
      now: d.clock(),
      coord: coord.data,
    });
    const onMessage =
      kind === "driver" ? this.#driverSession(connection) : this.#liveSession(connection);
    ws.off("message", hold);
    ws.on("message", onMessage);
    for (const data of early) onMessage(data, false);
  }

  /** Why a shopper's token may not be used now, or null. */
  async #shopperDenied(claims: TokenClaims): Promise<(DownFrame & { type: "error" }) | null> {
    try {
      const order = await fetchOrder(this.#d.actors, claims.ord!);
      if (!order)
        return { type: "error", code: "unknown_order", message: `no order ${claims.ord}` };
      const decision = trackable(order, this.#d.clock());
      return decision.ok ? null : { type: "error", code: decision.code, message: decision.message };
    } catch (err) {
      if (!(err instanceof ActorTimeoutError)) throw err;
      return null; // the order cannot be asked now: let the link work; re-checked later
    }
  }

  // ------------------------------------------------------------------------- /ws/driver

  #driverSession(connection: Connection): (data: RawData, isBinary: boolean) => void {
    const d = this.#d;
    const courierId = connection.claims.sub;
    const marketId = connection.claims.mkt!;
    let previous: AcceptedFix | null = null;
    let chain: Promise<void> = Promise.resolve();
    let pending = 0;
    const ack = { accepted: 0, rejected: [] as { at: number; code: string }[], lastAt: 0 };
    let ackTimer: NodeJS.Timeout | null = null;

    const sendAck = () => {
      ackTimer = null;
      if (!connection.open || (ack.accepted === 0 && ack.rejected.length === 0)) return;
      connection.send({ type: "location_ack", accepted: ack.accepted, rejected: ack.rejected });
      ack.accepted = 0;
      ack.rejected = [];
      ack.lastAt = performance.now();
    };
    const scheduleAck = () => {
      if (ackTimer) return;
      const wait = ack.lastAt + ACK_INTERVAL_MS - performance.now();
      if (wait <= 0) return sendAck();
      ackTimer = setTimeout(sendAck, wait);
      ackTimer.unref();
    };
    connection.ws.once("close", () => {
      if (ackTimer) clearTimeout(ackTimer);
    });

    const ingest = async (fixes: readonly Fix[], coord: CoordSystem, type: string) => {
      // A batch of buffered fixes is history catching up: it costs one unit per 10 fixes.
      const cost = type === "location" ? 1 : Math.ceil(fixes.length / 10);
      const limit = await d.rateLimiter.consume(`loc:${courierId}`, cost);
      if (!limit.allowed) {
        d.metrics.fixesRejected.inc({ code: "rate_limited" }, fixes.length);
        connection.send({
          type: "error",
          code: "rate_limited",
          message: `too many fixes; ${fixes.length} dropped, try again in ${limit.resetMs} ms`,
          ref: type,
        });
        return;
      }
      const receivedAt = d.clock();
      for (const fix of fixes) {
        const wgs = coord === "gcj02" ? toWgs84({ lat: fix.lat, lng: fix.lng }) : fix;
        const verdict = this.#filter.check(
          previous,
          { ...fix, lat: wgs.lat, lng: wgs.lng },
          receivedAt,
        );
        if (!verdict.ok) {
          d.metrics.fixesRejected.inc({ code: verdict.code });
          if (ack.rejected.length < MAX_REJECTIONS_PER_ACK) {
            ack.rejected.push({ at: fix.at, code: verdict.code });
          }
          continue;
        }
        previous = verdict.fix;
        const { lat, lng, at, accuracy, speed, heading } = verdict.fix;
        const location = {
          courierId,
          marketId,
          lat,
          lng,
          at,
          accuracy,
          speed,
          heading,
          receivedAt,
        };
        this.#fixes.publish(location);
        ack.accepted++;
      }
      scheduleAck();
    };

    return (data, isBinary) => {
      const read = this.#read(connection, DriverUpFrame, DRIVER_TYPES, data, isBinary);
      if (!read) return;
      if (read.type === "ping") {
        connection.send({ type: "pong", ...(read.id ? { id: read.id } : {}), now: d.clock() });
        return;
      }
      if (read.type === "temperature") {
        void this.#temperature(connection, courierId, read);
        return;
      }
      if (pending >= MAX_PENDING_DRIVER_FRAMES) {
        connection.send({
          type: "error",
          code: "rate_limited",
          message: "too many location frames in flight; this one was dropped",
          ref: read.type,
        });
        return;
      }
      const fixes = read.type === "location" ? [read.fix] : read.fixes;
      pending++;
      // Fixes are checked against the previous accepted one, so one frame at a time.
      chain = chain
        .then(() => ingest(fixes, read.coord, read.type))
        .catch((err: unknown) => {
          d.log.error({ err, courierId }, "location ingest failed");
          connection.send({
            type: "error",
            code: "unavailable",
            message: "the fixes could not be taken now; send them again",
            ref: read.type,
          });
        })
        .finally(() => {
          pending--;
        });
    };
  }

  /**
   * A phone-paired logger's readings: into the TELEMETRY stream beside the van's own, with the
   * courier named (`Xd-Source`), acknowledged once stored. Whether this courier drives that van
   * is the vehicle actor's judgment, as for every reading.
   */
  async #temperature(
    connection: Connection,
    courierId: string,
    frame: Extract<DriverUp, { type: "temperature" }>,
  ): Promise<void> {
    const d = this.#d;
    const ref = frame.id ? { id: frame.id } : {};
    let limit: Awaited<ReturnType<GatewayRateLimiter["consume"]>>;
    try {
      limit = await d.rateLimiter.consume(`temp:${courierId}`, 1);
    } catch (err) {
      // A limiter that cannot be asked (Redis down) must not take the process with it.
      d.log.error({ err, courierId }, "rate limiter unavailable for temperature readings");
      connection.send({
        type: "error",
        code: "unavailable",
        message: "the readings could not be taken now; send them again",
        ref: "temperature",
      });
      return;
    }
    if (!limit.allowed) {
      connection.send({
        type: "error",
        code: "rate_limited",
        message: `too many temperature frames; try again in ${limit.resetMs} ms`,
        ref: "temperature",
      });
      return;
    }
    const payload = {
      readings: frame.readings.map((r) => ({
        compartment: r.compartmentId,
        celsius: r.celsius,
        at: r.at,
        ...(r.doorOpen === undefined ? {} : { door: r.doorOpen }),
      })),
    };
    const h = headers();
    h.set("Xd-Source", `courier:${courierId}`);
    try {
      const ack = await jetstream(d.nc).publish(
        d.topology.subjects.vehicleTemperature(frame.vehicleId),
        JSON.stringify(payload),
        { headers: h },
      );
      connection.send({
        type: "temperature_ack",
        ...ref,
        readings: frame.readings.length,
        seq: ack.seq,
      });
    } catch (err) {
      d.log.error({ err, courierId }, "temperature readings not stored");
      connection.send({
        type: "error",
        code: "unavailable",
        message: "the readings could not be stored now; send them again",
        ref: "temperature",
      });
    }
  }

  // ------------------------------------------------------------------------- /ws/live

  #liveSession(connection: Connection): (data: RawData, isBinary: boolean) => void {
    const d = this.#d;
    d.hub.add(connection);
    return (data, isBinary) => {
      const read = this.#read(connection, LiveUpFrame, LIVE_TYPES, data, isBinary);
      if (!read) return;
      switch (read.type) {
        case "ping":
          connection.send({ type: "pong", ...(read.id ? { id: read.id } : {}), now: d.clock() });
          return;
        case "unsubscribe":
          d.hub.unsubscribe(connection, read.channel);
          return;
        case "subscribe":
          void this.#subscribe(connection, read.channel, read.offset);
          return;
      }
    };
  }

  async #subscribe(
    connection: Connection,
    channel: string,
    offset: number | undefined,
  ): Promise<void> {
    const d = this.#d;
    const checking = this.#subscribing.get(connection) ?? new Set<string>();
    if (!d.hub.watching(connection, channel).has && !checking.has(channel)) {
      // Channels watched, plus new ones still being checked: what this connection may cost.
      let pending = 0;
      for (const c of checking) if (!d.hub.watching(connection, c).has) pending++;
      if (
        d.hub.watching(connection, channel).count + pending >=
        d.limits.maxChannelsPerConnection
      ) {
        connection.send({
          type: "error",
          code: "too_many_channels",
          message: `at most ${d.limits.maxChannelsPerConnection} channels per connection; unsubscribe from one first`,
          ref: channel,
        });
        return;
      }
    }
    checking.add(channel);
    this.#subscribing.set(connection, checking);
    try {
      await this.#subscribeChecked(connection, channel, offset);
    } finally {
      checking.delete(channel);
      if (checking.size === 0) this.#subscribing.delete(connection);
    }
  }

  async #subscribeChecked(
    connection: Connection,
    channel: string,
    offset: number | undefined,
  ): Promise<void> {
    const d = this.#d;
    try {
      const decision = await channelAccess(d.actors, connection.claims, channel, d.clock());
      if (!decision.ok) {
        connection.send({
          type: "error",
          code: decision.code,
          message: decision.message,
          ref: channel,
        });
        return;
      }
      if (!connection.open) return;
      await d.hub.subscribe(connection, channel, offset);
    } catch (err) {
      const timeout = err instanceof ActorTimeoutError;
      if (!timeout) d.log.error({ err, channel }, "subscribe failed");
      connection.send({
        type: "error",
        code: "unavailable",
        message: timeout ? "access could not be checked now; try again" : "subscribe failed",
        ref: channel,
      });
    }
  }

  /** A valid frame, or null after answering with an error frame. */
  #read<S extends z.ZodType<{ type: string }>>(
    connection: Connection,
    schema: S,
    types: ReadonlySet<string>,
    data: RawData,
    isBinary: boolean,
  ): z.infer<S> | null {
    const m = this.#d.metrics;
    if (isBinary) {
      m.framesIn.inc({ type: "invalid" });
      connection.send({ type: "error", code: "invalid_frame", message: "frames are JSON text" });
      return null;
    }
    const read = readFrame(schema, types, rawText(data));
    if (!read.ok) {
      m.framesIn.inc({ type: "invalid" });
      connection.send({
        type: "error",
        code: read.code,
        message: read.message,
        ...(read.ref ? { ref: read.ref } : {}),
      });
      return null;
    }
    m.framesIn.inc({ type: read.frame.type });
    return read.frame;
  }

  #ping(): void {
    const now = this.#d.clock();
    for (const connection of this.#connections) {
      if (!connection.alive) {
        connection.ws.terminate();
        continue;
      }
      connection.alive = false;
      connection.ws.ping();
      if (connection.claims.role === "shopper") {
        const last = shopperChecks.get(connection) ?? 0;
        if (now - last >= SHOPPER_RECHECK_MS) {
          shopperChecks.set(connection, now);
          this.#shopperDenied(connection.claims).then(
            (denied) => {
              if (denied) connection.close(CloseCode.forbidden, denied.code, denied);
            },
            // Not answered now (NATS closed, ...): checked again on the next round.
            (err: unknown) => this.#d.log.warn({ err }, "shopper re-check failed"),
          );
        }
      }
    }
  }
}

/** When each shopper connection last re-checked its order. */
const shopperChecks = new WeakMap<Connection, number>();

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString("utf8");
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.from(data).toString("utf8");
}

function reject(socket: Duplex, status: number, text: string): void {
  socket.once("finish", () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
