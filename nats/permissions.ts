/**
 * What each xianda service may publish and subscribe to on NATS: the least privilege each one
 * needs, derived from the topology's names (so a namespace moves every subject with it).
 *
 * Found by reading the code and checked by running every service under these permissions
 * (`test/security/nats-permissions.test.ts`, which fails on any permission violation the server
 * logs during normal flows). The JetStream API subjects are those @nats-io/jetstream 3.4 uses
 * against nats-server 2.9:
 *
 *   $JS.API.INFO                                   account info (every JetStream client at start)
 *   $JS.API.STREAM.INFO.<stream>                   checking the topology, binding a KV bucket
 *   $JS.API.CONSUMER.CREATE.<stream>.<name>.<filter>  an ordered consumer (random name) or a
 *                                                  named durable with one filter
 *   $JS.API.CONSUMER.{INFO,DELETE,MSG.NEXT}.<stream>.<name>   using and resetting it
 *   $JS.ACK.<stream>.<consumer>.>                  acknowledging (durables with explicit acks)
 *   $JS.API.DIRECT.GET.<stream>[.<subject>]        direct get (PUSH; KV buckets with allow_direct)
 *   $JS.API.STREAM.MSG.GET.<stream>                get by sequence or last by subject
 *   $KV.<bucket>.<key>                             KV put, create, update, delete and purge (all
 *                                                  are publishes: withholding it withholds all)
 *   _INBOX.>                                       replies: PubAcks, API answers, outcomes
 *
 * Nothing here may manage streams (create, update, delete, purge) except `admin`, the ops tool's
 * user: services run with `XIANDA_TOPOLOGY=check` and `npm run nats:setup` applies the topology.
 */
import { TOPOLOGY_KEY } from "./topology.ts";
import type { Topology } from "./topology.ts";

export interface SubjectPermission {
  readonly allow: readonly string[];
  readonly deny?: readonly string[];
}

export interface RolePermissions {
  readonly pub: SubjectPermission;
  readonly sub: SubjectPermission;
}

/** The NATS users of one deployment, by what runs with them. */
export const SERVICE_ROLES = [
  "host",
  "tracker",
  "bridge",
  "gateway",
  "projector",
  "admin",
] as const;
export type ServiceRole = (typeof SERVICE_ROLES)[number];

/** The projector's durable consumers on EVT (`projector/projector.ts`, default name). */
const PROJECTOR_KINDS = ["orders", "readings", "exc_start", "exc_end", "certs", "audit"] as const;
/** The webhook service's durable consumer on EVT (`gateway/webhooks/service.ts`). */
const WEBHOOK_CONSUMER = "webhooks";

const API = "$JS.API";
const INBOX = "_INBOX.>";

/** Reading a stream in order with ordered consumers (created, reset, pulled from). */
function orderedConsumers(stream: string): string[] {
  return [
    `${API}.CONSUMER.CREATE.${stream}.>`,
    `${API}.CONSUMER.DELETE.${stream}.>`,
    `${API}.CONSUMER.INFO.${stream}.>`,
    `${API}.CONSUMER.MSG.NEXT.${stream}.>`,
  ];
}

/** One named durable consumer with explicit acks, which the service creates if it is missing. */
function durableConsumer(stream: string, name: string): string[] {
  return [
    `${API}.CONSUMER.CREATE.${stream}.${name}.>`,
    `${API}.CONSUMER.DURABLE.CREATE.${stream}.${name}`,
    `${API}.CONSUMER.INFO.${stream}.${name}`,
    `${API}.CONSUMER.MSG.NEXT.${stream}.${name}`,
    `$JS.ACK.${stream}.${name}.>`,
  ];
}

/** Reading a KV bucket: get (direct or by the stream API), keys and watch. */
function kvRead(bucket: string): string[] {
  const stream = `KV_${bucket}`;
  return [
    `${API}.STREAM.INFO.${stream}`,
    `${API}.DIRECT.GET.${stream}`,
    `${API}.DIRECT.GET.${stream}.>`,
    `${API}.STREAM.MSG.GET.${stream}`,
    ...orderedConsumers(stream),
  ];
}

/** Writing a KV bucket (every write, delete and purge is a publish to `$KV.<bucket>.<key>`). */
function kvWrite(bucket: string, key = ">"): string[] {
  return [`$KV.${bucket}.${key}`];
}

