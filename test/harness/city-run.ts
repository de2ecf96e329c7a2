/**
 * The simulated city on a deployment of real processes, for the soak benchmark and the fault
 * suite: a nats-server, Postgres and Redis of its own (so they can be stopped without touching
 * anybody else's), N actor hosts (`bin/host.ts`: actors, tracker, telemetry bridge), M gateways
 * (`bin/gateway.ts`) and a projector (`bin/projector.ts`), each a child process that can be
 * SIGKILLed; the city (sim/city) drives gateway 0 as the shops, stores, couriers and vans do,
 * and a probe load (probes.ts) keeps acknowledged commands flowing through every partition.
 *
 * At the end, `settle` stops new orders and lets the city drain, and `audit` collects the event
 * history, the actors' states and Postgres and judges them (audit.ts).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import * as hdr from "hdr-histogram-js";
import { ActorClient } from "../../actors/index.ts";
import { loadSigner } from "../../coldchain/index.ts";
import { migrate, openDatabase, schema } from "../../db/index.ts";
import type { DatabaseHandle } from "../../db/index.ts";
import { signToken } from "../../gateway/index.ts";
import { connectNats, ensureTopology, Topology } from "../../nats/index.ts";
import type { EventEnvelope, TokenClaims } from "../../protocol/index.ts";
import { actorCityAdmin } from "../../bin/demo-flows.ts";
import { cityByName, CityWorld, simClock, todayAt } from "../../sim/city/index.ts";
import type { DeliveredOrder, PlacedOrder, TokenRequest } from "../../sim/city/index.ts";
import { natsTransport } from "../../sim/van.ts";
import { startHost } from "../hosts.ts";
import type { HostProcess } from "../hosts.ts";
import { startPrivateNats } from "../nats-server.ts";
import type { PrivateNats } from "../nats-server.ts";
import { audit } from "./audit.ts";
import type { AuditReport, OrderFinal } from "./audit.ts";
import { startGateway, startProjector, stopProcess } from "./processes.ts";
import type { ServiceProcess } from "./processes.ts";
import { ProbeLoad } from "./probes.ts";
import { startPrivatePostgres, startPrivateRedis } from "./services.ts";
import type { PrivateService } from "./services.ts";

export interface CityRunOptions {
  /** Names the namespace and the processes. */
  readonly name: string;
  /** Ports of the run's own servers. */
  readonly ports: { readonly nats: number; readonly postgres: number; readonly redis: number };
  readonly city?: string;
  readonly couriers?: number;
  readonly vans?: number;
  /** Simulated time ÷ wall time. Default 1. */
  readonly speedup?: number;
  /** HH:MM (Asia/Shanghai) where the simulated day starts. Default now. */
  readonly start?: string;
  readonly seed?: number;
  /** Orders on a dry day; default the world's (40 per courier). */
  readonly dailyOrders?: number;
  readonly minOrdersPerMinute?: number;
  readonly hosts?: number;
  readonly gateways?: number;
  readonly partitions?: number;
  /** Probe commands per partition per second. Default 5. */
  readonly probeRate?: number;
  /** The city's problems and summary lines. */
  readonly log?: (line: string) => void;
}

export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

const SECRET = "xianda-city-run-secret-0123456789abcdef";

function histogram() {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000 });
}

export function summarize(h: hdr.Histogram): LatencySummary {
  return {
    count: h.totalCount,
    p50: h.totalCount ? h.getValueAtPercentile(50) : 0,
    p99: h.totalCount ? h.getValueAtPercentile(99) : 0,
    max: h.totalCount ? h.maxValue : 0,
  };
}

export class CityRun {
  readonly topology: Topology;
  readonly hosts: HostProcess[] = [];
  readonly gateways: (ServiceProcess | null)[] = [];
  projector: ServiceProcess | null = null;
  nats!: PrivateNats;
  postgres!: PrivateService;
  redis!: PrivateService;
  nc!: NatsConnection;
  actors!: ActorClient;
  db!: DatabaseHandle;
  world!: CityWorld;
  probes!: ProbeLoad;
  /** Orders the gateway acknowledged, in order. */
  readonly placed: PlacedOrder[] = [];
  readonly delivered: DeliveredOrder[] = [];
  /** Every HTTP request the city made: wall ms, and when it succeeded (2xx/4xx answered). */
  readonly http = histogram();
  readonly httpAnswered: number[] = [];
  readonly httpFailed: number[] = [];
  readonly problems: string[] = [];
  startedAt = 0;
  readonly #o: CityRunOptions;
  readonly #dir: string;
  readonly #env: Record<string, string>;
  #hostSeq = 0;

