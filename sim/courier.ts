/**
 * A simulated courier that is a real client: it connects to the gateway's /ws/driver with its
 * token and reports fixes while it drives straight lines between points, as a phone would.
 * (The simulated city of `sim/` grows from here; it imports only protocol/ and geo/ maths.)
 */
import WebSocket from "ws";
import { haversineMeters } from "../geo/index.ts";
import type { DriverUpFrame } from "../protocol/index.ts";

export interface SimCourierOptions {
  /** ws://host:port of the gateway. */
  readonly gateway: string;
  readonly token: string;
  /** Metres per second. Default 6 (an e-bike in town). */
  readonly speed?: number;
  /** Milliseconds between fixes. Default 1000. */
  readonly everyMs?: number;
}

type Point = { lat: number; lng: number };

export class SimCourier {
  readonly #o: SimCourierOptions;
  #ws: WebSocket | null = null;
  #position: Point;
  #closed = false;
  accepted = 0;
  rejected = 0;

  constructor(start: Point, options: SimCourierOptions) {
    this.#o = options;
    this.#position = start;
  }

  get position(): Point {
    return this.#position;
  }

  async connect(): Promise<void> {
    const ws = new WebSocket(
      `${this.#o.gateway}/ws/driver?token=${encodeURIComponent(this.#o.token)}`,
    );
    ws.on("message", (data) => {
      const frame = JSON.parse(String(data)) as {
        type: string;
        accepted?: number;
        rejected?: unknown[];
      };
      if (frame.type === "location_ack") {
        this.accepted += frame.accepted ?? 0;
        this.rejected += frame.rejected?.length ?? 0;
      }
    });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    ws.on("close", () => {
      if (!this.#closed) setTimeout(() => void this.connect().catch(() => {}), 1000);
    });
    this.#ws = ws;
  }

  /** Drives to `to` in a straight line, reporting fixes on the way; resolves on arrival. */
  async driveTo(to: Point): Promise<void> {
    const speed = this.#o.speed ?? 6;
    const every = this.#o.everyMs ?? 1000;
    const from = this.#position;
    const total = haversineMeters(from, to);
    const started = Date.now();
    for (;;) {
      if (this.#closed) return;
      const done = Math.min(1, ((Date.now() - started) / 1000) * (speed / Math.max(total, 1)));
      this.#position = {
        lat: from.lat + (to.lat - from.lat) * done,
        lng: from.lng + (to.lng - from.lng) * done,
      };
      this.#report();
      if (done >= 1) return;
      await new Promise((r) => setTimeout(r, every));
    }
  }

  /** Stays put for `ms`, still reporting (a courier waiting at a store). */
  async wait(ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until && !this.#closed) {
      this.#report();
      await new Promise((r) =>
        setTimeout(r, Math.min(this.#o.everyMs ?? 1000, until - Date.now())),
      );
    }
  }

  close(): void {
    this.#closed = true;
    this.#ws?.close();
  }

  #report(): void {
    if (this.#ws?.readyState !== WebSocket.OPEN) return;
    const frame: DriverUpFrame = {
      type: "location",
      fix: { ...this.#position, at: Date.now(), accuracy: 10, speed: this.#o.speed ?? 6 },
      coord: "wgs84",
    };
    this.#ws.send(JSON.stringify(frame));
  }
}
