/**
 * A live client's outgoing frames: bounded, in order, and conflating. A frame with a
 * conflation key (a courier's position on a channel, an order's ETA, a market's courier batch)
 * replaces the queued frame with the same key: the old one is dropped and the new one goes to
 * the back, so offsets along a channel still only increase. A stalled client thus holds at most
 * one frame per key plus `limit` others.
 */

export interface Outgoing {
  /** The serialized down frame. */
  readonly text: string;
  /** The down frame's type, for metrics. */
  readonly type: string;
  /** For push frames: the frame's own `at` (ms epoch), for the push latency histogram. */
  readonly at: number | null;
  /** Same key: the newer replaces the older (latest wins). Null: never replaced. */
  readonly key: string | null;
  /** Called with the frame this one replaces; returns what to queue instead (default: this). */
  readonly merge?: (older: Outgoing) => Outgoing;
  /** The push frame itself, for `merge`. */
  readonly frame?: unknown;
}

interface Slot {
  item: Outgoing;
  dead: boolean;
}

export type EnqueueResult = "queued" | "conflated" | "overflow";

export class OutQueue {
  readonly #limit: number;
  #slots: Slot[] = [];
  #head = 0;
  #live = 0;
  readonly #byKey = new Map<string, Slot>();

  /** `limit`: frames that can wait; one more (not replacing another) is an overflow. */
  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Frames waiting. */
  get size(): number {
    return this.#live;
  }

  push(item: Outgoing): EnqueueResult {
    let result: EnqueueResult = "queued";
    if (item.key !== null) {
      const older = this.#byKey.get(item.key);
      if (older) {
        if (item.merge) item = item.merge(older.item);
        older.dead = true;
        this.#live--;
        result = "conflated";
      }
    }
    if (result === "queued" && this.#live >= this.#limit) return "overflow";
    const slot: Slot = { item, dead: false };
    this.#slots.push(slot);
    this.#live++;
    if (item.key !== null) this.#byKey.set(item.key, slot);
    // Replaced slots stay in the array until sent past; compact when they dominate, so a
    // stalled client's queue stays O(live frames) however many frames it misses.
    if (this.#slots.length - this.#head > 64 && this.#slots.length - this.#head > 2 * this.#live) {
      this.#compact();
    }
    return result;
  }

  shift(): Outgoing | undefined {
    while (this.#head < this.#slots.length) {
      const slot = this.#slots[this.#head++]!;
      if (slot.dead) continue;
      this.#live--;
      if (slot.item.key !== null && this.#byKey.get(slot.item.key) === slot) {
        this.#byKey.delete(slot.item.key);
      }
      if (this.#head === this.#slots.length) {
        this.#slots = [];
        this.#head = 0;
      }
      return slot.item;
    }
    this.#slots = [];
    this.#head = 0;
    return undefined;
  }

  clear(): void {
    this.#slots = [];
    this.#head = 0;
    this.#live = 0;
    this.#byKey.clear();
  }

  #compact(): void {
    this.#slots = this.#slots.slice(this.#head).filter((s) => !s.dead);
    this.#head = 0;
  }
}
