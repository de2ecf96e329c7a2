/**
 * The projector: orders and cold-chain evidence from the EVT stream into Postgres, and a
 * certificate for every delivered chilled or frozen order.
 *
 *   evt.order.>                      → order_events (key: event id), orders (one row per order,
 *                                      from `created`; status from the latest status event,
 *                                      guarded by its stream sequence), audit_log (an admin's
 *                                      `contact_revealed`)
 *   evt.vehicle.*.readings_recorded  → temperature_readings (key: the TELEMETRY sequence)
 *   evt.vehicle.*.excursion_started  → excursions (key: vehicle, compartment, kind, start)
 *   evt.vehicle.*.excursion_ended    → excursions (fills the end)
 *   evt.order.*.delivered            → certificates (once per order), signed
 *   evt.>, by a dispatcher or admin  → audit_log (key: event id): every operator action that
 *                                      changed something, with its reason
 *
 * Each is a durable pull consumer with explicit acks (nats-server 2.9 takes one filter per
 * consumer), acknowledged only after the rows are written, so a projector that dies or a
 * database that is down loses nothing: the messages come again and every write is idempotent.
 * Several projectors may run; they share the consumers' work.
 *
 * A certificate waits until the readings up to the delivery have come through: it is built
 * `settleMs` after the delivery (the bridge's and the vehicle's lag) and once the readings
 * consumer has nothing pending, from the rows in Postgres — the evidence it certifies.
 */
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { ConsumerMessages, JetStreamManager, JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { Counter, Gauge, Registry } from "prom-client";
import type { ActorClient } from "../actors/index.ts";
import { buildCertificate, CertificateInputError } from "../coldchain/index.ts";
import type { CertificateInput, CertificateSigner } from "../coldchain/index.ts";
import {
  appendAudit,
  insertCertificate,
  insertOrderEvents,
  insertOrders,
  insertTemperatureReadings,
  latestOrderEvents,
  setOrderStatus,
  setOrderTimes,
  lastReadingBefore,
  listExcursions,
  listReadings,
  upsertExcursion,
} from "../db/index.ts";
import type {
  Database,
  NewAuditEntry,
  NewOrder,
  NewOrderEvent,
  NewTemperatureReading,
} from "../db/index.ts";
import type { Topology } from "../nats/index.ts";
import { EventEnvelope } from "../protocol/envelope.ts";

export interface ProjectorOptions {
  readonly nc: NatsConnection;
  readonly topology: Topology;
  readonly db: Database;
  /** Reads the vehicle's compartment (class and range) when certifying. */
  readonly actors: ActorClient;
  readonly signer: CertificateSigner;
  readonly log: Logger;
  readonly registry?: Registry;
  /** How long after a delivery its certificate is built (ms). Default 5,000. */
  readonly settleMs?: number;
  /** Consumer name prefix (tests run several deployments on one server). Default "projector". */
  readonly name?: string;
}

interface RecordedReading {
  seq: number;
  part?: number;
  compartmentId: string;
  celsius: number;
  at: number;
  doorOpen: boolean;
}

interface DeliveredColdChain {
  vehicleId: string;
  compartmentId: string;
  loadedAt: number;
}

/** The delivered order cannot be certified from what is known of it. */
export class UncertifiableError extends Error {
  override name = "UncertifiableError";
}

/**
 * The order events that move an order's row on from `placed`, and its status after each (`pool`: waiting
 * for a courier, `ready` once the food is, else `confirmed`; `reassign`: pool or assigned, by
 * whether it names a courier). Preparing, ready, holds and locks do not move the status.
 */
const STATUS_OF: Readonly<Record<string, NewOrder["status"] | "pool" | "reassign">> = {
  // Not `created`: the row starts as `placed`, and a replayed `created` must not reset it.
  accepted: "pool",
  offered: "pool",
  offer_declined: "pool",
  offer_expired: "pool",
  offer_withdrawn: "pool",
  assigned: "assigned",
  reassigned: "reassign",
  courier_released: "pool",
  courier_arrived_at_store: "assigned",
  picked_up: "picked_up",
  courier_arrived_at_customer: "picked_up",
  // A wave order on its pickup point's shelf: out of the van, not yet with the shopper.
  at_pickup_point: "picked_up",
  delivered: "delivered",
  delivery_failed: "failed",
  returned: "failed",
  cancelled: "cancelled",
};
const STATUS_EVENTS = Object.keys(STATUS_OF);

/** What `created` carries for the row (actors/order/logic.ts), the contact as ciphertext. */
interface CreatedData {
  storeId: string;
  marketId: string;
  shopOrderId: string;
  temperatureClass: NewOrder["temperatureClass"];
  promisedAt: number;
  amounts?: { goodsFen: number; deliveryFeeFen: number; discountFen: number; totalFen: number };
  dropoff?: {
    kind: "door" | "pickup_point";
    location: { lat: number; lng: number };
    pickupPointId?: string;
  };
  contact?: {
    name: string;
    phone: string;
    address: string | null;
    doorNote: string | null;
  } | null;
}

/** The event's data as order_events keeps it: without the contact, which the orders row holds. */
function withoutContact(data: unknown): Record<string, unknown> {
  if (data === null || typeof data !== "object") return {};
  const { contact: _ciphertext, ...rest } = data as Record<string, unknown>;
  return rest;
}

const nanos = (ms: number) => ms * 1_000_000;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class ProjectorMetrics {
  readonly readings: Counter;
  readonly excursions: Counter;
  readonly certificates: Counter<"verdict">;
  readonly failures: Counter<"consumer">;
  readonly certificateLagSeconds: Gauge;
  constructor(readonly registry: Registry = new Registry()) {
    const registers = [registry];
    this.readings = new Counter({
      name: "xianda_projector_readings_total",
      help: "Temperature readings written to Postgres (new rows)",
      registers,
    });
    this.excursions = new Counter({
      name: "xianda_projector_excursions_total",
      help: "Excursion starts and ends written to Postgres",
      registers,
    });
    this.certificates = new Counter({
      name: "xianda_projector_certificates_total",
      help: "Cold-chain certificates issued, by verdict",
      labelNames: ["verdict"],
      registers,
    });
    this.failures = new Counter({
      name: "xianda_projector_failures_total",
      help: "Batches not written (retried), by consumer",
      labelNames: ["consumer"],
      registers,
    });
    this.certificateLagSeconds = new Gauge({
      name: "xianda_projector_certificate_lag_seconds",
      help: "From the last certified delivery to its certificate",
      registers,
    });
  }
}

/** The order's row from its `created` event; null for events older than the row's fields. */
function orderRow(orderId: string, d: CreatedData, at: number, seq: number): NewOrder | null {
  const { amounts, dropoff } = d;
  if (!amounts || !dropoff) return null;
  const door = dropoff.kind === "door";
  return {
    id: orderId,
    shopOrderId: d.shopOrderId,
    storeId: d.storeId,
    marketId: d.marketId,
    status: "placed",
    statusSeq: seq,
    temperatureClass: d.temperatureClass,
    shopperNameEnc: d.contact?.name ?? null,
    shopperPhoneEnc: d.contact?.phone ?? null,
    shopperAddressEnc: d.contact?.address ?? null,
    shopperDoorNoteEnc: d.contact?.doorNote ?? null,
    dropoffLat: door ? dropoff.location.lat : null,
    dropoffLng: door ? dropoff.location.lng : null,
    pickupPointId: door ? null : (dropoff.pickupPointId ?? null),
    ...amounts,
    placedAt: new Date(at),
    promisedAt: new Date(d.promisedAt),
  };
}

export class Projector {
  readonly metrics: ProjectorMetrics;
  readonly #o: ProjectorOptions;
  readonly #settleMs: number;
  readonly #streams: ConsumerMessages[] = [];
  readonly #loops: Promise<void>[] = [];
  #jsm: JetStreamManager | null = null;
  #stopping = false;

  constructor(options: ProjectorOptions) {
    this.#o = options;
    this.#settleMs = options.settleMs ?? 5000;
    this.metrics = new ProjectorMetrics(options.registry);
  }

  #durable(kind: string): string {
    const ns = this.#o.topology.subjects.namespace;
    return `${ns ? `${ns}_` : ""}${this.#o.name ?? "projector"}_${kind}`;
  }

  async start(): Promise<void> {
    const subjects = this.#o.topology.subjects;
    this.#jsm = await jetstreamManager(this.#o.nc);
    await this.#follow("orders", subjects.eventFilter("order"), 256, (ms) => this.#orders(ms));
    await this.#follow(
      "readings",
      subjects.eventsNamed("vehicle", "readings_recorded"),
      512,
      (ms) => this.#readings(ms),
    );
    await this.#follow(
      "exc_start",
      subjects.eventsNamed("vehicle", "excursion_started"),
      64,
      (ms) => this.#excursions(ms),
    );
    await this.#follow("exc_end", subjects.eventsNamed("vehicle", "excursion_ended"), 64, (ms) =>
      this.#excursions(ms),
    );
    await this.#follow("audit", subjects.eventStream[0]!, 512, (ms) => this.#audit(ms));
    await this.#follow("certs", subjects.eventsNamed("order", "delivered"), 16, (ms) =>
      this.#certificates(ms),
    );
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    for (const s of this.#streams) await s.close();
    await Promise.allSettled(this.#loops);
  }

  /** A durable consumer, read in batches; `handle` writes a batch, then it is acknowledged. */
  async #follow(
    kind: string,
    filter: string,
    batch: number,
    handle: (ms: JsMsg[]) => Promise<void>,
  ): Promise<void> {
    const stream = this.#o.topology.streams.events;
    const durable = this.#durable(kind);
    try {
      await this.#jsm!.consumers.info(stream, durable);
    } catch {
      await this.#jsm!.consumers.add(stream, {
        durable_name: durable,
        description: `xianda: projector (${kind})`,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        filter_subject: filter,
        // An ack sent while the connection is down is lost, and the message stays pending until
        // this runs out (then comes again: every write is idempotent). Short, so a nats-server
        // restart leaves the projections looking behind for seconds, not a minute.
        ack_wait: nanos(15_000),
        max_ack_pending: 20_000,
        max_deliver: -1,
      });
    }
    const consumer = await jetstream(this.#o.nc).consumers.get(stream, durable);
    const messages = await consumer.consume({ max_messages: batch });
    this.#streams.push(messages);
    this.#loops.push(
      (async () => {
        // Gather what has arrived into one write: a reading a second from 2,000 vans is a few
        // hundred events a second, written as a few INSERTs.
        let pending: JsMsg[] = [];
        let flushing: Promise<void> | null = null;
        const flush = async () => {
          while (pending.length > 0) {
            const take = pending;
            pending = [];
            for (let attempt = 1; !this.#stopping; attempt++) {
              try {
                await handle(take);
                for (const m of take) m.ack();
                break;
              } catch (err) {
                this.metrics.failures.inc({ consumer: kind });
                this.#o.log.warn({ err, kind, attempt }, "projection failed; retrying");
                await sleep(Math.min(5000, 200 * 2 ** attempt));
              }
            }
          }
          flushing = null;
        };
        for await (const m of messages) {
          pending.push(m);
          if (flushing === null) flushing = flush();
        }
        await (flushing ?? Promise.resolve());
      })(),
    );
  }

  /**
   * Order events: every one into order_events; `created` makes the order's row (with the
   * shopper's contact as the gateway encrypted it); the row's status follows the latest status
   * event in order_events, so batches written out of order by several projectors converge.
   */
  async #orders(ms: JsMsg[]): Promise<void> {
    const events: NewOrderEvent[] = [];
    const rows: NewOrder[] = [];
    const audits: NewAuditEntry[] = [];
    const touched = new Set<string>();
    const times = new Map<string, { readyAt?: Date; deliveredAt?: Date }>();
    for (const m of ms) {
      const e = EventEnvelope.safeParse(m.json());
      if (!e.success || e.data.actor.type !== "order") continue;
      const { id: eventId, name, at } = e.data;
      const orderId = e.data.actor.id;
      const seq = m.info.streamSequence;
      events.push({
        eventId,
        orderId,
        name,
        data: withoutContact(e.data.data),
        at: new Date(at),
        streamSeq: seq,
      });
      if (name === "created") {
        const row = orderRow(orderId, e.data.data as CreatedData, at, seq);
        // Orders created before `created` carried the drop-off and amounts get no row.
        if (row) rows.push(row);
      }
      // A `created` projected after later events (another projector's batch) takes their status.
      if (name in STATUS_OF || name === "ready" || name === "created") touched.add(orderId);
      if (name === "ready" || name === "delivered") {
        const t = times.get(orderId) ?? {};
        if (name === "ready")
          t.readyAt = new Date((e.data.data as { readyAt?: number }).readyAt ?? at);
        else t.deliveredAt = new Date(at);
        times.set(orderId, t);
      }
      if (name === "contact_revealed") {
        const d = e.data.data as { reason?: string; fields?: string[] };
        audits.push({
          at: new Date(at),
          actorRole: e.data.by?.role ?? "system",
          actorId: e.data.by?.id ?? "unknown",
          action: "order.contact_reveal",
          target: `order/${orderId}`,
          reason: d.reason ?? null,
          data: { fields: d.fields ?? [], commandId: e.data.commandId },
          eventId,
        });
      }
    }
    const db = this.#o.db;
    await insertOrderEvents(db, events);
    await insertOrders(db, rows);
    for (const [orderId, t] of times) await setOrderTimes(db, orderId, t);
    for (const latest of await latestOrderEvents(db, [...touched], STATUS_EVENTS)) {
      const to = STATUS_OF[latest.name]!;
      const status =
        to === "reassign"
          ? (latest.data as { courierId?: string | null }).courierId
            ? "assigned"
            : "pool"
          : to;
      await setOrderStatus(db, latest.orderId, latest.streamSeq, status);
    }
    for (const a of audits) await appendAudit(db, a);
  }

  /**
   * Every event a dispatcher's or an admin's command caused, as an audit entry: `<type>.<event>`
   * on `<type>/<id>`, the reason when the command gave one. Refused commands change nothing and
   * leave no event (the gateway's log has them).
   */
  async #audit(ms: JsMsg[]): Promise<void> {
    for (const m of ms) {
      const e = EventEnvelope.safeParse(m.json());
      if (!e.success) continue;
      const { by, actor, name, data, id, at, commandId } = e.data;
      if (by?.role !== "dispatcher" && by?.role !== "admin") continue;
      const d = (data ?? {}) as Record<string, unknown>;
      await appendAudit(this.#o.db, {
        at: new Date(at),
        actorRole: by.role,
        actorId: by.id,
        action: name === "contact_revealed" ? "order.contact_reveal" : `${actor.type}.${name}`,
        target: `${actor.type}/${actor.id}`,
        reason: typeof d.reason === "string" ? d.reason : null,
        data:
          name === "contact_revealed"
            ? { fields: d.fields ?? [], commandId }
            : { ...withoutContact(d), commandId },
        eventId: id,
      });
    }
  }

  async #readings(ms: JsMsg[]): Promise<void> {
    const rows: NewTemperatureReading[] = [];
    for (const m of ms) {
      const e = EventEnvelope.safeParse(m.json());
      if (!e.success) continue;
      const data = e.data.data as { readings?: RecordedReading[] };
      for (const r of data.readings ?? []) {
        rows.push({
          vehicleId: e.data.actor.id,
          compartmentId: r.compartmentId,
          readAt: new Date(r.at),
          celsius: r.celsius,
          doorOpen: r.doorOpen,
          streamSeq: r.seq,
          streamPart: r.part ?? 0,
        });
      }
    }
    if (rows.length > 0)
      this.metrics.readings.inc(await insertTemperatureReadings(this.#o.db, rows));
  }

  async #excursions(ms: JsMsg[]): Promise<void> {
    for (const m of ms) {
      const e = EventEnvelope.safeParse(m.json());
      if (!e.success) continue;
      const d = e.data.data as {
        compartmentId: string;
        kind: "temperature" | "sensor_silent";
        startedAt: number;
        endedAt?: number;
        peakC?: number;
      };
      const kind = d.kind === "temperature" ? "out_of_range" : "sensor_silent";
      await upsertExcursion(this.#o.db, {
        id: `${e.data.actor.id}/${d.compartmentId}/${kind}/${d.startedAt}`,
        vehicleId: e.data.actor.id,
        compartmentId: d.compartmentId,
        kind,
        startedAt: new Date(d.startedAt),
        endedAt: d.endedAt === undefined ? null : new Date(d.endedAt),
        peakC: d.peakC ?? null,
      });
      this.metrics.excursions.inc();
    }
  }

  async #certificates(ms: JsMsg[]): Promise<void> {
    for (const m of ms) {
      const e = EventEnvelope.safeParse(m.json());
      if (!e.success) continue;
      const d = e.data.data as {
        orderId?: string;
        temperatureClass?: string;
        coldChain?: DeliveredColdChain | null;
      };
      const cls = d.temperatureClass;
      if ((cls !== "chilled" && cls !== "frozen") || !d.coldChain) continue;
      const orderId = d.orderId ?? e.data.actor.id;
      try {
        await this.#certify(orderId, cls, d.coldChain, e.data.at);
      } catch (err) {
        // Evidence that cannot make a certificate (no such compartment, readings that break
        // the certificate's rules) will not make one on retry either: say so and go on.
        // Anything else (database, NATS) is retried with the batch.
        if (!(err instanceof CertificateInputError || err instanceof UncertifiableError)) throw err;
        this.metrics.certificates.inc({ verdict: "failed" });
        this.#o.log.error({ err, orderId }, "no certificate for this delivered order");
      }
    }
  }

  /** Waits for the evidence up to `deliveredAt` to be in Postgres, then issues and stores. */
  async #certify(
    orderId: string,
    temperatureClass: "chilled" | "frozen",
    cold: DeliveredColdChain,
    deliveredAt: number,
  ): Promise<void> {
    const wait = deliveredAt + this.#settleMs - Date.now();
    if (wait > 0) await sleep(wait);
    await this.#readingsCaughtUp();
    const compartment = await this.#compartment(cold.vehicleId, cold.compartmentId);
    const db = this.#o.db;
    const window = { from: new Date(cold.loadedAt), to: new Date(deliveredAt) };
    const before = await lastReadingBefore(db, cold.vehicleId, cold.compartmentId, window.from);
    const during = await listReadings(db, {
      vehicleId: cold.vehicleId,
      compartmentId: cold.compartmentId,
      ...window,
      limit: 100_000,
    });
    const excursions = await listExcursions(db, {
      vehicleId: cold.vehicleId,
      compartmentId: cold.compartmentId,
      ...window,
    });
    const input: CertificateInput = {
      orderId,
      temperatureClass,
      vehicleId: cold.vehicleId,
      compartmentId: cold.compartmentId,
      compartmentClass: compartment.class,
      range: { minC: compartment.minC, maxC: compartment.maxC },
      handedOffAt: cold.loadedAt,
      deliveredAt,
      readings: [...(before ? [before] : []), ...during].map((r) => ({
        seq: r.streamSeq,
        ...(r.streamPart ? { part: r.streamPart } : {}),
        at: r.readAt.getTime(),
        celsius: r.celsius,
        doorOpen: r.doorOpen,
      })),
      excursions: excursions.map((x) => ({
        kind: x.kind === "out_of_range" ? "temperature" : "sensor_silent",
        startedAt: x.startedAt.getTime(),
        endedAt: x.endedAt?.getTime() ?? null,
        peakC: x.peakC,
      })),
    };
    const certificate = await buildCertificate(input, this.#o.signer);
    const issued = await insertCertificate(db, {
      orderId,
      vehicleId: cold.vehicleId,
      issuedAt: new Date(certificate.issuedAt),
      finalHash: certificate.chain.finalHash,
      signature: certificate.signature.jws,
      document: certificate as unknown as Record<string, unknown>,
    });
    if (issued) {
      this.metrics.certificates.inc({ verdict: certificate.summary.verdict });
      this.metrics.certificateLagSeconds.set((Date.now() - deliveredAt) / 1000);
      this.#o.log.info(
        { orderId, readings: input.readings.length, verdict: certificate.summary.verdict },
        "cold-chain certificate issued",
      );
    }
  }

  /** Until the readings consumer has nothing pending (or 30 s: then what is there is certified). */
  async #readingsCaughtUp(): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !this.#stopping) {
      const info = await this.#jsm!.consumers.info(
        this.#o.topology.streams.events,
        this.#durable("readings"),
      );
      if (info.num_pending === 0 && info.num_ack_pending === 0) return;
      await sleep(100);
    }
  }

  async #compartment(
    vehicleId: string,
    compartmentId: string,
  ): Promise<{
    class: "frozen" | "chilled" | "custom" | "ambient";
    minC: number | null;
    maxC: number | null;
  }> {
    const { view } = await this.#o.actors.state<{
      compartments: {
        id: string;
        class: "frozen" | "chilled" | "custom" | "ambient";
        minC: number | null;
        maxC: number | null;
      }[];
    }>({ type: "vehicle", id: vehicleId });
    const c = view.compartments?.find((x) => x.id === compartmentId);
    if (!c)
      throw new UncertifiableError(
        `vehicle ${vehicleId} has no compartment ${compartmentId} to certify`,
      );
    return c;
  }
}