  private constructor(o: CityRunOptions) {
    this.#o = o;
    this.topology = new Topology({
      namespace: o.name.replace(/[^a-z0-9]/g, "").slice(0, 16) || "run",
      partitions: o.partitions ?? 8,
    });
    this.#dir = mkdtempSync(join(tmpdir(), "xianda-run-"));
    this.#env = {};
  }

  static async start(o: CityRunOptions): Promise<CityRun> {
    const run = new CityRun(o);
    try {
      await run.#start();
    } catch (err) {
      await run.stop();
      throw err;
    }
    return run;
  }

  get env(): Record<string, string> {
    return this.#env;
  }

  async #start(): Promise<void> {
    const o = this.#o;
    [this.nats, this.postgres, this.redis] = await Promise.all([
      startPrivateNats(o.ports.nats),
      startPrivatePostgres(o.ports.postgres),
      startPrivateRedis(o.ports.redis),
    ]);
    this.db = await openDatabase({ url: this.postgres.url });
    await migrate(this.db);
    // One certificate key for the projector and the gateways (made here, before either reads it).
    const keyFile = join(this.#dir, "cert-key.pem");
    await loadSigner({ file: keyFile });
    Object.assign(this.#env, {
      NATS_URL: this.nats.url,
      XIANDA_NAMESPACE: this.topology.options.namespace,
      XIANDA_PARTITIONS: String(this.topology.options.partitions),
      XIANDA_AUTH_SECRET: SECRET,
      DATABASE_URL: this.postgres.url,
      REDIS_URL: this.redis.url,
      CERT_KEY_FILE: keyFile,
      CERT_SETTLE_MS: "2000",
      DATA_DIR: this.#dir,
    });
    this.nc = await connectNats({ servers: this.nats.url, name: `${o.name}-harness` });
    await ensureTopology(this.nc, this.topology);
    this.actors = new ActorClient({ nc: this.nc, topology: this.topology, callTimeoutMs: 10_000 });

    await Promise.all(Array.from({ length: o.hosts ?? 2 }, () => this.startHost()));
    for (let i = 0; i < (o.gateways ?? 2); i++) this.gateways.push(await this.startGateway(i));
    this.projector = await startProjector(`${o.name}-projector`, this.#env);

    this.probes = new ProbeLoad(this.actors, {
      prefix: "run",
      partitions: this.topology.options.partitions,
      everyMs: 1000 / (o.probeRate ?? 5),
    });
    this.probes.start();

    const city = cityByName(o.city ?? "kunming");
    const speedup = o.speedup ?? 1;
    const timedFetch: typeof fetch = async (input, init) => {
      const t0 = performance.now();
      try {
        const res = await fetch(input, init);
        this.http.recordValue(Math.max(1, Math.round(performance.now() - t0)));
        (res.status < 500 ? this.httpAnswered : this.httpFailed).push(Date.now());
        return res;
      } catch (err) {
        this.httpFailed.push(Date.now());
        throw err;
      }
    };
    this.world = new CityWorld({
      city,
      gateway: this.gatewayUrl(0),
      tokens: (claims, hours) => this.token(claims, hours),
      admin: actorCityAdmin(this.actors),
      couriers: o.couriers ?? 24,
      ...(o.vans !== undefined ? { vans: o.vans } : {}),
      clock: simClock({ speedup, ...(o.start ? { startAt: todayAt(o.start) } : {}) }),
      seed: o.seed ?? 1,
      ...(o.dailyOrders !== undefined ? { dailyOrders: o.dailyOrders } : {}),
      ...(o.minOrdersPerMinute !== undefined ? { minOrdersPerMinute: o.minOrdersPerMinute } : {}),
      vanTransport: natsTransport(this.nc, this.topology.subjects.namespace),
      fetch: timedFetch,
      // The run must not depend on the wall clock's hour (CI runs at night too).
      storesOpenAllDay: true,
      onOrder: (order) => this.placed.push(order),
      onDelivered: (d) => this.delivered.push(d),
      onProblem: (m) => {
        this.problems.push(`${new Date().toISOString()} ${m}`);
        o.log?.(`  problem: ${m}`);
      },
      ...(o.log ? { onSummary: (line: string) => o.log!(line), summaryEveryMs: 10_000 } : {}),
    });
    this.startedAt = Date.now();
    await this.world.start();
  }

