/**
 * Drives one tracking session over a live socket: subscribe (with the last offset) on every
 * open, feed frames to the session, reconnect with back-off when the socket drops, stop for
 * good when the gateway refuses the token. The socket is an interface so the mini-program
 * (wx.connectSocket), the browser (WebSocket) and tests each plug in their own.
 */
import { reconnectDelay, reconnectPolicy } from "./reconnect.ts";
import type { ReconnectOptions } from "./reconnect.ts";
import {
  applyDownFrame,
  decodeDownFrame,
  disconnected,
  expire,
  stopped,
  subscribeFrame,
} from "./session.ts";
import type { LinkExpired, TrackingState } from "./types.ts";

/** The few things the driver needs of a socket; callbacks are set once, right after creation. */
export interface LiveSocket {
  send(text: string): void;
  close(code?: number, reason?: string): void;
  onOpen(listener: () => void): void;
  onMessage(listener: (text: string) => void): void;
  onClose(listener: (code: number, reason: string) => void): void;
  onError(listener: (message: string) => void): void;
}

export type SocketFactory = (url: string) => LiveSocket;

/** Time as a dependency, so tests drive reconnects without sleeping. */
export interface ConnectionClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  random(): number;
}

export const systemClock: ConnectionClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  random: () => Math.random(),
};

export interface TrackingConnectionOptions {
  /** Full ws URL, e.g. `wss://host/ws/live?token=…&coord=gcj02`. */
  readonly url: string;
  readonly connect: SocketFactory;
  readonly initial: TrackingState;
  /** Called after every state change. */
  readonly onState: (state: TrackingState) => void;
  readonly clock?: ConnectionClock;
  readonly reconnect?: ReconnectOptions;
  /** Keep-alive ping period, ms. Default 25 000 (below common proxy idle time-outs). */
  readonly pingMs?: number;
  /**
   * Asked after a socket closed without ever saying welcome (an upgrade refused with 401/403
   * looks like that): returns why the link is expired, or null to keep retrying.
   */
  readonly probeExpired?: () => Promise<LinkExpired | null>;
}

/** Close codes a gateway may use to say "this token, never again". */
const AUTH_CLOSE_CODES: ReadonlySet<number> = new Set([1008, 4001, 4003, 4401, 4403]);

export class TrackingConnection {
  private state: TrackingState;
  private socket: LiveSocket | null = null;
  private attempt = 0;
  private retryTimer: unknown = null;
  private pingTimer: unknown = null;
  private welcomed = false;
  private closedByUs = false;
  private readonly clock: ConnectionClock;
  private readonly policy;

  constructor(private readonly options: TrackingConnectionOptions) {
    this.state = options.initial;
    this.clock = options.clock ?? systemClock;
    this.policy = reconnectPolicy(options.reconnect);
  }

  get current(): TrackingState {
    return this.state;
  }

  /** Replace the state from outside (a late snapshot); the socket keeps running. */
  update(change: (state: TrackingState) => TrackingState): void {
    this.set(change(this.state));
  }

  start(): void {
    this.closedByUs = false;
    this.open();
  }

  stop(): void {
    this.closedByUs = true;
    this.clearTimers();
    this.socket?.close(1000, "bye");
    this.socket = null;
    this.set(stopped(this.state));
  }

  private set(next: TrackingState): void {
    if (next === this.state) return;
    this.state = next;
    this.options.onState(next);
  }

  private open(): void {
    this.welcomed = false;
    const socket = this.options.connect(this.options.url);
    this.socket = socket;
    socket.onOpen(() => {
      if (this.socket !== socket) return;
      socket.send(JSON.stringify(subscribeFrame(this.state)));
      this.schedulePing(socket);
    });
    socket.onMessage((text) => {
      if (this.socket !== socket) return;
      const frame = decodeDownFrame(text);
      if (!frame) return;
      if (frame.type === "welcome") this.welcomed = true;
      // A successful subscription means the connection works: back-off starts over.
      if (frame.type === "subscribed") this.attempt = 0;
      this.set(applyDownFrame(this.state, frame, this.clock.now()));
      if (this.state.phase === "expired") this.shutDown(socket);
    });
    socket.onClose((code, reason) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.clearTimers();
      if (this.closedByUs || this.state.phase === "expired") return;
      if (AUTH_CLOSE_CODES.has(code)) {
        this.set(expire(this.state, { reason: reason || "unauthorized", message: reason || null }));
        return;
      }
      this.set(disconnected(this.state));
      if (!this.welcomed && this.options.probeExpired) {
        this.options.probeExpired().then(
          (expired) => {
            if (expired) this.set(expire(this.state, expired));
            else this.scheduleRetry();
          },
          () => this.scheduleRetry(),
        );
      } else {
        this.scheduleRetry();
      }
    });
    // An error is always followed by a close; the close decides what happens next.
    socket.onError(() => undefined);
  }

  private shutDown(socket: LiveSocket): void {
    this.closedByUs = true;
    this.clearTimers();
    socket.close(1000, "expired");
    this.socket = null;
  }

  private scheduleRetry(): void {
    if (this.closedByUs || this.state.phase === "expired") return;
    const delay = reconnectDelay(this.policy, this.attempt, this.clock.random());
    this.attempt += 1;
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = null;
      if (!this.closedByUs) this.open();
    }, delay);
  }

  private schedulePing(socket: LiveSocket): void {
    const period = this.options.pingMs ?? 25_000;
    if (period <= 0) return;
    this.pingTimer = this.clock.setTimeout(() => {
      if (this.socket !== socket) return;
      socket.send(JSON.stringify({ type: "ping" }));
      this.schedulePing(socket);
    }, period);
  }

  private clearTimers(): void {
    if (this.retryTimer !== null) this.clock.clearTimeout(this.retryTimer);
    if (this.pingTimer !== null) this.clock.clearTimeout(this.pingTimer);
    this.retryTimer = null;
    this.pingTimer = null;
  }
}

/** `/ws/live?token=…&coord=…` on the given origin (`https://x` → `wss://x`). */
export function liveUrl(origin: string, token: string, coord: "wgs84" | "gcj02"): string {
  const base = origin.replace(/^http/, "ws").replace(/\/+$/, "");
  return `${base}/ws/live?token=${encodeURIComponent(token)}&coord=${coord}`;
}

/** `/v1/orders/:id/track` on the given origin, the first-paint snapshot. */
export function snapshotUrl(origin: string, orderId: string, coord: "wgs84" | "gcj02"): string {
  return `${origin.replace(/\/+$/, "")}/v1/orders/${encodeURIComponent(orderId)}/track?coord=${coord}`;
}

/** Why the gateway refused a snapshot request (401/403 body `{ code | reason | error, message }`). */
export function expiredFromResponse(status: number, body: unknown): LinkExpired | null {
  if (status !== 401 && status !== 403 && status !== 410) return null;
  const raw = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  const pick = (k: string) => (typeof raw[k] === "string" ? (raw[k] as string) : null);
  const errorField = raw.error;
  const nested =
    typeof errorField === "object" && errorField !== null
      ? (errorField as Record<string, unknown>)
      : null;
  const reason =
    pick("reason") ??
    pick("code") ??
    (typeof nested?.code === "string" ? nested.code : null) ??
    pick("error") ??
    (status === 403 ? "forbidden" : status === 410 ? "expired" : "unauthorized");
  const message = pick("message") ?? (typeof nested?.message === "string" ? nested.message : null);
  return { reason, message };
}
