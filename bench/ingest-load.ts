/**
 * The ingest benchmark's load generator, run as its own process so that it does not share an
 * event loop with the gateway it measures. It reads a plan (JSON) from the file named by its
 * first argument, connects couriers over /ws/driver and shoppers over /ws/live, runs the phases
 * and prints one JSON line of results.
 *
 * Couriers move like couriers (8 m/s, each fix a few metres from the last, strictly increasing
 * times), so the gateway's sanity checks accept every fix. Latency is measured from the moment a
 * fix is sent to the moment a shopper receives the push frame carrying it (same process, same
 * clock; matched by courier and fix time).
 */
import { readFileSync } from "node:fs";
import * as hdr from "hdr-histogram-js";
import WebSocket from "ws";

export interface LoadPlan {
  /** ws base, e.g. ws://127.0.0.1:8080 */
  readonly ws: string;
  /** For the raw ceiling: a relay that takes `{"id","at"}` and echoes it back over NATS. */
  readonly raw?: { readonly up: string; readonly down: string };
  readonly couriers: readonly { id: string; token: string }[];
  /** Shoppers watching an order carried by couriers[courierIndex]. */
  readonly shoppers: readonly { token: string; orderId: string; courierIndex: number }[];
  readonly phases: readonly (
    /** Every courier keeps `inFlightPerCourier` unacknowledged fixes: as fast as the gateway takes them. */
    | { kind: "flood"; seconds: number; inFlightPerCourier: number }
    /** A fixed rate, unmeasured (the main process reads what the index took). */
    | { kind: "step"; perSecond: number; seconds: number }
    | { kind: "rate"; perSecond: number; seconds: number }
  )[];
}

export interface PhaseResult {
  kind: string;
  rejected?: number;
  perSecond?: number;
  sent: number;
  seconds: number;
  latency?: { p50: number; p99: number; count: number };
}

const START = { lat: 25.02, lng: 102.68 };
const METERS_PER_DEG_LAT = 111_320;

class SimCourier {
  readonly ws: WebSocket;
  lastAt = 0;
  /** Fixes sent and not yet acknowledged by a `location_ack` (closed-loop flooding). */
  unacked = 0;
  readonly heading = Math.random() * 2 * Math.PI;
  readonly t0 = Date.now();
  readonly origin = {
    lat: START.lat + Math.random() * 0.1,
    lng: START.lng + Math.random() * 0.1,
  };
  constructor(
    readonly id: string,
    url: string,
  ) {
    this.ws = new WebSocket(url);
    this.ws.on("message", (data) => {
      const frame = JSON.parse(String(data)) as {
        type: string;
        accepted?: number;
        rejected?: unknown[];
      };
      if (frame.type === "location_ack") {
        this.unacked -= (frame.accepted ?? 0) + (frame.rejected?.length ?? 0);
        this.rejected += frame.rejected?.length ?? 0;
      }
    });
  }
  rejected = 0;
  nextFix(): { lat: number; lng: number; at: number; accuracy: number; speed: number } {
    const at = Math.max(this.lastAt + 1, Date.now());
    this.lastAt = at;
    const meters = ((at - this.t0) / 1000) * 8;
    const lat = this.origin.lat + (Math.cos(this.heading) * meters) / METERS_PER_DEG_LAT;
    const lng =
      this.origin.lng +
      (Math.sin(this.heading) * meters) / (METERS_PER_DEG_LAT * Math.cos((lat * Math.PI) / 180));
    return { lat, lng, at, accuracy: 8, speed: 8 };
  }
}

