import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** The gateway's Prometheus metrics, registered once per registry. */
export class GatewayMetrics {
  readonly registry: Registry;
  readonly connections: Gauge<"kind">;
  readonly framesIn: Counter<"type">;
  readonly framesOut: Counter<"type">;
  readonly pushLatency: Histogram;
  readonly fixesRejected: Counter<"code">;
  readonly conflations: Counter;
  readonly resyncs: Counter;
  readonly http: Counter<"method" | "status">;

  constructor(registry: Registry = new Registry()) {
    this.registry = registry;
    const registers = [registry];
    this.connections = new Gauge({
      name: "xianda_gateway_ws_connections",
      help: "Open websockets by kind (driver, live)",
      labelNames: ["kind"],
      registers,
    });
    this.framesIn = new Counter({
      name: "xianda_gateway_frames_in_total",
      help: "Websocket frames received, by type (invalid: could not be read)",
      labelNames: ["type"],
      registers,
    });
    this.framesOut = new Counter({
      name: "xianda_gateway_frames_out_total",
      help: "Websocket frames sent, by type",
      labelNames: ["type"],
      registers,
    });
    this.pushLatency = new Histogram({
      name: "xianda_gateway_push_latency_seconds",
      help: "From a push frame's `at` to its write on a client socket",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.fixesRejected = new Counter({
      name: "xianda_gateway_fixes_rejected_total",
      help: "Location fixes refused, by code",
      labelNames: ["code"],
      registers,
    });
    this.conflations = new Counter({
      name: "xianda_gateway_conflations_total",
      help: "Queued frames of a slow client replaced by a newer one of the same kind and key",
      registers,
    });
    this.resyncs = new Counter({
      name: "xianda_gateway_resyncs_total",
      help: "Slow clients closed with 4008 (resync_required) after their queue overflowed",
      registers,
    });
    this.http = new Counter({
      name: "xianda_gateway_http_requests_total",
      help: "HTTP requests by method and status",
      labelNames: ["method", "status"],
      registers,
    });
  }
}
