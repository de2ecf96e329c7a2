/**
 * Guarantees 1-5 of the actor runtime, proven by killing real host processes: three `bin/host.ts`
 * processes share 16 partitions; 10,000 commands go to 1,000 probe actors; one host is
 * SIGKILLed half-way. Afterwards every acknowledged command is applied exactly once and in the
 * order it was accepted, reminders armed before the kill ring once, the dead host's partitions
 * are held elsewhere within 5 s, and the stored state equals a single-host replay of the log.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ActorClient, probeLogic } from "../../actors/index.ts";
import type { ProbeState, StoredActor } from "../../actors/index.ts";
import type { Topology } from "../../nats/index.ts";
import { ensureTopology } from "../../nats/index.ts";
import { startHost } from "../hosts.ts";
import type { HostProcess } from "../hosts.ts";
import { cleanup, connectForTest, testTopology, waitFor } from "../nats-helpers.ts";
import { replayLog } from "../replay.ts";

const ACTORS = 1000;
const COMMANDS = 10_000;
const PARTITIONS = 16;

describe("actor hosts under SIGKILL", () => {
  let nc: NatsConnection;
  let topology: Topology;
  let client: ActorClient;
  const hosts: HostProcess[] = [];

  beforeAll(async () => {
    nc = await connectForTest("actor-host-kill.test");
    topology = testTopology({ partitions: PARTITIONS });
    await ensureTopology(nc, topology);
    const env = {
      XIANDA_NAMESPACE: topology.options.namespace,
      XIANDA_PARTITIONS: String(PARTITIONS),
    };
    const started = await Promise.allSettled(["h1", "h2", "h3"].map((id) => startHost(id, env)));
    for (const s of started) if (s.status === "fulfilled") hosts.push(s.value);
    const failed = started.find((s) => s.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
    client = new ActorClient({ nc, topology });
  });

  afterAll(async () => {
    client?.close();
    for (const h of hosts) h.kill("SIGTERM");
    await Promise.all(hosts.map((h) => h.exited));
    await cleanup(nc, topology);
    await nc.close();
  });

  async function holders(): Promise<Map<number, string | null>> {
    const { leases } = await ensureTopology(nc, topology);
    const out = new Map<number, string | null>();
    for (let p = 0; p < PARTITIONS; p++) {
      const entry = await leases.get(topology.subjects.partitionLeaseKey(p));
      out.set(
        p,
        entry?.operation === "PUT" ? entry.json<{ holder: string | null }>().holder : null,
      );
    }
    return out;
  }

  it("applies every acknowledged command once, in order, and recovers within 5 s", async () => {
    await waitFor(
      "three hosts sharing all partitions",
      async () => {
        const h = await holders();
        const distinct = new Set(h.values());
        return !distinct.has(null) && distinct.size === 3;
      },
      20_000,
      100,
    );

    const actorIds = Array.from({ length: ACTORS }, (_, i) => `a${i}`);
    // Reminders armed before the kill, due after it.
    await Promise.all(
      actorIds.map((id) =>
        client.send({ type: "probe", id }, { type: "arm", tag: "t", delayMs: 6000 }),
      ),
    );

    const victim = hosts[0]!;
    let acked = 0;
    let killedAt = 0;
    const perActor = COMMANDS / ACTORS;
    // One chain per actor: each command is sent after the previous one for that actor is
    // acknowledged, so the accepted order is known; 1,000 chains run at once.
    await Promise.all(
      actorIds.map(async (id) => {
        for (let n = 1; n <= perActor; n++) {
          await client.send({ type: "probe", id }, { type: "add", n });
          acked++;
          if (acked === COMMANDS / 2 && killedAt === 0) {
            killedAt = performance.now();
            victim.kill("SIGKILL");
          }
        }
      }),
    );
    expect(acked).toBe(COMMANDS);
    expect(killedAt).toBeGreaterThan(0);
    await victim.exited;

    const recovered = await waitFor(
      "the dead host's partitions to be held by the others",
      async () => {
        const h = await holders();
        return [...h.values()].every((holder) => holder !== null && holder !== victim.id)
          ? performance.now()
          : null;
      },
      15_000,
      50,
    );
    const recoveryMs = recovered - killedAt;
    console.log(`recovery after SIGKILL: ${Math.round(recoveryMs)} ms`);
    expect(recoveryMs).toBeLessThan(5000);

    // Every actor applied 1..10 exactly once, in order; every reminder rang exactly once.
    const states = await waitFor(
      "every command and reminder applied",
      async () => {
        const views = await Promise.all(
          actorIds.map((id) => client.state<ProbeState>({ type: "probe", id })),
        );
        const done = views.every((v) => v.view.count === perActor && v.view.rang.length >= 1);
        return done ? views : null;
      },
      30_000,
      500,
    );
    for (const { view } of states) {
      expect(view.log).toEqual(Array.from({ length: perActor }, (_, i) => i + 1));
      expect(view.rang.map((r) => r.tag)).toEqual(["t"]);
    }

    // Exactly one `added` event per add, despite the kill (deduplicated by event id).
    const jsm = await jetstreamManager(nc);
    const events = await jsm.streams.info(topology.streams.events);
    expect(events.state.messages).toBe(COMMANDS + ACTORS);

    // The hosts' stored state equals a single-host replay of the command log.
    const replayed = await replayLog(nc, topology, [probeLogic]);
    const { actors } = await ensureTopology(nc, topology);
    let compared = 0;
    for (const [key, expected] of replayed) {
      const entry = await actors.get(key);
      const stored = entry!.json<StoredActor>();
      expect(stored.state).toEqual(expected.state);
      expect(stored.seq).toBe(expected.seq);
      compared++;
    }
    expect(compared).toBe(ACTORS);
  }, 120_000);
});
