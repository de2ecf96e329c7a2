/**
 * A 3-server NATS cluster on loopback (deploy/nats/cluster/hub.conf, file storage), every stream
 * and KV bucket replicated three times, two actor host processes connected with all three URLs.
 * Under load (thousands of commands to probe actors, reminders armed), the server leading the
 * command stream is SIGKILLed. The senders retry with the same command ids. Afterwards every
 * acknowledged command is applied exactly once and in order, every reminder rings once, the
 * stored state equals a single-host replay of the log, and the killed server, restarted, catches
 * up. Prints the recovery time (kill → first acknowledged command after it).
 */
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ActorClient, probeLogic } from "../../actors/index.ts";
import type { ProbeState, StoredActor } from "../../actors/index.ts";
import { connectNats, ensureTopology } from "../../nats/index.ts";
import type { Topology } from "../../nats/index.ts";
import { startHost } from "../hosts.ts";
import type { HostProcess } from "../hosts.ts";
import { testTopology, waitFor } from "../nats-helpers.ts";
import { startHubCluster } from "../nats-cluster.ts";
import type { HubCluster, NatsNode } from "../nats-cluster.ts";
import { replayLog } from "../replay.ts";

const BASE_PORT = 16_100;
const ACTORS = 300;
const PER_ACTOR = 10;
const COMMANDS = ACTORS * PER_ACTOR;
const PARTITIONS = 8;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("a 3-server NATS cluster", () => {
  let cluster: HubCluster;
  let nc: NatsConnection;
  let topology: Topology;
  let client: ActorClient;
  const hosts: HostProcess[] = [];

  beforeAll(async () => {
    cluster = await startHubCluster({ basePort: BASE_PORT });
    nc = await connectNats({ servers: cluster.urls, name: "cluster.test" });
    topology = testTopology({ partitions: PARTITIONS, replicas: 3 });
    await ensureTopology(nc, topology);
    const env = {
      NATS_URL: cluster.urls,
      XIANDA_REPLICAS: "3",
      XIANDA_NAMESPACE: topology.options.namespace,
      XIANDA_PARTITIONS: String(PARTITIONS),
    };
    const started = await Promise.allSettled(["ch1", "ch2"].map((id) => startHost(id, env)));
    for (const s of started) if (s.status === "fulfilled") hosts.push(s.value);
    const failed = started.find((s) => s.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
    client = new ActorClient({ nc, topology, callTimeoutMs: 10_000 });
  }, 60_000);

  afterAll(async () => {
    client?.close();
    for (const h of hosts) h.kill("SIGKILL");
    await Promise.all(hosts.map((h) => h.exited));
    await nc?.close();
    await cluster?.destroy();
  });

  it("replicates every stream and KV bucket three times", async () => {
    const jsm = await jetstreamManager(nc);
    const names = [
      ...Object.values(topology.streams),
      ...Object.values(topology.buckets).map((b) => `KV_${b}`),
    ];
    for (const name of names) {
      const info = await jsm.streams.info(name);
      expect({ name, replicas: info.config.num_replicas }).toEqual({ name, replicas: 3 });
      expect(info.cluster?.replicas?.length, name).toBe(2);
    }
  });

  it("loses nothing when the command stream's leader is SIGKILLed under load", async () => {
    await waitFor(
      "two hosts sharing all partitions",
      async () => {
        const { leases } = await ensureTopology(nc, topology);
        const holders = new Set<string | null>();
        for (let p = 0; p < PARTITIONS; p++) {
          const entry = await leases.get(topology.subjects.partitionLeaseKey(p));
          holders.add(
            entry?.operation === "PUT" ? entry.json<{ holder: string | null }>().holder : null,
          );
        }
        return !holders.has(null) && holders.size === 2;
      },
      20_000,
      100,
    );

    const actorIds = Array.from({ length: ACTORS }, (_, i) => `k${i}`);
    // Every command has an id of its own; a send that failed or timed out may still have been
    // stored, so it is retried with the same id until it is acknowledged.
    let retries = 0;
    let killedAt = 0;
    const ackTimes: number[] = [];
    const sendUntilAcked = async (
      id: string,
      commandId: string,
      msg: { type: string } & Record<string, unknown>,
    ) => {
      for (;;) {
        const attempt = performance.now();
        try {
          await client.send({ type: "probe", id }, msg, { id: commandId });
          // Recovery: the first acknowledgement of a send begun after the kill (acks of sends
          // already in flight may still arrive from the dying leader's last moments).
          if (killedAt > 0 && attempt > killedAt) ackTimes.push(performance.now());
          return;
        } catch {
          retries++;
          await sleep(100);
        }
      }
    };
    // Reminders armed before the kill, due after it.
    await Promise.all(
      actorIds.map((id) =>
        sendUntilAcked(id, `${id}-arm`, { type: "arm", tag: "t", delayMs: 8000 }),
      ),
    );

    const victim: NatsNode = (await cluster.streamLeader(nc, topology.streams.commands))!;
    const metaLeader = await cluster.metaLeader();
    expect(victim).not.toBeNull();
    let acked = 0;
    let killed: Promise<void> | null = null;
    const started = performance.now();
    // Measured apart from the senders, whose in-flight publishes wait out their 5 s time-out.
    let election: Promise<{ leader: NatsNode; at: number }> = new Promise(() => undefined);
    // One chain per actor: the next command goes once the previous one is acknowledged, so the
    // accepted order is known.
    await Promise.all(
      actorIds.map(async (id) => {
        for (let n = 1; n <= PER_ACTOR; n++) {
          await sendUntilAcked(id, `${id}-add-${n}`, { type: "add", n });
          acked++;
          if (acked === COMMANDS / 2 && killed === null) {
            killedAt = performance.now();
            killed = victim.kill();
            election = waitFor(
              "a new leader of the command stream",
              async () => {
                const leader = await cluster.streamLeader(nc, topology.streams.commands);
                return leader && leader !== victim ? { leader, at: performance.now() } : null;
              },
              20_000,
              50,
            );
          }
        }
      }),
    );
    const loadMs = performance.now() - started;
    expect(acked).toBe(COMMANDS);
    expect(killed).not.toBeNull();
    await killed;

    const recoveryMs = Math.min(...ackTimes) - killedAt;
    const { leader: newLeader, at: electedAt } = await election;
    console.log(
      `cluster: SIGKILLed ${victim.name} (command stream leader${metaLeader === victim ? " and JetStream meta leader" : `; meta leader ${metaLeader?.name}`}) ` +
        `after ${COMMANDS / 2} of ${COMMANDS} commands; stream info names the new leader ${newLeader.name} after ${Math.round(electedAt - killedAt)} ms; ` +
        `first acknowledged command sent after the kill: ${Math.round(recoveryMs)} ms; ` +
        `${retries} retried sends; ${COMMANDS} commands in ${Math.round(loadMs)} ms`,
    );
    expect(recoveryMs).toBeLessThan(15_000);

    // Every actor applied 1..10 exactly once, in order; every reminder rang exactly once.
    let behind = "";
    const states = await waitFor(
      "every command and reminder applied",
      async () => {
        const views = await Promise.all(
          actorIds.map((id) => client.state<ProbeState>({ type: "probe", id })),
        );
        const late = views.filter((v) => v.view.count < PER_ACTOR || v.view.rang.length < 1);
        behind = `${late.length} actors behind, e.g. ${JSON.stringify(late[0]?.view)}`;
        return late.length === 0 ? views : null;
      },
      40_000,
      500,
    ).catch((err: unknown) => {
      const tails = hosts.map((h) => `${h.id}: ${h.output().slice(-2000)}`).join("\n");
      throw new Error(`${String(err)}; ${behind}\n${tails}`);
    });
    for (const { view } of states) {
      expect(view.log).toEqual(Array.from({ length: PER_ACTOR }, (_, i) => i + 1));
      expect(view.rang.map((r) => r.tag)).toEqual(["t"]);
    }

    // One `added` per add and one `rang` per reminder, despite the kill and the retries.
    const jsm = await jetstreamManager(nc);
    let eventCount = 0;
    await waitFor(
      "every event stored",
      async () => {
        eventCount = (await jsm.streams.info(topology.streams.events)).state.messages;
        return eventCount >= COMMANDS + ACTORS;
      },
      20_000,
      250,
    ).catch(() => undefined);
    expect(eventCount).toBe(COMMANDS + ACTORS);
    const commands = await jsm.streams.info(topology.streams.commands);
    // Each add and arm stored once (retries deduplicated), plus one ring per reminder.
    expect(commands.state.messages).toBe(COMMANDS + 2 * ACTORS);

    // The killed server comes back and catches up on everything it missed.
    const restartedAt = performance.now();
    await victim.start();
    const replicated = [
      topology.streams.commands,
      topology.streams.events,
      `KV_${topology.buckets.actors}`,
      `KV_${topology.buckets.leases}`,
    ];
    // Its own store, as its monitoring port reports it, holds what the leaders hold.
    let lagging = "";
    await waitFor(
      `${victim.name} to catch up`,
      async () => {
        // The leaders first: the leases bucket keeps moving (heartbeats), so the restarted
        // server must have at least what its leader had a moment before.
        const leaders = new Map<string, number>();
        for (const name of replicated) {
          leaders.set(name, (await jsm.streams.info(name)).state.last_seq);
        }
        const jsz = await victim.monitor<{
          account_details?: { stream_detail?: { name: string; state: { last_seq: number } }[] }[];
        }>("/jsz?accounts=true&streams=true");
        const local = new Map(
          (jsz.account_details ?? [])
            .flatMap((a) => a.stream_detail ?? [])
            .map((d) => [d.name, d.state.last_seq]),
        );
        const behind = replicated.filter((n) => (local.get(n) ?? 0) < leaders.get(n)!);
        lagging = behind.map((n) => `${n} ${local.get(n)} < ${leaders.get(n)}`).join(", ");
        return behind.length === 0;
      },
      30_000,
      200,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}: ${lagging}`);
    });
    console.log(
      `cluster: ${victim.name} restarted and current on ${replicated.length} streams after ${Math.round(performance.now() - restartedAt)} ms`,
    );

    // The hosts' stored state equals a single-host replay of the command log (read once the
    // cluster is whole again: with a member down, creating a consumer may time out).
    const replayed = await replayLog(nc, topology, [probeLogic]);
    const { actors } = await ensureTopology(nc, topology);
    let compared = 0;
    for (const [key, expected] of replayed) {
      const stored = (await actors.get(key))!.json<StoredActor>();
      expect(stored.state).toEqual(expected.state);
      expect(stored.seq).toBe(expected.seq);
      compared++;
    }
    expect(compared).toBe(ACTORS);
  }, 150_000);
});