/** Resolves once `ws` is open: at once if it already is (the sockets are made before we wait). */
function open(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.OPEN) return Promise.resolve();
  if (ws.readyState === WebSocket.CLOSED || ws.readyState === WebSocket.CLOSING) {
    return Promise.reject(new Error("the websocket closed before it opened"));
  }
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
    ws.once("close", () => reject(new Error("the websocket closed before it opened")));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const plan = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as LoadPlan;
  const couriers = plan.couriers.map(
    (c) => new SimCourier(c.id, `${plan.ws}/ws/driver?token=${c.token}`),
  );
  for (let i = 0; i < couriers.length; i += 200) {
    await Promise.all(couriers.slice(i, i + 200).map((c) => open(c.ws)));
  }
  // Sent fixes awaiting a shopper, by `${courierId}:${at}` → performance.now() at send.
  const sentAt = new Map<string, number>();
  const watched = new Set(plan.shoppers.map((s) => plan.couriers[s.courierIndex]!.id));
  let histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
  let measuring = false;
  const shoppers = plan.shoppers.map((s) => {
    const ws = new WebSocket(`${plan.ws}/ws/live?token=${s.token}`);
    ws.on("message", (data) => {
      const frame = JSON.parse(String(data)) as {
        type: string;
        frame?: { kind: string; courierId?: string; at?: number };
      };
      if (frame.type !== "push" || frame.frame?.kind !== "courier") return;
      const key = `${frame.frame.courierId}:${frame.frame.at}`;
      const t = sentAt.get(key);
      if (t === undefined) return;
      sentAt.delete(key);
      if (measuring) histogram.recordValue(Math.max(1, Math.round((performance.now() - t) * 1000)));
    });
    return { ws, orderId: s.orderId };
  });
  console.error(`load: ${couriers.length} couriers connected`);
  // Phase boundaries for the main process, which reads the index's own count.
  const mark = (what: string) => console.log(JSON.stringify({ mark: what, at: Date.now() }));
  await Promise.all(shoppers.map((s) => open(s.ws)));
  for (const s of shoppers)
    s.ws.send(JSON.stringify({ type: "subscribe", channel: `order:${s.orderId}` }));
  await sleep(500);

  const send = (c: SimCourier) => {
    const fix = c.nextFix();
    if (watched.has(c.id)) sentAt.set(`${c.id}:${fix.at}`, performance.now());
    c.unacked++;
    c.ws.send(JSON.stringify({ type: "location", fix, coord: "wgs84" }));
  };

  const results: PhaseResult[] = [];
  for (const phase of plan.phases) {
    console.error(`load: phase ${phase.kind}`);
    mark(`start:${results.length}`);
    histogram = hdr.build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: 60_000_000,
      numberOfSignificantValueDigits: 3,
    });
    sentAt.clear();
    const t0 = performance.now();
    let sent = 0;
    if (phase.kind === "flood") {
      // Closed loop: a courier sends while fewer than `inFlightPerCourier` fixes await an ack,
      // so the rate is what the gateway sustains, not what the sockets can buffer.
      const until = t0 + phase.seconds * 1000;
      while (performance.now() < until) {
        for (const c of couriers) {
          while (c.unacked < phase.inFlightPerCourier) {
            send(c);
            sent++;
          }
        }
        await new Promise((r) => setTimeout(r, 1));
      }
      // Let the last acks come back before the next phase.
      await sleep(1000);
    } else if (phase.kind === "step") {
      const until = t0 + phase.seconds * 1000;
      let i = 0;
      while (performance.now() < until) {
        const due = Math.floor(((performance.now() - t0) / 1000) * phase.perSecond);
        for (; sent < due; sent++) send(couriers[i++ % couriers.length]!);
        await sleep(2);
      }
      console.error(
        `load: step ${phase.perSecond}/s done (${Math.round(sent / phase.seconds)}/s sent)`,
      );
      await sleep(1000);
    } else {
      measuring = true;
      const until = t0 + phase.seconds * 1000;
      let i = 0;
      while (performance.now() < until) {
        const due = Math.floor(((performance.now() - t0) / 1000) * phase.perSecond);
        for (; sent < due; sent++) send(couriers[i++ % couriers.length]!);
        await sleep(2);
      }
      await sleep(500);
      measuring = false;
    }
    const seconds = (performance.now() - t0) / 1000;
    mark(`end:${results.length}`);
    results.push({
      kind: phase.kind,
      rejected: couriers.reduce((n, c) => n + c.rejected, 0),
      ...(phase.kind !== "flood" ? { perSecond: phase.perSecond } : {}),
      sent,
      seconds,
      ...(phase.kind === "rate"
        ? {
            latency: {
              p50: histogram.getValueAtPercentile(50) / 1000,
              p99: histogram.getValueAtPercentile(99) / 1000,
              count: histogram.totalCount,
            },
          }
        : {}),
    });
  }

  let raw: PhaseResult | null = null;
  if (plan.raw) raw = await rawCeiling(plan, couriers.length);
  console.log(JSON.stringify({ results, raw }));
  for (const c of couriers) c.ws.close();
  for (const s of shoppers) s.ws.close();
  process.exit(0);
}

/**
 * The raw ws → NATS → ws path at the rate of the last rate phase: the relay publishes each
 * frame on NATS and a subscriber forwards it to the `down` socket; nothing else happens.
 */
async function rawCeiling(plan: LoadPlan, couriers: number): Promise<PhaseResult> {
  const rate = plan.phases.filter((p) => p.kind === "rate").at(-1) as {
    perSecond: number;
    seconds: number;
  };
  const ups = Array.from({ length: Math.min(couriers, 500) }, () => new WebSocket(plan.raw!.up));
  const down = new WebSocket(plan.raw!.down);
  await Promise.all([...ups, down].map(open));
  const histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
  const sentAt = new Map<string, number>();
  down.on("message", (data) => {
    const { id } = JSON.parse(String(data)) as { id: string };
    const t = sentAt.get(id);
    if (t === undefined) return;
    sentAt.delete(id);
    histogram.recordValue(Math.max(1, Math.round((performance.now() - t) * 1000)));
  });
  await sleep(200);
  const t0 = performance.now();
  let sent = 0;
  while (performance.now() - t0 < rate.seconds * 1000) {
    const due = Math.floor(((performance.now() - t0) / 1000) * rate.perSecond);
    for (; sent < due; sent++) {
      const id = String(sent);
      // Only every 20th frame is watched, like the share of couriers with a shopper watching.
      if (sent % 20 === 0) sentAt.set(id, performance.now());
      ups[sent % ups.length]!.send(
        JSON.stringify({ id, watched: sent % 20 === 0, at: Date.now() }),
      );
    }
    await sleep(2);
  }
  await sleep(500);
  for (const ws of [...ups, down]) ws.close();
  return {
    kind: "raw",
    perSecond: rate.perSecond,
    sent,
    seconds: (performance.now() - t0) / 1000,
    latency: {
      p50: histogram.getValueAtPercentile(50) / 1000,
      p99: histogram.getValueAtPercentile(99) / 1000,
      count: histogram.totalCount,
    },
  };
}

await main();