/** The permissions of each service role in a deployment with this topology. */
export function servicePermissions(topology: Topology): Record<ServiceRole, RolePermissions> {
  const s = topology.subjects;
  const p = s.namespace === "" ? "" : `${s.namespace}.`;
  const streams = topology.streams;
  const buckets = topology.buckets;
  const streamInfo = [
    ...Object.values(streams).map((name) => `${API}.STREAM.INFO.${name}`),
    ...Object.values(buckets).map((b) => `${API}.STREAM.INFO.KV_${b}`),
  ];
  // Every JetStream client asks for the account's info and reads the topology at start.
  const jsBase = [
    `${API}.INFO`,
    ...streamInfo,
    // The partition count pinned in the leases bucket: every service checks it.
    `${API}.DIRECT.GET.KV_${buckets.leases}.$KV.${buckets.leases}.${TOPOLOGY_KEY}`,
  ];
  // What no service may do, stated outright so that a wider allow added later cannot grant it.
  const manage = [
    `${API}.STREAM.CREATE.>`,
    `${API}.STREAM.UPDATE.>`,
    `${API}.STREAM.DELETE.>`,
    `${API}.STREAM.PURGE.>`,
    `${API}.STREAM.MSG.DELETE.>`,
    `${API}.STREAM.RESTORE.>`,
    `${API}.STREAM.SNAPSHOT.>`,
    `${API}.ACCOUNT.>`,
    `${API}.META.>`,
    `${API}.SERVER.>`,
  ];
  const stateWrites = [buckets.actors, buckets.timers].flatMap((b) => kvWrite(b));
  const projectorName = (kind: string) =>
    `${s.namespace ? `${s.namespace}_` : ""}projector_${kind}`;

  return {
    // The actor runtime: reads its partitions' commands, writes actor records, reminders and
    // leases, publishes outboxes (events, commands) and dead letters, answers queries.
    host: {
      pub: {
        allow: [
          ...jsBase,
          ...orderedConsumers(streams.commands),
          ...kvRead(buckets.actors),
          ...kvRead(buckets.timers),
          ...kvRead(buckets.leases),
          ...kvWrite(buckets.actors),
          ...kvWrite(buckets.timers),
          ...kvWrite(buckets.leases),
          ...s.commandStream,
          ...s.eventStream,
          ...s.dlqStream,
          // Outcomes go to the sender's inbox, answers to queries to their reply subject.
          INBOX,
        ],
        deny: manage,
      },
      sub: { allow: [INBOX, `${p}qry.>`] },
    },
    // The live side: fixes in, push frames out, courier positions to markets, order and
    // cold-chain events replayed from EVT, last positions in their bucket.
    tracker: {
      pub: {
        allow: [
          ...jsBase,
          ...orderedConsumers(streams.events),
          ...kvRead(buckets.positions),
          ...kvWrite(buckets.positions),
          ...s.pushStream,
          ...s.commandStream,
          `${p}qry.>`,
        ],
        deny: [...manage, ...stateWrites, ...kvWrite(buckets.leases)],
      },
      sub: { allow: [INBOX, s.courierLocationFilter, s.courierFixBatch()] },
    },
    // TELEMETRY in order → `readings` commands to vehicles; its checkpoint is one leases key.
    bridge: {
      pub: {
        allow: [
          ...jsBase,
          ...orderedConsumers(streams.telemetry),
          ...kvRead(buckets.leases),
          ...kvWrite(buckets.leases, "telemetry.checkpoint"),
          ...s.commandStream,
        ],
        deny: [...manage, ...stateWrites],
      },
      sub: { allow: [INBOX] },
    },
    // The edge: sends commands and asks actors, reads the PUSH stream (ordered consumer and
    // direct gets), an order's `created` event, a courier's last position; stores phone-logger
    // readings and forwards fixes. It writes no actor state and manages nothing.
    gateway: {
      pub: {
        allow: [
          ...jsBase,
          ...s.commandStream,
          `${p}qry.>`,
          ...orderedConsumers(streams.push),
          `${API}.DIRECT.GET.${streams.push}`,
          `${API}.DIRECT.GET.${streams.push}.>`,
          `${API}.STREAM.MSG.GET.${streams.events}`,
          ...kvRead(buckets.positions),
          s.vehicleTemperature("*"),
          s.courierFixBatch(),
          // The webhook service (one gateway with WEBHOOKS_FILE): its own durable consumer on
          // order events and its dead-letter bucket (created by `npm run nats:setup`).
          ...durableConsumer(streams.events, WEBHOOK_CONSUMER),
          ...kvRead(deadLetterBucket(topology)),
          ...kvWrite(deadLetterBucket(topology)),
        ],
        deny: [
          ...manage,
          ...stateWrites,
          ...kvWrite(buckets.leases),
          ...kvWrite(buckets.positions),
          ...s.eventStream,
          ...s.dlqStream,
          ...s.pushStream,
        ],
      },
      sub: { allow: [INBOX] },
    },
    // Cold-chain evidence into Postgres: its own durable consumers on EVT, and an actor's
    // view when it builds a certificate.
    projector: {
      pub: {
        allow: [
          ...jsBase,
          ...PROJECTOR_KINDS.flatMap((kind) =>
            durableConsumer(streams.events, projectorName(kind)),
          ),
          `${p}qry.>`,
        ],
        deny: [...manage, ...stateWrites, ...s.commandStream],
      },
      sub: { allow: [INBOX] },
    },
    // The ops tool (`npm run nats:setup`, `nats` CLI): everything in the account.
    admin: {
      pub: { allow: [">"] },
      sub: { allow: [">"] },
    },
  };
}

/**
 * A van's logger: its own vehicle's telemetry subject and nothing else. `{{name()}}` is the
 * user's name, which the generator sets to the vehicle id (a permission template: the server
 * expands it per user, nats-server 2.9+).
 */
export function sensorPermissions(topology: Topology): RolePermissions {
  return {
    pub: { allow: [topology.subjects.vehicleTemperature("{{name()}}")] },
    sub: { allow: [] },
  };
}

/** The webhook service's dead-letter bucket (`gateway/webhooks/dead-letters.ts`). */
export function deadLetterBucket(topology: Topology): string {
  const ns = topology.options.namespace;
  return ns ? `${ns}_webhook_dead` : "webhook_dead";
}
