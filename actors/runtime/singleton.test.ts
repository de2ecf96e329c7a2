import type { NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Topology } from "../../nats/index.ts";
import { cleanup, connectForTest, testTopology, waitFor } from "../../test/nats-helpers.ts";
import { probeLogic } from "../probe/logic.ts";
import { ActorHost } from "./index.ts";
import type { Singleton } from "./index.ts";

const log = pino({ level: "silent" });

describe("singletons ride on a partition's lease", () => {
  let nc: NatsConnection;
  let topology: Topology;
  const running = new Set<string>();
  let overlaps = 0;
  const singleton = (hostId: string): Singleton => ({
    name: "tracker",
    partition: 0,
    async start() {
      if (running.size > 0) overlaps++;
      running.add(hostId);
      return {
        async stop() {
          running.delete(hostId);
        },
      };
    },
  });

  beforeAll(async () => {
    nc = await connectForTest("singleton.test");
    topology = testTopology({ partitions: 4 });
  });
  afterAll(async () => {
    await cleanup(nc, topology);
    await nc.close();
  });

  it("runs on exactly one host and moves with partition 0", async () => {
    const options = { nc, topology, logics: [probeLogic], log, renewMs: 200, leaseTtlMs: 600 };
    const a = new ActorHost({ ...options, hostId: "a", singletons: [singleton("a")] });
    const b = new ActorHost({ ...options, hostId: "b", singletons: [singleton("b")] });
    await a.start();
    await waitFor("a to run it", () => running.has("a"));
    await b.start();
    await waitFor(
      "the hosts to share the partitions",
      () => a.partitions.length === 2 && b.partitions.length === 2,
    );
    expect([...running]).toEqual(a.partitions.includes(0) ? ["a"] : ["b"]);
    const holder = a.partitions.includes(0) ? a : b;
    const other = holder === a ? b : a;
    await holder.stop();
    await waitFor("the other host to run it", () => running.has(other.hostId));
    expect([...running]).toEqual([other.hostId]);
    await other.stop();
    expect(running.size).toBe(0);
    expect(overlaps).toBe(0);
  }, 30_000);
});
