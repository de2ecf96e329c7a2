/**
 * One websocket as the gateway writes to it: every down frame goes through a bounded,
 * conflating queue (OutQueue) and is written only while the socket's own buffer is below the
 * high-water mark. Nothing here awaits a client: a frame is queued and written now or later, so
 * a stalled client never holds up anyone else.
 */
import type { WebSocket } from "ws";
import type { DownFrame, TokenClaims, CoordSystem } from "../../protocol/index.ts";
import type { GatewayMetrics } from "../metrics.ts";
import { OutQueue } from "./queue.ts";
import type { EnqueueResult, Outgoing } from "./queue.ts";

/** Close codes the gateway uses (the apps reconnect on all but 4001 and 4003). */
import { CloseCode } from "../../protocol/index.ts";

export { CloseCode };

export interface Writer {
  /** Sockets whose buffer is above the high-water mark, re-flushed by the owner's timer. */
  readonly blocked: Set<Connection>;
  wake(): void;
  readonly metrics: GatewayMetrics;
  readonly clock: () => number;
  readonly highWater: number;
}

let nextId = 1;

export class Connection {
  readonly id = nextId++;
  readonly ws: WebSocket;
  readonly claims: TokenClaims;
  readonly coord: CoordSystem;
  readonly kind: "driver" | "live";
  readonly queue: OutQueue;
  readonly #writer: Writer;
  /** False once closed or closing: nothing more is queued or written. */
  open = true;
  /** Answered the last ping. */
  alive = true;

  constructor(
    kind: "driver" | "live",
    ws: WebSocket,
    claims: TokenClaims,
    coord: CoordSystem,
    queueLimit: number,
    writer: Writer,
  ) {
    this.kind = kind;
    this.ws = ws;
    this.claims = claims;
    this.coord = coord;
    this.queue = new OutQueue(queueLimit);
    this.#writer = writer;
  }

  /** Queues a control frame (welcome, subscribed, error, pong, ack) and writes what it can. */
  send(frame: DownFrame): void {
    this.enqueue({ text: JSON.stringify(frame), type: frame.type, at: null, key: null });
  }

  /** Queues a frame; an overflow closes the connection with `resync_required` (4008). */
  enqueue(item: Outgoing): EnqueueResult {
    if (!this.open) return "queued";
    const result = this.queue.push(item);
    if (result === "conflated") this.#writer.metrics.conflations.inc();
    if (result === "overflow") {
      this.#writer.metrics.resyncs.inc();
      this.close(CloseCode.resyncRequired, "resync_required", {
        type: "error",
        code: "resync_required",
        message: "too far behind: reconnect and resume from the last offset you received",
      });
      return result;
    }
    this.flush();
    return result;
  }

  /** Writes queued frames while the socket's buffer allows. */
  flush(): void {
    const { metrics, clock, highWater } = this.#writer;
    while (this.open && this.queue.size > 0) {
      if (this.ws.bufferedAmount > highWater) {
        this.#writer.blocked.add(this);
        this.#writer.wake();
        return;
      }
      const item = this.queue.shift()!;
      this.ws.send(item.text);
      metrics.framesOut.inc({ type: item.type });
      if (item.at !== null) metrics.pushLatency.observe(Math.max(0, clock() - item.at) / 1000);
    }
    this.#writer.blocked.delete(this);
  }

  /**
   * Closes the socket, after `last` (written past the queue: the queue is what overflowed).
   */
  close(code: number, reason: string, last?: DownFrame): void {
    if (!this.open) return;
    this.open = false;
    this.queue.clear();
    this.#writer.blocked.delete(this);
    if (last && this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(last));
    this.ws.close(code, reason);
    // A client that stopped reading would never finish the closing handshake.
    setTimeout(() => this.ws.terminate(), 5_000).unref();
  }
}
