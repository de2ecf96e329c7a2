/**
 * Every NATS subject and KV key xianda uses, one builder per family. Call sites never
 * concatenate subjects themselves, so the topology can change in one place.
 *
 *   cmd.<partition>.<type>.<id>        commands for an actor (stream CMD)
 *   evt.<type>.<id>.<name>             events an actor emitted (stream EVT)
 *   qry.<partition>.<type>.<id>        request/reply: an actor's state or a command's outcome
 *   dlq.<partition>                    commands the runtime could not route (stream DLQ)
 *   fleet.vehicle.<id>.temp            van sensor readings, from MQTT (stream TELEMETRY)
 *   loc.courier.<id>                   live courier location (core NATS)
 *   push.<kind>.<id>                   live fan-out to gateways (core NATS)
 *
 * With a namespace `ns` every subject above starts with `ns.` (tests, several tenants on one
 * cluster); MQTT-mapped subjects then need the namespace in the topic too.
 *
 * KV keys:  actors:  <partition>.<type>.<id>
 *           timers:  <partition>.<type>.<id>.<timer-hash>
 *           leases:  partition.<n>   host.<hostId>
 */
import type { ActorAddress as ActorRef } from "./types.ts";

/** FNV-1a, 32 bit: stable across processes and versions, which `partitionOf` relies on. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The partition an actor lives in. Changing `partitions` re-homes actors: see ARCHITECTURE.md. */
export function partitionOf(ref: ActorRef, partitions: number): number {
  return fnv1a32(`${ref.type}/${ref.id}`) % partitions;
}

/** The subject and key builders of one deployment namespace ("" in production). */
export class Subjects {
  readonly #p: string;
  constructor(readonly namespace: string = "") {
    if (namespace !== "" && !/^[a-z][a-z0-9]{0,15}$/.test(namespace)) {
      throw new TypeError(`namespace must be lowercase letters and digits, got "${namespace}"`);
    }
    this.#p = namespace === "" ? "" : `${namespace}.`;
  }

  command(partition: number, ref: ActorRef): string {
    return `${this.#p}cmd.${partition}.${ref.type}.${ref.id}`;
  }
  commandFilter(partition: number): string {
    return `${this.#p}cmd.${partition}.>`;
  }
  get commandStream(): string[] {
    return [`${this.#p}cmd.>`];
  }
  /** Parses a command subject; null when it is not of the shape `cmd.<p>.<type>.<id>`. */
  parseCommand(subject: string): { partition: number; ref: ActorRef } | null {
    if (!subject.startsWith(this.#p)) return null;
    const parts = subject.slice(this.#p.length).split(".");
    if (parts.length !== 4 || parts[0] !== "cmd") return null;
    const partition = Number(parts[1]);
    if (!Number.isInteger(partition) || partition < 0) return null;
    return { partition, ref: { type: parts[2]!, id: parts[3]! } };
  }

  event(ref: ActorRef, name: string): string {
    return `${this.#p}evt.${ref.type}.${ref.id}.${name}`;
  }
  /** All events of one actor, of every actor of a type (`id` omitted), or of all (none). */
  eventFilter(type?: string, id?: string): string {
    return `${this.#p}evt.${type ?? "*"}.${id ?? "*"}.>`;
  }
  /** One event name of every actor of a type (`evt.<type>.*.<name>`). */
  eventsNamed(type: string, name: string): string {
    return `${this.#p}evt.${type}.*.${name}`;
  }
  get eventStream(): string[] {
    return [`${this.#p}evt.>`];
  }

  query(partition: number, ref: ActorRef): string {
    return `${this.#p}qry.${partition}.${ref.type}.${ref.id}`;
  }
  queryFilter(partition: number): string {
    return `${this.#p}qry.${partition}.>`;
  }

  dlq(partition: number): string {
    return `${this.#p}dlq.${partition}`;
  }
  get dlqStream(): string[] {
    return [`${this.#p}dlq.>`];
  }

  /** MQTT topic `fleet/vehicle/<id>/temp` arrives here through nats-server's MQTT listener. */
  vehicleTemperature(vehicleId: string): string {
    return `${this.#p}fleet.vehicle.${vehicleId}.temp`;
  }
  get telemetryStream(): string[] {
    return [`${this.#p}fleet.>`];
  }

  courierLocation(courierId: string): string {
    return `${this.#p}loc.courier.${courierId}`;
  }
  /**
   * Fixes batched by a gateway: one message with every fix it accepted in one turn of its event
   * loop (a JSON array), so that tens of thousands of fixes a second cost the server and the
   * tracker hundreds of messages, not tens of thousands.
   */
  courierFixBatch(): string {
    return `${this.#p}loc.fixes`;
  }
  /** All single fixes of all couriers (the tracker's subscription). */
  get courierLocationFilter(): string {
    return `${this.#p}loc.courier.*`;
  }
  /** Parses `loc.courier.<id>`; null otherwise. */
  parseCourierLocation(subject: string): string | null {
    const prefix = `${this.#p}loc.courier.`;
    return subject.startsWith(prefix) ? subject.slice(prefix.length) : null;
  }
  push(kind: "order" | "courier" | "market" | "vehicle", id: string): string {
    return `${this.#p}push.${kind}.${id}`;
  }
  get pushStream(): string[] {
    return [`${this.#p}push.>`];
  }
  /** Parses `push.<kind>.<id>` into the live channel `<kind>:<id>`; null otherwise. */
  parsePush(subject: string): string | null {
    if (!subject.startsWith(`${this.#p}push.`)) return null;
    const parts = subject.slice(this.#p.length).split(".");
    return parts.length === 3 ? `${parts[1]}:${parts[2]}` : null;
  }

  actorStateKey(partition: number, ref: ActorRef): string {
    return `${partition}.${ref.type}.${ref.id}`;
  }
  /** Timer names are free text, so the key carries a hash of the name (the value has the name). */
  timerKey(partition: number, ref: ActorRef, timer: string): string {
    return `${partition}.${ref.type}.${ref.id}.${fnv1a32(timer).toString(36)}`;
  }
  timerPartitionFilter(partition: number): string {
    return `${partition}.>`;
  }
  partitionLeaseKey(partition: number): string {
    return `partition.${partition}`;
  }
  hostKey(hostId: string): string {
    return `host.${hostId}`;
  }
}
