/**
 * The courier's actions (answer an offer, arrive, deliver, fail) in a queue kept in localStorage:
 * each is sent when the gateway can be reached, one at a time, in the order they were taken.
 * Each carries an `Idempotency-Key` made when it was taken, so a resend after an unclear failure
 * (a timeout, a dropped connection, the page closed mid-request) names the same command and the
 * gateway applies it once. A refusal (4xx) ends the action with the reason shown to the courier;
 * anything that may succeed later (no network, 5xx, 429, an expired session) keeps it at the head
 * of the queue for the next attempt.
 */
import type { DeclineReason, DeliveryFailureReason } from "./reasons.ts";

export type CourierAction =
  | { kind: "accept"; orderId: string }
  | { kind: "decline"; orderId: string; reason: DeclineReason }
  | { kind: "arrived_store"; orderId: string }
  | { kind: "arrived_customer"; orderId: string }
  | {
      kind: "deliver";
      orderId: string;
      pin?: string;
      /** A photo taken offline, uploaded first (as a data: URL, JPEG). */
      photo?: string;
      /** Set once the photo is uploaded (kept, so a resend does not upload again). */
      photoRef?: string;
    }
  | { kind: "fail"; orderId: string; reason: DeliveryFailureReason };

export interface QueuedAction {
  /** The Idempotency-Key: fixed when the courier took the action. */
  key: string;
  action: CourierAction;
  queuedAt: number;
  attempts: number;
}

/** What one attempt came to. */
export type SendResult =
  | { outcome: "done" }
  | { outcome: "refused"; code: string; message: string | null }
  | { outcome: "retry"; code: string }
  /** Progress to keep before retrying (a photo uploaded, its ref known). */
  | { outcome: "progress"; action: CourierAction };

export type Sender = (queued: QueuedAction) => Promise<SendResult>;

export interface ActionStore {
  load(): QueuedAction[];
  save(queue: readonly QueuedAction[]): void;
}

export function memoryActionStore(): ActionStore {
  let saved: QueuedAction[] = [];
  return {
    load: () => saved.map((q) => ({ ...q })),
    save: (queue) => void (saved = queue.map((q) => ({ ...q }))),
  };
}

export function storageActionStore(storage: Storage, key: string): ActionStore {
  return {
    load() {
      try {
        const parsed: unknown = JSON.parse(storage.getItem(key) ?? "[]");
        return Array.isArray(parsed) ? (parsed as QueuedAction[]) : [];
      } catch {
        return [];
      }
    },
    save(queue) {
      storage.setItem(key, JSON.stringify(queue));
    },
  };
}

/** How an action ended, for the screen. */
export type Settled =
  | { action: CourierAction; key: string; ok: true }
  | { action: CourierAction; key: string; ok: false; code: string; message: string | null };

export interface ActionQueueOptions {
  send: Sender;
  store?: ActionStore;
  onChange?: (queue: readonly QueuedAction[]) => void;
  onSettled?: (settled: Settled) => void;
  /** Delay before retrying after a failed attempt, ms. Default: 2 s doubling to 30 s. */
  retryDelay?: (attempts: number) => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  newKey?: () => string;
  now?: () => number;
}

export class ActionQueue {
  private queue: QueuedAction[];
  private running: Promise<void> | null = null;
  private timer: unknown = null;
  private readonly store: ActionStore;

  constructor(private readonly options: ActionQueueOptions) {
    this.store = options.store ?? memoryActionStore();
    this.queue = this.store.load();
  }

  get pending(): readonly QueuedAction[] {
    return this.queue;
  }

  /** Takes an action: queued at once (so it survives a reload), then sent when possible. */
  take(action: CourierAction): QueuedAction {
    const queued: QueuedAction = {
      key: (this.options.newKey ?? randomKey)(),
      action,
      queuedAt: (this.options.now ?? Date.now)(),
      attempts: 0,
    };
    this.queue.push(queued);
    this.save();
    void this.flush();
    return queued;
  }

  /**
   * Sends what waits, in order; stops at the first action that must wait for a retry. While a
   * run is under way it answers that run (which also sends what is taken meanwhile).
   */
  flush(): Promise<void> {
    if (this.running !== null) return this.running;
    this.cancelTimer();
    this.running = this.run().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async run(): Promise<void> {
    for (;;) {
      const head = this.queue[0];
      if (head === undefined) return;
      head.attempts += 1;
      let result: SendResult;
      try {
        result = await this.options.send(head);
      } catch {
        result = { outcome: "retry", code: "network_error" };
      }
      if (result.outcome === "progress") {
        head.action = result.action;
        this.save();
        continue;
      }
      if (result.outcome === "retry") {
        this.save();
        this.scheduleRetry(head.attempts);
        return;
      }
      this.queue.shift();
      this.save();
      this.options.onSettled?.(
        result.outcome === "done"
          ? { action: head.action, key: head.key, ok: true }
          : {
              action: head.action,
              key: head.key,
              ok: false,
              code: result.code,
              message: result.message,
            },
      );
    }
  }

  private save(): void {
    this.store.save(this.queue);
    this.options.onChange?.(this.queue);
  }

  private scheduleRetry(attempts: number): void {
    const delay = (this.options.retryDelay ?? defaultRetryDelay)(attempts);
    const set = this.options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.timer = set(() => {
      this.timer = null;
      void this.flush();
    }, delay);
  }

  private cancelTimer(): void {
    if (this.timer === null) return;
    (this.options.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>)))(
      this.timer,
    );
    this.timer = null;
  }
}

function defaultRetryDelay(attempts: number): number {
  return Math.min(30_000, 2_000 * 2 ** Math.max(0, attempts - 1));
}

function randomKey(): string {
  const id =
    globalThis.crypto?.randomUUID?.() ?? `${Date.now()}-${Math.random().toString(36).slice(2)}`;
  return `drv-${id}`;
}
