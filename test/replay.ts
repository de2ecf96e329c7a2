/**
 * A single-host replay of a command log: reads the whole stream in order and applies it with
 * the same pure code the hosts run, one command at a time. Fault tests compare the hosts'
 * stored state with it.
 */
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Topology } from "../nats/index.ts";
import { CommandEnvelope } from "../protocol/index.ts";
import { applyBatch, freshActor } from "../actors/index.ts";
import type { AnyActorLogic, StoredActor } from "../actors/index.ts";
import { partitionOf } from "../nats/index.ts";

export async function replayLog(
  nc: NatsConnection,
  topology: Topology,
  logics: readonly AnyActorLogic[],
): Promise<Map<string, StoredActor>> {
  const byType = new Map(logics.map((l) => [l.type, l]));
  const js = jetstream(nc);
  const consumer = await js.consumers.get(topology.streams.commands, {
    filter_subjects: topology.subjects.commandStream[0]!,
  });
  const info = await consumer.info();
  const last = info.num_pending;
  const actors = new Map<string, { stored: StoredActor; state: unknown }>();
  const routing = {
    event: (ref: { type: string; id: string }, name: string) => topology.subjects.event(ref, name),
    command: (ref: { type: string; id: string }) =>
      topology.subjects.command(partitionOf(ref, topology.partitions), ref),
  };
  let seen = 0;
  if (last > 0) {
    const messages = await consumer.fetch({ max_messages: last, expires: 30_000 });
    for await (const m of messages) {
      seen++;
      const address = topology.subjects.parseCommand(m.subject);
      const logic = address ? byType.get(address.ref.type) : undefined;
      if (address && logic) {
        const key = topology.subjects.actorStateKey(address.partition, address.ref);
        const current = actors.get(key) ?? freshActor(logic, address.ref);
        let envelope: CommandEnvelope | null = null;
        try {
          const parsed = CommandEnvelope.safeParse(JSON.parse(new TextDecoder().decode(m.data)));
          envelope = parsed.success ? parsed.data : null;
        } catch {
          envelope = null;
        }
        const result = applyBatch(logic, address.ref, current, [{ seq: m.seq, envelope }], routing);
        actors.set(key, { stored: result.stored, state: result.state });
      }
      if (seen >= last) break;
    }
  }
  return new Map([...actors].map(([k, v]) => [k, v.stored]));
}
