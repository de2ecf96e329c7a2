/**
 * A live client behind a load balancer: it watches one channel on `/ws/live` and, when its
 * gateway goes away, reconnects to the next one (as a balancer would send it to a healthy
 * instance) and resumes from the last offset it saw. It keeps every push it got, so a test can
 * compare them with the PUSH stream (nothing missed) and time its recovery.
 */
import WebSocket from "ws";
import { DownFrame } from "../../protocol/index.ts";
import type { PushFrame } from "../../protocol/index.ts";

export interface Received {
  readonly offset: number;
  readonly kind: PushFrame["kind"];
  readonly at: number;
}

export class Watcher {
  readonly received: Received[] = [];
  /** Wall times each subscription was confirmed (the first and each resume). */
  readonly subscribedAt: number[] = [];
  readonly closes: { at: number; code: number }[] = [];
  readonly #gateways: () => string[];
  readonly #token: string;
  readonly #channel: string;
  #ws: WebSocket | null = null;
  #next = 0;
  #offset: number | null = null;
  #closed = false;

  constructor(gateways: () => string[], token: string, channel: string, firstGateway = 0) {
    this.#gateways = gateways;
    this.#token = token;
    this.#channel = channel;
    this.#next = firstGateway;
  }

  get lastOffset(): number | null {
    return this.#offset;
  }

  /** Resolves once subscribed the first time. */
  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const first = this.subscribedAt.length;
      this.#connect();
      const started = Date.now();
      const check = setInterval(() => {
        if (this.subscribedAt.length > first) {
          clearInterval(check);
          resolve();
        } else if (Date.now() - started > 15_000) {
          clearInterval(check);
          reject(new Error(`${this.#channel}: not subscribed within 15 s`));
        }
      }, 20);
    });
  }

  #connect(): void {
    if (this.#closed) return;
    const urls = this.#gateways();
    const base = urls[this.#next % urls.length]!.replace(/^http/, "ws");
    const ws = new WebSocket(`${base}/ws/live?token=${encodeURIComponent(this.#token)}`);
    this.#ws = ws;
    ws.on("open", () => {
      ws.send(
        JSON.stringify({
          type: "subscribe",
          channel: this.#channel,
          ...(this.#offset !== null ? { offset: this.#offset } : {}),
        }),
      );
    });
    ws.on("message", (data) => {
      const parsed = DownFrame.safeParse(JSON.parse(String(data)));
      if (!parsed.success) return;
      const f = parsed.data;
      if (f.type === "push" && f.channel === this.#channel) {
        if (this.#offset !== null && f.offset <= this.#offset) return;
        this.#offset = f.offset;
        this.received.push({ offset: f.offset, kind: f.frame.kind, at: Date.now() });
      } else if (f.type === "subscribed" && f.channel === this.#channel) {
        if (this.#offset === null || f.offset > this.#offset) this.#offset = f.offset;
        this.subscribedAt.push(Date.now());
      }
    });
    ws.on("error", () => {});
    ws.on("close", (code) => {
      this.closes.push({ at: Date.now(), code });
      if (this.#closed || this.#ws !== ws) return;
      // The balancer's next healthy instance.
      this.#next++;
      setTimeout(() => this.#connect(), 200);
    });
  }

  close(): void {
    this.#closed = true;
    this.#ws?.close();
  }
}
