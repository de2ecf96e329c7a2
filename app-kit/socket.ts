/**
 * A websocket to the gateway that comes back by itself: capped back-off with jitter between
 * attempts, a heartbeat that notices a dead mobile connection, and every frame down validated
 * against the protocol before anyone sees it. Who subscribes to what, and what is re-sent after
 * a reconnect, is the caller's business (`onOpen`).
 */
import { CloseCode, DownFrame, parseChannel } from "../protocol/index.ts";
import { Backoff } from "./backoff.ts";

export type SocketStatus = "connecting" | "open" | "waiting" | "unauthorized" | "stopped";

/** The part of the browser's WebSocket this module uses, so tests can hand in a fake. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export type WebSocketFactory = (url: string) => WebSocketLike;

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

export interface ReconnectingSocketOptions {
  /** Full ws:// or wss:// URL, token included. */
  url: string;
  createSocket?: WebSocketFactory;
  backoff?: Backoff;
  timers?: Timers;
  /** Ping this often while open, ms. Default 15 000. */
  pingEveryMs?: number;
  /** Give up on a connection that has said nothing for this long, ms. Default 45 000. */
  silenceLimitMs?: number;
  /** Called on every (re)connect once the gateway's welcome has arrived. */
  onWelcome?: (frame: Extract<DownFrame, { type: "welcome" }>) => void;
  onFrame?: (frame: DownFrame) => void;
  onStatus?: (status: SocketStatus, retryInMs?: number) => void;
}

const OPEN = 1;
/** Close codes and error codes that mean "this token will not get in": retrying cannot help. */
const AUTH_CLOSE_CODES: ReadonlySet<number> = new Set([
  CloseCode.unauthorized,
  CloseCode.forbidden,
]);
const AUTH_ERROR_CODES = new Set([
  "unauthorized",
  "missing_token",
  "invalid_token",
  "token_expired",
  "forbidden",
]);

const browserTimers: Timers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
  now: () => Date.now(),
};

export class ReconnectingSocket {
  private socket: WebSocketLike | null = null;
  private retryTimer: unknown = null;
  private pingTimer: unknown = null;
  private lastHeard = 0;
  private welcomed = false;
  private pings = 0;
  private current: SocketStatus = "stopped";
  private readonly backoff: Backoff;
  private readonly timers: Timers;
  private readonly createSocket: WebSocketFactory;

  constructor(private readonly options: ReconnectingSocketOptions) {
    this.backoff = options.backoff ?? new Backoff();
    this.timers = options.timers ?? browserTimers;
    this.createSocket =
      options.createSocket ?? ((url) => new WebSocket(url) as unknown as WebSocketLike);
  }

  get status(): SocketStatus {
    return this.current;
  }

  /** True once the gateway has welcomed this connection and it is still open. */
  get ready(): boolean {
    return this.welcomed && this.socket !== null && this.socket.readyState === OPEN;
  }

  start(): void {
    if (this.current !== "stopped" && this.current !== "unauthorized") return;
    this.connect();
  }

  stop(): void {
    this.setStatus("stopped");
    this.teardown();
  }

  /**
   * Drops the connection as a network loss would and reconnects after `holdMs` (default: the
   * next back-off delay). Used by the browser tests, and by a "reconnect" action.
   */
  drop(holdMs?: number): void {
    if (this.current === "stopped" || this.current === "unauthorized") return;
    this.teardown();
    this.scheduleRetry(holdMs);
  }

  /** Sends a frame when the connection is ready; false when it is not (the caller keeps it). */
  send(frame: unknown): boolean {
    if (!this.ready || this.socket === null) return false;
    try {
      this.socket.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  private connect(): void {
    this.teardown();
    this.setStatus("connecting");
    this.welcomed = false;
    let socket: WebSocketLike;
    try {
      socket = this.createSocket(this.options.url);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      this.lastHeard = this.timers.now();
      this.schedulePing();
    };
    socket.onmessage = (event) => {
      if (socket !== this.socket) return;
      this.lastHeard = this.timers.now();
      this.receive(event.data);
    };
    socket.onclose = (event) => {
      if (socket !== this.socket) return;
      this.socket = null;
      this.welcomed = false;
      if (this.pingTimer !== null) this.timers.clearTimeout(this.pingTimer);
      this.pingTimer = null;
      if (AUTH_CLOSE_CODES.has(event.code)) {
        this.teardown();
        this.setStatus("unauthorized");
        return;
      }
      if (this.current === "stopped" || this.current === "unauthorized") return;
      // Fallen behind (resync) or a gateway going away: come straight back and resume from
      // the last offset; anything else backs off.
      const prompt = event.code === CloseCode.resyncRequired || event.code === CloseCode.goingAway;
      this.scheduleRetry(prompt && this.backoff.attempts === 0 ? 0 : undefined);
    };
    // An error is always followed by a close; the close decides what happens next.
    socket.onerror = () => undefined;
  }

  private receive(data: unknown): void {
    if (typeof data !== "string") return;
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      return;
    }
    const parsed = DownFrame.safeParse(json);
    if (!parsed.success) return;
    const frame = parsed.data;
    if (frame.type === "welcome") {
      this.welcomed = true;
      this.backoff.reset();
      this.setStatus("open");
      this.options.onWelcome?.(frame);
    } else if (
      frame.type === "error" &&
      AUTH_ERROR_CODES.has(frame.code) &&
      // A subscribe refused for one channel (`ref` names it) leaves the connection usable.
      (frame.ref === undefined || parseChannel(frame.ref) === null)
    ) {
      this.setStatus("unauthorized");
      this.teardown();
      return;
    }
    this.options.onFrame?.(frame);
  }

  private scheduleRetry(holdMs?: number): void {
    const delay = holdMs ?? this.backoff.next();
    this.setStatus("waiting", delay);
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }

  private schedulePing(): void {
    const every = this.options.pingEveryMs ?? 15_000;
    const silence = this.options.silenceLimitMs ?? 45_000;
    this.pingTimer = this.timers.setTimeout(() => {
      this.pingTimer = null;
      const socket = this.socket;
      if (socket === null) return;
      if (this.timers.now() - this.lastHeard > silence) {
        // Half-open connection (phone changed network): drop it and reconnect.
        this.socket = null;
        socket.onclose = null;
        socket.close();
        this.scheduleRetry();
        return;
      }
      if (socket.readyState === OPEN) {
        socket.send(JSON.stringify({ type: "ping", id: `hb-${++this.pings}` }));
      }
      this.schedulePing();
    }, every);
  }

  private teardown(): void {
    if (this.retryTimer !== null) this.timers.clearTimeout(this.retryTimer);
    if (this.pingTimer !== null) this.timers.clearTimeout(this.pingTimer);
    this.retryTimer = null;
    this.pingTimer = null;
    const socket = this.socket;
    this.socket = null;
    this.welcomed = false;
    if (socket !== null) {
      socket.onclose = null;
      socket.onmessage = null;
      try {
        socket.close(1000, "bye");
      } catch {
        // already closed
      }
    }
  }

  private setStatus(status: SocketStatus, retryInMs?: number): void {
    this.current = status;
    this.options.onStatus?.(status, retryInMs);
  }
}
