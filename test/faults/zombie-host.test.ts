/**
 * A zombie host: it stops renewing its leases (as a process paused by GC, SIGSTOP or a network
 * partition would) but keeps running. Another host takes its partitions over; both now apply the
 * same commands. Every write of the slower one carries a stale revision and is refused, so no
 * command is applied twice, and the zombie lets go of its partitions as soon as it notices.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ActorClient, ActorHost, probeLogic } from "../../actors/index.ts";
import type { ProbeState } from "../../actors/index.ts";
import type { Topology } from "../../nats/index.ts";
import { cleanup, connectForTest, testTopology, waitFor } from "../nats-helpers.ts";

const log = pino({ level: "silent" });
const conflicts = async (host: ActorHost) =>
  (await host.metrics.conflicts.get()).values.reduce((sum, v) => sum + v.value, 0);

describe("a host that lost its lease but keeps running", () => {
  let nc: NatsConnection;
  let topology: Topology;
  let zombie: ActorHost;
  let successor: ActorHost;
  let client: ActorClient;

  beforeAll(async () => {
    nc = await connectForTest("zombie-host.test");
    topology = testTopology({ partitions: 2 });
    const options = { nc, topology, logics: [probeLogic], log, renewMs: 200, leaseTtlMs: 800 };
    zombie = new ActorHost({ ...options, hostId: "zombie" });
    successor = new ActorHost({ ...options, hostId: "successor" });
    client = new ActorClient({ nc, topology });
    await zombie.start();
    await waitFor("the first host to hold everything", () => zombie.partitions.length === 2);
  });

  afterAll(async () => {
    client?.close();
    await successor?.stop();
    await zombie?.stop();
    await cleanup(nc, topology);
    await nc.close();
  });

  it("has its stale writes refused and applies nothing twice", async () => {
    const actors = ["z1", "z2", "z3", "z4"].map((id) => ({ type: "probe", id }));
    let n = 0;
    const sendRound = async () => {
      n++;
      await Promise.all(actors.map((a) => client.send(a, { type: "add", n })));
    };
    for (let i = 0; i < 5; i++) await sendRound();

    zombie.pauseRenewals();
    await successor.start();
    await waitFor(
      "the successor to take every partition over",
      () => successor.partitions.length === 2,
    );
    // The zombie has not noticed: it still believes it holds both partitions.
    expect(zombie.partitions).toHaveLength(2);

    for (let i = 0; i < 40; i++) await sendRound();
    await waitFor("all commands applied", async () => {
      const views = await Promise.all(actors.map((a) => client.state<ProbeState>(a)));
      return views.every((v) => v.view.count === n);
    });
    for (const a of actors) {
      const { view } = await client.state<ProbeState>(a);
      expect(view.log).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    }
    // Both applied the same commands; every write of whichever was second was refused.
    expect((await conflicts(zombie)) + (await conflicts(successor))).toBeGreaterThan(0);

    // When the zombie tries to renew, it finds both leases gone and abandons its partitions.
    const lost = async () =>
      (await zombie.metrics.leaseEvents.get()).values.find((v) => v.labels.event === "lost")?.value;
    zombie.pauseRenewals(false);
    await waitFor("the zombie to let go", async () => (await lost()) === 2, 5000);
  }, 60_000);
});
