/**
 * The courier's location uplink on `/ws/driver`. A fix goes out at once while the gateway is
 * connected; fixes taken while it is not wait in a bounded queue (the newest 100, the most one
 * `locations` frame may carry) and go out oldest first as one frame after the reconnect. The
 * gateway's `location_ack`s are totalled for the screen.
 */
import type { DownFrame, Fix } from "../../protocol/index.ts";

/** The protocol's limit on one `locations` frame. */
export const MAX_QUEUED_FIXES = 100;

export interface FixQueueStore {
  load(): Fix[];
  save(fixes: readonly Fix[]): void;
}

export function memoryFixStore(): FixQueueStore {
  let saved: Fix[] = [];
  return { load: () => saved.slice(), save: (fixes) => void (saved = fixes.slice()) };
}

/** Keeps the queue across a reload of the page (a courier who lost signal and reopened the app). */
export function storageFixStore(storage: Storage, key: string): FixQueueStore {
  return {
    load() {
      try {
        const parsed: unknown = JSON.parse(storage.getItem(key) ?? "[]");
        return Array.isArray(parsed) ? (parsed as Fix[]).slice(-MAX_QUEUED_FIXES) : [];
      } catch {
        return [];
      }
    },
    save(fixes) {
      storage.setItem(key, JSON.stringify(fixes));
    },
  };
}

/** What the uplink needs of a socket: send if ready, else say no. */
export interface FrameSender {
  send(frame: unknown): boolean;
}

export interface UplinkCounts {
  sent: number;
  accepted: number;
  rejected: number;
  queued: number;
  dropped: number;
  lastRejection: string | null;
}

export class LocationUplink {
  private queue: Fix[];
  private lastAt = 0;
  private readonly counts: Omit<UplinkCounts, "queued"> = {
    sent: 0,
    accepted: 0,
    rejected: 0,
    dropped: 0,
    lastRejection: null,
  };

  constructor(
    private readonly socket: FrameSender,
    private readonly store: FixQueueStore = memoryFixStore(),
    private readonly onChange: (counts: UplinkCounts) => void = () => undefined,
  ) {
    this.queue = store.load();
  }

  get snapshot(): UplinkCounts {
    return { ...this.counts, queued: this.queue.length };
  }

  /** A new fix from the phone: sent now, or queued until the gateway is back. */
  report(fix: Fix): void {
    // The same fix delivered twice by watchPosition, or the clock stepping back: skip it.
    if (fix.at <= this.lastAt) return;
    this.lastAt = fix.at;
    if (this.queue.length === 0 && this.socket.send({ type: "location", fix, coord: "wgs84" })) {
      this.counts.sent += 1;
    } else {
      this.enqueue(fix);
      this.flush();
    }
    this.onChange(this.snapshot);
  }

  /** After a (re)connect: everything waiting goes out as one frame. */
  flush(): boolean {
    if (this.queue.length === 0) return true;
    const fixes = this.queue.slice(-MAX_QUEUED_FIXES);
    if (!this.socket.send({ type: "locations", fixes, coord: "wgs84" })) return false;
    this.counts.sent += fixes.length;
    this.queue = [];
    this.store.save(this.queue);
    this.onChange(this.snapshot);
    return true;
  }

  /** Feeds a frame from the driver socket. */
  receive(frame: DownFrame): void {
    if (frame.type !== "location_ack") return;
    this.counts.accepted += frame.accepted;
    this.counts.rejected += frame.rejected.length;
    const last = frame.rejected.at(-1);
    if (last !== undefined) this.counts.lastRejection = last.code;
    this.onChange(this.snapshot);
  }

  private enqueue(fix: Fix): void {
    this.queue.push(fix);
    if (this.queue.length > MAX_QUEUED_FIXES) {
      this.counts.dropped += this.queue.length - MAX_QUEUED_FIXES;
      this.queue = this.queue.slice(-MAX_QUEUED_FIXES);
    }
    this.store.save(this.queue);
  }
}

/** Turns the browser's position into a protocol fix, leaving out what the device does not know. */
export function fixFromPosition(position: {
  coords: {
    latitude: number;
    longitude: number;
    accuracy: number;
    speed: number | null;
    heading: number | null;
  };
  timestamp: number;
}): Fix | null {
  const { latitude, longitude, accuracy, speed, heading } = position.coords;
  if (!Number.isFinite(latitude) || !Number.isFinite(longitude)) return null;
  if (Math.abs(latitude) > 90 || Math.abs(longitude) > 180) return null;
  const fix: Fix = {
    lat: latitude,
    lng: longitude,
    at: Math.max(1, Math.round(position.timestamp)),
  };
  if (Number.isFinite(accuracy) && accuracy >= 0) fix.accuracy = Math.min(accuracy, 10_000);
  if (speed !== null && Number.isFinite(speed) && speed >= 0 && speed <= 100) fix.speed = speed;
  if (heading !== null && Number.isFinite(heading) && heading >= 0 && heading <= 360) {
    fix.heading = heading;
  }
  return fix;
}
