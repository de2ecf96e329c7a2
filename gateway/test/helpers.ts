/** Websocket clients for the gateway's tests: collect down frames, wait for the one you need. */
import { WebSocket } from "ws";
import type { DownFrame } from "../../protocol/index.ts";

export class TestClient {
  readonly ws: WebSocket;
  readonly frames: DownFrame[] = [];
  /** Receive time (ms epoch) of each frame, same index as `frames`. */
  readonly receivedAt: number[] = [];
  closed: { code: number; reason: string } | null = null;
  readonly opened: Promise<void>;
  readonly #waiters = new Set<() => void>();

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once("open", () => resolve());
      this.ws.once("error", reject);
      this.ws.once("unexpected-response", (_req, res) =>
        reject(new Error(`HTTP ${res.statusCode}`)),
      );
    });
    this.opened.catch(() => {});
    this.ws.on("message", (data) => {
      this.frames.push(JSON.parse(String(data)) as DownFrame);
      this.receivedAt.push(Date.now());
      this.#wake();
    });
    this.ws.on("close", (code, reason) => {
      this.closed = { code, reason: String(reason) };
      this.#wake();
    });
    this.ws.on("error", () => {});
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  of<T extends DownFrame["type"]>(type: T): Extract<DownFrame, { type: T }>[] {
    return this.frames.filter((f): f is Extract<DownFrame, { type: T }> => f.type === type);
  }

  /** Waits until `probe` returns a value (checked on every frame and on close). */
  async until<T>(
    what: string,
    probe: () => T | null | undefined | false,
    timeoutMs = 5_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = probe();
      if (value !== null && value !== undefined && value !== false) return value;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `timed out waiting for ${what}; got ${JSON.stringify(this.frames.slice(-5))}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(left, 200));
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.#waiters.add(done);
      });
    }
  }

  /** The first frame after index `from` matching `match`. */
  next<T extends DownFrame["type"]>(
    type: T,
    match: (f: Extract<DownFrame, { type: T }>) => boolean = () => true,
    timeoutMs = 5_000,
  ): Promise<Extract<DownFrame, { type: T }>> {
    return this.until(`a ${type} frame`, () => this.of(type).find((f) => match(f)), timeoutMs);
  }

  waitClosed(timeoutMs = 5_000): Promise<{ code: number; reason: string }> {
    return this.until("close", () => this.closed, timeoutMs);
  }

  close(): void {
    this.ws.close();
  }

  #wake(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const w of waiters) w();
  }
}