  /** Another actor host (a replacement after a kill, say). */
  async startHost(): Promise<HostProcess> {
    const host = await startHost(`${this.#o.name}-h${++this.#hostSeq}`, {
      ...this.#env,
      LOG_LEVEL: "info",
    });
    this.hosts.push(host);
    return host;
  }

  async startGateway(i: number): Promise<ServiceProcess> {
    const gateway = await startGateway(`${this.#o.name}-gw${i}`, {
      ...this.#env,
      // The run's gateways log warnings only; the ready line is at info, so keep that.
      LOG_LEVEL: "info",
    });
    this.gateways[i] = gateway;
    return gateway;
  }

  gatewayUrl(i: number): string {
    const g = this.gateways[i];
    if (!g) throw new Error(`gateway ${i} is not running`);
    return `http://127.0.0.1:${g.ready}`;
  }

  token(claims: TokenRequest, hours = 12): Promise<string> {
    return signToken(
      { ...claims, exp: Math.floor(Date.now() / 1000) + hours * 3600 } as TokenClaims,
      SECRET,
    );
  }

  /** Live hosts (not killed). */
  liveHosts(): HostProcess[] {
    return this.hosts.filter((h) => h.child.exitCode === null && h.child.signalCode === null);
  }

  /** The host holding a partition's lease now. */
  async holderOf(partition: number): Promise<string | null> {
    const { leases } = await ensureTopology(this.nc, this.topology);
    const entry = await leases.get(this.topology.subjects.partitionLeaseKey(partition));
    return entry?.operation === "PUT" ? entry.json<{ holder: string | null }>().holder : null;
  }

  /**
   * No new orders; waits until each placed order has finished or `timeoutMs` has passed (the
   * rest stay in flight and are judged as such).
   */
  async drain(timeoutMs: number): Promise<void> {
    this.world.stopOrders();
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.delivered.length >= this.placed.length) return;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  /** Every event of the run's EVT stream, in stream order. */
  async events(): Promise<EventEnvelope[]> {
    const jsm = await jetstreamManager(this.nc);
    const info = await jsm.streams.info(this.topology.streams.events);
    const last = info.state.last_seq;
    const out: EventEnvelope[] = [];
    if (info.state.messages === 0) return out;
    const consumer = await jetstream(this.nc).consumers.get(this.topology.streams.events);
    const messages = await consumer.consume({ max_messages: 2048 });
    for await (const m of messages) {
      out.push(m.json<EventEnvelope>());
      if (m.seq >= last) break;
    }
    await messages.close();
    return out;
  }

  /** Pending messages of the projector's durable consumers (0: the projections caught up). */
  async projectionLag(): Promise<number> {
    const jsm = await jetstreamManager(this.nc);
    let pending = 0;
    for await (const c of jsm.consumers.list(this.topology.streams.events)) {
      if (c.name.includes("projector")) pending += c.num_pending + c.num_ack_pending;
    }
    return pending;
  }

  /** Waits for the projections to catch up; returns how long it took (ms). */
  async awaitProjections(timeoutMs = 60_000): Promise<number> {
    const t0 = Date.now();
    while (Date.now() - t0 < timeoutMs) {
      if ((await this.projectionLag().catch(() => 1)) === 0) return Date.now() - t0;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`projections still behind after ${timeoutMs} ms`);
  }

