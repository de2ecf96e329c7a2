/** Fakes for the socket tests: a scripted WebSocket and a manual clock. */
import type { Timers, WebSocketLike } from "./socket.ts";

export class FakeSocket implements WebSocketLike {
  readyState = 0;
  sent: unknown[] = [];
  closedWith: number | null = null;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  constructor(readonly url: string) {}

  send(data: string): void {
    if (this.readyState !== 1) throw new Error("not open");
    this.sent.push(JSON.parse(data));
  }

  close(code = 1000): void {
    this.closedWith = code;
    this.readyState = 3;
  }

  /** The server accepts the connection and says welcome. */
  open(now = 1_700_000_000_000): void {
    this.readyState = 1;
    this.onopen?.({});
    this.deliver({ type: "welcome", role: "courier", subject: "c1", now, coord: "wgs84" });
  }

  deliver(frame: unknown): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  drop(code = 1006): void {
    this.readyState = 3;
    this.onclose?.({ code, reason: "" });
  }
}

export class ManualTimers implements Timers {
  private time = 0;
  private queue: Array<{ at: number; fn: () => void; id: number }> = [];
  private ids = 0;

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.ids;
    this.queue.push({ at: this.time + ms, fn, id });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.queue = this.queue.filter((entry) => entry.id !== handle);
  }

  now(): number {
    return this.time;
  }

  /** Delays of the timers waiting now, soonest first. */
  pending(): number[] {
    return this.queue.map((entry) => entry.at - this.time).sort((a, b) => a - b);
  }

  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      const next = this.queue
        .filter((entry) => entry.at <= until)
        .sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (next === undefined) break;
      this.queue = this.queue.filter((entry) => entry !== next);
      this.time = next.at;
      next.fn();
    }
    this.time = until;
  }
}
