/** The runtime's Prometheus metrics, on a registry the host process exposes at /metrics. */
import { Counter, Gauge, Histogram, Registry } from "prom-client";

export class RuntimeMetrics {
  readonly registry: Registry;
  readonly commands: Counter<"type" | "outcome">;
  readonly turnSeconds: Histogram<"type">;
  readonly redeliveries: Counter<"type">;
  readonly conflicts: Counter<"type">;
  readonly deadLetters: Counter<"reason">;
  readonly timersFired: Counter;
  readonly activeActors: Gauge;
  readonly partitionsHeld: Gauge;
  readonly leaseEvents: Counter<"event">;

  constructor(registry = new Registry()) {
    this.registry = registry;
    const r = [registry];
    this.commands = new Counter({
      name: "xianda_actor_commands_total",
      help: "Commands applied, by actor type and outcome (accepted, refused)",
      labelNames: ["type", "outcome"],
      registers: r,
    });
    this.turnSeconds = new Histogram({
      name: "xianda_actor_turn_seconds",
      help: "From a command's arrival at its host to its commit",
      labelNames: ["type"],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: r,
    });
    this.redeliveries = new Counter({
      name: "xianda_actor_redeliveries_total",
      help: "Commands seen again after being applied (replay after takeover, client retry)",
      labelNames: ["type"],
      registers: r,
    });
    this.conflicts = new Counter({
      name: "xianda_actor_conflicts_total",
      help: "State writes refused because the stored revision moved (another writer)",
      labelNames: ["type"],
      registers: r,
    });
    this.deadLetters = new Counter({
      name: "xianda_actor_dead_letters_total",
      help: "Commands that could not be routed to an actor, by reason",
      labelNames: ["reason"],
      registers: r,
    });
    this.timersFired = new Counter({
      name: "xianda_actor_timers_fired_total",
      help: "Reminders delivered",
      registers: r,
    });
    this.activeActors = new Gauge({
      name: "xianda_actor_active",
      help: "Activations held in memory",
      registers: r,
    });
    this.partitionsHeld = new Gauge({
      name: "xianda_actor_partitions_held",
      help: "Partitions this host holds a lease on",
      registers: r,
    });
    this.leaseEvents = new Counter({
      name: "xianda_actor_lease_events_total",
      help: "Lease acquisitions, releases and losses",
      labelNames: ["event"],
      registers: r,
    });
  }
}