  /**
   * The invariants over the history, the actors' states and Postgres. With `quiesced`, the
   * end-state rules too; those are retried for up to `settleMs` (offers running out, timers
   * still firing after the load stopped).
   */
  async audit(options: { quiesced?: boolean; settleMs?: number } = {}): Promise<AuditReport> {
    const quiesced = options.quiesced ?? true;
    const deadline = Date.now() + (options.settleMs ?? 20_000);
    for (;;) {
      const report = await this.#auditOnce(quiesced);
      if (report.violations.length === 0 || Date.now() > deadline) return report;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  async #auditOnce(quiesced: boolean): Promise<AuditReport> {
    // Orders acknowledged before the history is read: each one's `created` is in it (the host
    // publishes a turn's events before its checkpoint passes, and answered it after the commit;
    // the event may trail the answer by a moment, so the running checks wait a little).
    const placedIds = this.placed.map((p) => p.orderId);
    if (!quiesced) await new Promise((r) => setTimeout(r, 2000));
    await this.awaitProjections();
    const events = await this.events();
    const orders = new Map<string, OrderFinal>();
    for (let i = 0; i < placedIds.length; i += 64) {
      const batch = placedIds.slice(i, i + 64);
      const views = await Promise.all(
        batch.map((id) =>
          this.actors
            .state<{ status: string; courierId: string | null } | null>({ type: "order", id })
            .catch(() => null),
        ),
      );
      batch.forEach((id, k) => {
        const v = views[k]?.view;
        if (v) orders.set(id, { status: v.status, courierId: v.courierId ?? null });
      });
    }
    const couriers = new Map<string, string[]>();
    for (const id of this.world.courierIds) {
      const { view } = await this.actors.state<{ jobs?: Record<string, unknown> }>({
        type: "courier",
        id,
      });
      couriers.set(id, Object.keys(view?.jobs ?? {}));
    }
    const { view: market } = await this.actors.state<{
      orders?: Record<string, unknown>;
      offers?: Record<string, unknown>;
    }>({ type: "market", id: this.world.marketId });
    const waiting = new Set([
      ...Object.keys(market?.orders ?? {}),
      ...Object.keys(market?.offers ?? {}),
    ]);
    const readings = await this.db.db
      .select({
        seq: schema.temperatureReadings.streamSeq,
        part: schema.temperatureReadings.streamPart,
      })
      .from(schema.temperatureReadings);
    const certs = await this.db.db
      .select({ orderId: schema.certificates.orderId })
      .from(schema.certificates);
    return audit({
      events,
      placed: placedIds,
      orders,
      couriers,
      waiting,
      storedReadings: new Set(readings.map((r) => `${r.seq}.${r.part}`)),
      certificates: new Set(certs.map((c) => c.orderId)),
      quiesced,
    });
  }

  /** Latencies from the history: order placed → first offer, and placed → delivered (wall ms). */
  static orderLatencies(events: readonly EventEnvelope[]): {
    toOffer: LatencySummary;
    toDoor: LatencySummary;
  } {
    const created = new Map<string, number>();
    const offered = new Set<string>();
    const toOffer = histogram();
    const toDoor = histogram();
    for (const e of events) {
      if (e.actor.type !== "order") continue;
      if (e.name === "created") created.set(e.actor.id, e.at);
      else if ((e.name === "offered" || e.name === "assigned") && !offered.has(e.actor.id)) {
        offered.add(e.actor.id);
        const t0 = created.get(e.actor.id);
        if (t0 !== undefined) toOffer.recordValue(Math.max(1, e.at - t0));
      } else if (e.name === "delivered") {
        const t0 = created.get(e.actor.id);
        if (t0 !== undefined) toDoor.recordValue(Math.max(1, e.at - t0));
      }
    }
    return { toOffer: summarize(toOffer), toDoor: summarize(toDoor) };
  }

  async stop(): Promise<void> {
    await this.probes?.stop().catch(() => {});
    await this.world?.stop().catch(() => {});
    this.actors?.close();
    await Promise.all([
      ...this.gateways.filter((g): g is ServiceProcess => g !== null).map((g) => stopProcess(g)),
      ...(this.projector ? [stopProcess(this.projector)] : []),
    ]);
    await Promise.all(this.hosts.map((h) => stopProcess(h)));
    await this.db?.close().catch(() => {});
    await this.nc?.close().catch(() => {});
    await Promise.allSettled([
      this.nats?.destroy(),
      this.postgres?.destroy(),
      this.redis?.destroy(),
    ]);
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
