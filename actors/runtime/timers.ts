/** Due reminders of one partition, in memory: a binary heap by due time with lazy removal. */
import type { ActorRef } from "../types.ts";
import type { StoredTimer } from "./stored.ts";

export interface DueTimer {
  readonly ref: ActorRef;
  readonly name: string;
  readonly timer: StoredTimer;
}

export class TimerQueue {
  readonly #heap: DueTimer[] = [];
  /** The live schedule of each (actor, name); heap entries with another sid are stale. */
  readonly #live = new Map<string, string>();

  get size(): number {
    return this.#live.size;
  }

  schedule(ref: ActorRef, name: string, timer: StoredTimer): void {
    this.#live.set(liveKey(ref, name), timer.sid);
    this.#heap.push({ ref, name, timer });
    this.#up(this.#heap.length - 1);
  }

  cancel(ref: ActorRef, name: string): void {
    this.#live.delete(liveKey(ref, name));
  }

  /** Removes and returns the live reminders due at `now`. */
  takeDue(now: number): DueTimer[] {
    const due: DueTimer[] = [];
    while (this.#heap.length > 0 && this.#heap[0]!.timer.at <= now) {
      const top = this.#pop();
      const key = liveKey(top.ref, top.name);
      if (this.#live.get(key) !== top.timer.sid) continue;
      this.#live.delete(key);
      due.push(top);
    }
    return due;
  }

  #pop(): DueTimer {
    const top = this.#heap[0]!;
    const last = this.#heap.pop()!;
    if (this.#heap.length > 0) {
      this.#heap[0] = last;
      this.#down(0);
    }
    return top;
  }

  #up(i: number): void {
    const h = this.#heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.timer.at <= h[i]!.timer.at) break;
      [h[parent], h[i]] = [h[i]!, h[parent]!];
      i = parent;
    }
  }

  #down(i: number): void {
    const h = this.#heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && h[l]!.timer.at < h[m]!.timer.at) m = l;
      if (r < h.length && h[r]!.timer.at < h[m]!.timer.at) m = r;
      if (m === i) return;
      [h[m], h[i]] = [h[i]!, h[m]!];
      i = m;
    }
  }
}

const liveKey = (ref: ActorRef, name: string) => `${ref.type}/${ref.id}/${name}`;
