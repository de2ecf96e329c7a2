/**
 * A simulated wave van's run, played by real clients of the gateway: the driver watches their
 * own channel `courier:<id>` on /ws/live and, when the wave departs, gets the van's route
 * (`wave_route`); the van then drives its stops in order (straight lines at `metersPerSecond`,
 * `speedup` times faster than real time) and at each pickup point the point's staff confirm
 * the van's arrival through the API (`POST /v1/waves/:waveId/points/:pointId/arrivals`), as they
 * would on their screen when the van pulls up. The stores' hand-offs are not played: the wave
 * puts the orders on the van at departure.
 *
 * Like every client in sim/, it imports only protocol/ and geo/ maths.
 */
import { haversineMeters } from "../geo/index.ts";
import type { PushFrame } from "../protocol/index.ts";
import { GatewayHttp, LiveSocket } from "./city/api.ts";

type WaveRoute = Extract<PushFrame, { kind: "wave_route" }>;

export interface WaveVanOptions {
  /** ws://host:port of the gateway. */
  readonly gateway: string;
  readonly http: GatewayHttp;
  readonly courierId: string;
  readonly courierToken: string;
  /** A token of the staff who confirm arrivals at this point (a store principal it lists). */
  readonly staffToken: (pickupPointId: string) => Promise<string>;
  /** Simulated speed between stops. Default 8 m/s (a van in town). */
  readonly metersPerSecond?: number;
  /** Simulated ms per wall ms. Default 600. */
  readonly speedup?: number;
}

export interface WaveVanReport {
  readonly waveId: string;
  readonly vehicleId: string;
  /** Points whose staff confirmed this van's arrival, in the order driven. */
  readonly arrivals: string[];
  /** Problems the run met (a refused arrival, a door it cannot hand over). */
  readonly problems: string[];
}

export class SimWaveVan {
  readonly #o: WaveVanOptions;
  #live: LiveSocket | null = null;
  #route: WaveRoute | null = null;
  #routed: () => void = () => {};
  readonly #routeCame = new Promise<void>((resolve) => (this.#routed = resolve));

  constructor(options: WaveVanOptions) {
    this.#o = options;
  }

  /** Watches the driver's channel; the route comes when the wave departs. */
  async start(): Promise<void> {
    const live = new LiveSocket({
      gateway: this.#o.gateway,
      token: this.#o.courierToken,
      channels: [`courier:${this.#o.courierId}`],
      onFrame: (_channel, frame) => {
        if (frame.kind !== "wave_route" || this.#route !== null) return;
        this.#route = frame;
        this.#routed();
      },
    });
    await live.open();
    this.#live = live;
  }

  /** Waits for the route (at most `timeoutMs`), then drives it to the end. */
  async run(timeoutMs: number): Promise<WaveVanReport> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no wave route for courier ${this.#o.courierId}`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([this.#routeCame, timedOut]);
    } finally {
      clearTimeout(timer);
    }
    const route = this.#route!;
    const speed = this.#o.metersPerSecond ?? 8;
    const speedup = this.#o.speedup ?? 600;
    const report: WaveVanReport = {
      waveId: route.waveId,
      vehicleId: route.vehicleId,
      arrivals: [],
      problems: [],
    };
    let at = route.stops[0]?.location ?? null;
    for (const stop of route.stops) {
      if (at !== null) {
        const wallMs = (haversineMeters(at, stop.location) / speed / speedup) * 1000;
        await new Promise((r) => setTimeout(r, wallMs));
      }
      at = stop.location;
      if (stop.kind !== "dropoff") continue;
      if (!stop.place.startsWith("point:")) {
        report.problems.push(`${stop.place}: door hand-over is not simulated`);
        continue;
      }
      const pointId = stop.place.slice("point:".length);
      // A second visit to a point: its staff confirmed this van's goods for it the first time.
      if (report.arrivals.includes(pointId)) continue;
      const answer = await this.#o.http.post(
        `/v1/waves/${route.waveId}/points/${pointId}/arrivals`,
        await this.#o.staffToken(pointId),
        { vehicleId: route.vehicleId },
        `arrive.${route.vehicleId}.${pointId}`,
      );
      if (answer.status === 200) report.arrivals.push(pointId);
      else report.problems.push(`${pointId}: ${answer.status} ${answer.code ?? ""}`);
    }
    return report;
  }

  close(): void {
    this.#live?.close();
  }
}
