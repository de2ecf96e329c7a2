import type { Database } from "../db/index.ts";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Hono } from "hono";
import type { Server } from "node:http";
import type { ActorClient } from "../actors/index.ts";
import type { Topology } from "../nats/index.ts";
import type { PiiKeyring } from "../pii/index.ts";
import type { ProofStore } from "./http/proof-store.ts";

/** What the gateway needs of a rate limiter: db/redis `createRateLimiter` fits, so does the memory one. */
export interface GatewayRateLimiter {
  /** Takes `cost` units for `key` if that many are left in the window; otherwise takes none. */
  consume(
    key: string,
    cost?: number,
  ): Promise<{ allowed: boolean; remaining: number; resetMs: number }>;
}

export interface StaticAsset {
  readonly contentType: string;
  readonly body: string | Uint8Array;
}

/**
 * One browser app as built by its folder. Asset keys are paths relative to the app's base
 * (`/driver/`, `/console/`, `/t/`), or absolute when they start with `/`. Functions are called
 * once, on first request, and their result kept (a rejected load is retried on the next request).
 */
export interface StaticApp {
  readonly html: string | (() => Promise<string>);
  readonly assets:
    Readonly<Record<string, StaticAsset>> | (() => Promise<Readonly<Record<string, StaticAsset>>>);
}

export interface GatewayLimits {
  /** Largest ws frame a client may send, bytes; larger closes the socket with 1009. Default 16 KiB. */
  maxFrameBytes: number;
  /** Largest HTTP body, bytes; larger is a 413. Default 64 KiB. */
  maxBodyBytes: number;
  /** Largest proof-of-delivery photo upload, bytes; larger is a 413. Default 5 MiB. */
  maxPhotoBytes: number;
  /**
   * A request body (a photo, a JSON body) that sends nothing for this long is cut off with 408
   * `body_timeout` and its connection closed, ms. Default 10 s.
   */
  bodyIdleMs: number;
  /** Open websockets per client IP; more are refused with HTTP 429 at upgrade. Default 200. */
  maxConnectionsPerIp: number;
  /**
   * Channels one /ws/live connection may watch at once (subscribes in flight count); more get
   * an error frame `too_many_channels`. Each subscribe may load an actor to check access, so
   * this bounds what one socket can make the hosts do. Default 256.
   */
  maxChannelsPerConnection: number;
  /**
   * Location fixes per courier per second, for the limiter the gateway makes itself when no
   * `rateLimiter` is given (a passed limiter carries its own limit). Default 20.
   */
  locationRate: number;
  /** Frames queued per live client before it must resync (conflated kinds excepted). Default 256. */
  clientQueue: number;
  /** Bytes buffered on a socket above which the gateway holds frames back. Default 256 KiB. */
  socketHighWater: number;
}

export interface GatewayOptions {
  readonly nc: NatsConnection;
  readonly topology: Topology;
  readonly actors: ActorClient;
  readonly auth: {
    /** HS256 secret shared by every gateway of a deployment; at least 32 characters. */
    readonly secret: string;
    /** Set on minted tokens and required on presented ones when given. */
    readonly issuer?: string;
    /** Lifetime of a shopper's tracking token, seconds. Default 86,400 (it also ends 2 h after delivery). */
    readonly trackingTokenTtlSeconds?: number;
  };
  /** Per-courier location limit, key `loc:<courierId>`. Default: in-memory, `limits.locationRate`/s. */
  readonly rateLimiter?: GatewayRateLimiter;
  readonly log: Logger;
  /** Where the gateway registers its metrics. Default: a registry of its own. */
  readonly metrics?: Registry;
  readonly apps?: {
    readonly driver?: StaticApp;
    readonly console?: StaticApp;
    readonly tracking?: StaticApp;
  };
  readonly limits?: Partial<GatewayLimits>;
  /** Where couriers' proof-of-delivery photos are kept (`createFileProofStore`). Default: none (uploads answer 503). */
  readonly proofs?: ProofStore;
  /**
   * The history database and the certificate signer's public keys, for cold-chain certificates
   * and temperature charts. Default: none (those routes answer 503).
   */
  readonly coldChain?: {
    readonly db: Database;
    /** The JWKS of the keys that sign certificates (`publicJwks(signer)`). */
    readonly jwks: { keys: unknown[] };
  };
  /**
   * The personal-data keyring (`XIANDA_PII_KEYS`): shoppers' names, phones and addresses are
   * encrypted under its current key before they leave the gateway, and decrypted (then masked
   * by role) for views. Default: none (an order with a contact is refused with 503
   * `pii_not_configured`).
   */
  readonly pii?: PiiKeyring;
  /** ms since the epoch. Default Date.now. */
  readonly clock?: () => number;
}

export interface GatewayStats {
  /** Open websockets by endpoint. */
  readonly connections: { readonly driver: number; readonly live: number };
  /** The longest live client queue right now (frames waiting to be written). */
  readonly maxQueued: number;
}

export interface Gateway {
  /** The HTTP API (also usable alone through `app.request()`). */
  readonly app: Hono;
  /** Serves the websockets (`/ws/driver`, `/ws/live`) on an existing HTTP server. */
  attach(server: Server): void;
  /** Starts the live fan-out and an HTTP server with the API and websockets. */
  listen(port: number, host?: string): Promise<{ port: number }>;
  /** Closes sockets (1001), the fan-out consumer and the server it started. */
  close(): Promise<void>;
  stats(): GatewayStats;
}
