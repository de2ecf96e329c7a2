import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanup, connectForTest, testTopology } from "../test/nats-helpers.ts";
import {
  AckedPublisher,
  ensureTopology,
  PublishRefusedError,
  Subjects,
  Topology,
  TopologyError,
  TopologyMissingError,
} from "./index.ts";

describe("the JetStream topology", () => {
  let nc: NatsConnection;
  const topology = testTopology({ partitions: 4 });

  beforeAll(async () => {
    nc = await connectForTest("topology.test");
  });
  afterAll(async () => {
    await cleanup(nc, topology);
    await nc.close();
  });

  it("is applied idempotently, and updates what may change", async () => {
    await ensureTopology(nc, topology);
    await ensureTopology(nc, topology);
    const longer = new Topology({ ...topology.options, eventRetentionMs: 60 * 24 * 3600 * 1000 });
    await ensureTopology(nc, longer);
    const jsm = await jetstreamManager(nc);
    const events = await jsm.streams.info(topology.streams.events);
    expect(events.config.max_age).toBe(60 * 24 * 3600 * 1000 * 1e6);
    const commands = await jsm.streams.info(topology.streams.commands);
    expect(commands.config).toMatchObject({
      storage: "file",
      max_msg_size: 64 * 1024,
      subjects: topology.subjects.commandStream,
    });
  });

  it("only checks in check mode: missing is TopologyMissingError, applied passes, nothing created", async () => {
    const fresh = testTopology({ partitions: 4 });
    await expect(ensureTopology(nc, fresh, { mode: "check" })).rejects.toBeInstanceOf(
      TopologyMissingError,
    );
    const jsm = await jetstreamManager(nc);
    await expect(jsm.streams.info(fresh.streams.commands)).rejects.toThrow();
    await ensureTopology(nc, topology);
    const { actors } = await ensureTopology(nc, topology, { mode: "check" });
    expect(actors).toBeTruthy();
    const other = new Topology({ ...topology.options, partitions: 8 });
    const refused = ensureTopology(nc, other, { mode: "check" });
    await expect(refused).rejects.toBeInstanceOf(TopologyError);
    await expect(refused).rejects.not.toBeInstanceOf(TopologyMissingError);
  });

  it("refuses to start with another partition count than the deployment was created with", async () => {
    const other = new Topology({ ...topology.options, partitions: 8 });
    await expect(ensureTopology(nc, other)).rejects.toBeInstanceOf(TopologyError);
  });

  it("enforces compare-and-set and deduplication through the pipelined publisher", async () => {
    const { actors } = await ensureTopology(nc, topology);
    const publisher = new AckedPublisher(nc);
    const subject = `$KV.${topology.buckets.actors}.0.probe.cas`;
    const first = await publisher.publish(subject, new TextEncoder().encode("1"), {
      expectedLastSubjectSequence: 0,
    });
    const stale = publisher.publish(subject, new TextEncoder().encode("2"), {
      expectedLastSubjectSequence: 0,
    });
    await expect(stale).rejects.toSatisfy(
      (e) => e instanceof PublishRefusedError && e.isWrongLastSequence,
    );
    await publisher.publish(subject, new TextEncoder().encode("3"), {
      expectedLastSubjectSequence: first.seq,
    });
    expect((await actors.get("0.probe.cas"))?.string()).toBe("3");

    const evt = topology.subjects.event({ type: "probe", id: "d" }, "added");
    const a = await publisher.publish(evt, new Uint8Array(), { msgId: "dup-1" });
    const b = await publisher.publish(evt, new Uint8Array(), { msgId: "dup-1" });
    expect(b).toEqual({ stream: a.stream, seq: a.seq, duplicate: true });
    publisher.close();
  });

  it("refuses a publish to a subject no stream takes", async () => {
    const publisher = new AckedPublisher(nc);
    await expect(
      publisher.publish(`nostream${Date.now()}.x`, new Uint8Array()),
    ).rejects.toBeInstanceOf(PublishRefusedError);
    publisher.close();
  });
});

describe("subjects", () => {
  it("builds and parses command subjects, with and without a namespace", () => {
    const ref = { type: "order", id: "o-1" };
    expect(new Subjects().command(3, ref)).toBe("cmd.3.order.o-1");
    const ns = new Subjects("city1");
    expect(ns.command(3, ref)).toBe("city1.cmd.3.order.o-1");
    expect(ns.parseCommand("city1.cmd.3.order.o-1")).toEqual({ partition: 3, ref });
    expect(ns.parseCommand("cmd.3.order.o-1")).toBeNull();
    expect(ns.parseCommand("city1.cmd.x.order.o-1")).toBeNull();
    expect(() => new Subjects("Bad.NS")).toThrow(TypeError);
  });
});
