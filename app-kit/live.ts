/**
 * Channels watched on `/ws/live`, resumed without gaps: the last offset seen on each channel is
 * kept (and persisted, so a reload resumes too) and sent with the subscribe after every
 * reconnect; a push at or below that offset is a replay the app has already applied.
 */
import type { Channel, DownFrame, PushFrame } from "../protocol/index.ts";

export interface OffsetStore {
  load(channel: string): number | null;
  save(channel: string, offset: number): void;
}

export function memoryOffsets(): OffsetStore {
  const offsets = new Map<string, number>();
  return {
    load: (channel) => offsets.get(channel) ?? null,
    save: (channel, offset) => void offsets.set(channel, offset),
  };
}

export function storageOffsets(storage: Storage, prefix: string): OffsetStore {
  return {
    load(channel) {
      const raw = storage.getItem(`${prefix}${channel}`);
      const value = raw === null ? Number.NaN : Number(raw);
      return Number.isInteger(value) && value >= 0 ? value : null;
    },
    save(channel, offset) {
      storage.setItem(`${prefix}${channel}`, String(offset));
    },
  };
}

export class LiveChannels {
  private readonly offsets = new Map<string, number>();
  private readonly channels: Channel[];

  constructor(
    channels: readonly Channel[],
    private readonly store: OffsetStore,
    private readonly onPush: (channel: Channel, frame: PushFrame, offset: number) => void,
  ) {
    this.channels = [...channels];
    for (const channel of channels) {
      const saved = store.load(channel);
      if (saved !== null) this.offsets.set(channel, saved);
    }
  }

  /** The subscribe frames to send on a fresh connection, each resuming where it left off. */
  subscribeFrames(): Array<{ type: "subscribe"; channel: Channel; offset?: number }> {
    return this.channels.map((channel) => {
      const offset = this.offsets.get(channel);
      return offset === undefined
        ? { type: "subscribe", channel }
        : { type: "subscribe", channel, offset };
    });
  }

  /**
   * Watches one more channel (a console following each courier it sees). Returns the subscribe
   * frame to send now on an open connection, or null when it is watched already; after a
   * reconnect it is in `subscribeFrames` with the others.
   */
  watch(channel: Channel): { type: "subscribe"; channel: Channel; offset?: number } | null {
    if (this.channels.includes(channel)) return null;
    this.channels.push(channel);
    const saved = this.store.load(channel);
    if (saved !== null) this.offsets.set(channel, saved);
    return saved === null
      ? { type: "subscribe", channel }
      : { type: "subscribe", channel, offset: saved };
  }

  watching(channel: Channel): boolean {
    return this.channels.includes(channel);
  }

  offset(channel: Channel): number | null {
    return this.offsets.get(channel) ?? null;
  }

  /** Feeds a frame from the socket; returns true when it was a new push for a watched channel. */
  receive(frame: DownFrame): boolean {
    if (frame.type === "subscribed") {
      // A first subscribe (no offset) replays nothing, so its offset is where "now" is. After a
      // resume the replayed pushes carry their own offsets; never move past them from here.
      if (this.channels.includes(frame.channel) && !this.offsets.has(frame.channel)) {
        this.advance(frame.channel, frame.offset);
      }
      return false;
    }
    if (frame.type !== "push" || !this.channels.includes(frame.channel)) return false;
    const last = this.offsets.get(frame.channel);
    if (last !== undefined && frame.offset <= last) return false;
    this.advance(frame.channel, frame.offset);
    this.onPush(frame.channel, frame.frame, frame.offset);
    return true;
  }

  private advance(channel: Channel, offset: number): void {
    const last = this.offsets.get(channel);
    if (last !== undefined && offset <= last) return;
    this.offsets.set(channel, offset);
    this.store.save(channel, offset);
  }
}
