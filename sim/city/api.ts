/**
 * The simulation's two ways into the gateway, the same a shop's back end, a store's screen and a
 * driver app use: the HTTP API (`GatewayHttp`: JSON, bearer token, `Idempotency-Key`, a few
 * retries on what is worth retrying) and a live websocket on `/ws/live` (`LiveSocket`: subscribe
 * to channels, resume from the last offset after a drop).
 */
import WebSocket from "ws";
import { DownFrame } from "../../protocol/index.ts";
import type { PushFrame } from "../../protocol/index.ts";

export interface HttpAnswer<T = unknown> {
  readonly status: number;
  readonly body: T;
  /** The error code of a 4xx/5xx answer (`{"error":{"code"}}`), else null. */
  readonly code: string | null;
}

export interface GatewayHttpOptions {
  /** http://host:port of the gateway. */
  readonly baseUrl: string;
  /** Attempts for network errors, 503 and 504. Default 3. */
  readonly attempts?: number;
  /** Per request. Default 10 s. */
  readonly timeoutMs?: number;
  /** Aborts every request in flight (the world stopping). */
  readonly signal?: AbortSignal;
  readonly fetch?: typeof fetch;
}

const RETRY_STATUSES = new Set([503, 504]);

export class GatewayHttp {
  readonly #o: GatewayHttpOptions;

  constructor(options: GatewayHttpOptions) {
    this.#o = options;
  }

  get baseUrl(): string {
    return this.#o.baseUrl;
  }

  get<T = unknown>(path: string, token: string): Promise<HttpAnswer<T>> {
    return this.#request<T>("GET", path, token);
  }

  /** A POST; `idempotencyKey` makes a retry apply once (command routes). */
  post<T = unknown>(
    path: string,
    token: string,
    body: unknown = {},
    idempotencyKey?: string,
  ): Promise<HttpAnswer<T>> {
    return this.#request<T>("POST", path, token, body, idempotencyKey);
  }

  async #request<T>(
    method: string,
    path: string,
    token: string,
    body?: unknown,
    idempotencyKey?: string,
  ): Promise<HttpAnswer<T>> {
    const attempts = this.#o.attempts ?? 3;
    const doFetch = this.#o.fetch ?? fetch;
    let lastError: unknown = null;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const signals = [AbortSignal.timeout(this.#o.timeoutMs ?? 10_000)];
      if (this.#o.signal) signals.push(this.#o.signal);
      try {
        const res = await doFetch(`${this.#o.baseUrl}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body === undefined ? {} : { "content-type": "application/json" }),
            ...(idempotencyKey ? { "idempotency-key": idempotencyKey } : {}),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.any(signals),
        });
        const text = await res.text();
        let parsed: unknown = null;
        try {
          parsed = text === "" ? null : JSON.parse(text);
        } catch {
          parsed = text;
        }
        if (RETRY_STATUSES.has(res.status) && attempt < attempts) {
          await pause(250 * attempt, this.#o.signal);
          continue;
        }
        const code =
          res.status >= 400
            ? ((parsed as { error?: { code?: string } } | null)?.error?.code ??
              `http_${res.status}`)
            : null;
        return { status: res.status, body: parsed as T, code };
      } catch (err) {
        if (this.#o.signal?.aborted) throw err;
        lastError = err;
        if (attempt < attempts) await pause(250 * attempt, this.#o.signal);
      }
    }
    throw new GatewayUnreachableError(`${method} ${path} failed ${attempts} times`, {
      cause: lastError,
    });
  }
}

export class GatewayUnreachableError extends Error {
  override readonly name = "GatewayUnreachableError";
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export interface LiveSocketOptions {
  /** ws://host:port of the gateway. */
  readonly gateway: string;
  readonly token: string;
  readonly channels: readonly string[];
  readonly onFrame: (channel: string, frame: PushFrame) => void;
  /** Told about error frames and lost connections (the socket reconnects by itself). */
  readonly onProblem?: (message: string) => void;
  /** Wait before reconnecting, ms. Default 1000. */
  readonly reconnectMs?: number;
}

/**
 * A live connection that watches channels and survives drops: it resubscribes each channel
 * from the last offset it saw, so no frame is lost or repeated (the gateway's resume).
 */
export class LiveSocket {
  readonly #o: LiveSocketOptions;
  readonly #offsets = new Map<string, number>();
  #ws: WebSocket | null = null;
  #closed = false;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(options: LiveSocketOptions) {
    this.#o = options;
  }

  /** Connects and resolves once every channel is subscribed. */
  async open(): Promise<void> {
    const ws = new WebSocket(
      `${this.#o.gateway}/ws/live?token=${encodeURIComponent(this.#o.token)}`,
    );
    this.#ws = ws;
    const pending = new Set(this.#o.channels);
    let subscribed: () => void = () => {};
    let lost: (err: Error) => void = () => {};
    const allSubscribed = new Promise<void>((resolve, reject) => {
      subscribed = resolve;
      lost = reject;
    });
    // Awaited below once open; until then a drop must not count as an unhandled rejection.
    allSubscribed.catch(() => {});
    ws.on("message", (data) => {
      let parsed;
      try {
        parsed = DownFrame.safeParse(JSON.parse(String(data)));
      } catch {
        return;
      }
      if (!parsed.success) return;
      const frame = parsed.data;
      if (frame.type === "push") {
        const last = this.#offsets.get(frame.channel) ?? 0;
        if (frame.offset <= last) return;
        this.#offsets.set(frame.channel, frame.offset);
        this.#o.onFrame(frame.channel, frame.frame);
      } else if (frame.type === "subscribed") {
        if (frame.offset > (this.#offsets.get(frame.channel) ?? 0)) {
          this.#offsets.set(frame.channel, frame.offset);
        }
        pending.delete(frame.channel);
        if (pending.size === 0) subscribed();
      } else if (frame.type === "error") {
        this.#o.onProblem?.(`${frame.code}: ${frame.message}`);
      }
    });
    ws.on("close", () => {
      lost(new Error("the live connection closed before every channel was subscribed"));
      if (this.#closed || this.#ws !== ws) return;
      this.#o.onProblem?.("live connection lost; reconnecting");
      this.#reconnect();
    });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    ws.on("error", () => {});
    for (const channel of this.#o.channels) {
      const offset = this.#offsets.get(channel);
      ws.send(
        JSON.stringify({ type: "subscribe", channel, ...(offset !== undefined ? { offset } : {}) }),
      );
    }
    await allSubscribed;
  }

  #reconnect(): void {
    this.#timer = setTimeout(() => {
      this.#timer = null;
      // A failed attempt closes its socket, whose close handler tries again.
      if (!this.#closed) void this.open().catch(() => {});
    }, this.#o.reconnectMs ?? 1000);
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#ws?.close();
  }
}
