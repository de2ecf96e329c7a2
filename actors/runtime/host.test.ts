import { jetstreamManager } from "@nats-io/jetstream";
import { createInbox, headers } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { partitionOf } from "../../nats/index.ts";
import type { Topology } from "../../nats/index.ts";
import { cleanup, connectForTest, testTopology, waitFor } from "../../test/nats-helpers.ts";
import { probeLogic } from "../probe/logic.ts";
import type { ProbeState } from "../probe/logic.ts";
import { ActorClient, ActorHost, CommandRejectedError } from "./index.ts";

const log = pino({ level: "silent" });

describe("actor host on a real nats-server", () => {
  let nc: NatsConnection;
  let topology: Topology;
  let host: ActorHost;
  let client: ActorClient;

  beforeAll(async () => {
    nc = await connectForTest("host.test");
    topology = testTopology({ partitions: 4 });
    host = new ActorHost({
      nc,
      topology,
      logics: [probeLogic],
      log,
      renewMs: 200,
      leaseTtlMs: 600,
      // Short, so that passivation (and reactivation from storage) happens within the tests.
      partition: { idleMs: 300 },
    });
    await host.start();
    client = new ActorClient({ nc, topology });
    await waitFor("all partitions held", () => host.partitions.length === 4);
  });

  afterAll(async () => {
    client?.close();
    await host?.stop();
    await cleanup(nc, topology);
    await nc.close();
  });

  it("applies commands in order and answers with the outcome", async () => {
    const probe = { type: "probe", id: "p1" };
    for (let n = 1; n <= 5; n++) await client.send(probe, { type: "add", n });
    const outcome = await client.call(probe, { type: "add", n: 6 });
    expect(outcome).toMatchObject({ ok: true, events: ["added"] });
    const { view } = await client.state<ProbeState>(probe);
    expect(view.log).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("applies a retried command id once and answers the retry with the first outcome", async () => {
    const probe = { type: "probe", id: "p2" };
    const first = await client.call(probe, { type: "add", n: 7 }, { id: "retry-1" });
    const again = await client.call(probe, { type: "add", n: 7 }, { id: "retry-1" });
    expect(again).toEqual(first);
    expect((await client.state<ProbeState>(probe)).view.log).toEqual([7]);
  });

  it("refuses what the state machine refuses, with a machine-readable reason", async () => {
    const probe = { type: "probe", id: "p3" };
    expect(await client.call(probe, { type: "refuse", reason: "no" })).toMatchObject({
      ok: false,
      refusal: { code: "probe_refused", message: "no" },
    });
    expect(await client.call(probe, { type: "add", n: 1.5 })).toMatchObject({
      ok: false,
      refusal: { code: "invalid_message" },
    });
    expect(await client.call(probe, { type: "crash" })).toMatchObject({
      ok: false,
      refusal: { code: "internal_error" },
    });
    // The actor and its partition keep working after all three.
    expect(await client.call(probe, { type: "add", n: 2 })).toMatchObject({ ok: true });
  });

  it("refuses commands for unknown actor types without blocking the partition", async () => {
    const outcome = await client.call({ type: "nosuchactor", id: "x" }, { type: "hello" });
    expect(outcome).toMatchObject({ ok: false, refusal: { code: "unknown_actor_type" } });
  });

  it("records a command for an unknown actor type in the dead-letter stream", async () => {
    await client.call({ type: "ghost", id: "g1" }, { type: "boo" });
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(topology.streams.dlq);
    const record = await jsm.streams.getMessage(topology.streams.dlq, { seq: info.state.last_seq });
    expect(record!.json()).toMatchObject({
      code: "unknown_actor_type",
      subject: expect.stringContaining(".ghost.g1"),
    });
  });

  it("refuses a command that is not JSON, published straight to the log, and carries on", async () => {
    const probe = { type: "probe", id: "p6" };
    const inbox = createInbox();
    const sub = nc.subscribe(inbox, { max: 1 });
    const h = headers();
    h.set("Xd-Reply", inbox);
    nc.publish(topology.subjects.command(partitionOf(probe, 4), probe), "{not json", {
      headers: h,
    });
    for await (const m of sub) {
      expect(m.json()).toMatchObject({ ok: false, refusal: { code: "invalid_envelope" } });
    }
    expect(await client.call(probe, { type: "add", n: 1 })).toMatchObject({ ok: true });
  });

  it("passivates idle actors and brings them back with their state", async () => {
    const probe = { type: "probe", id: "p7" };
    await client.call(probe, { type: "add", n: 1 });
    const active = () =>
      host.partitions.reduce((n, p) => n + (host.worker(p)?.activeActors ?? 0), 0);
    await waitFor("idle actors to be passivated", () => active() === 0, 5000);
    expect(await client.call(probe, { type: "add", n: 2 })).toMatchObject({ ok: true });
    expect((await client.state<ProbeState>(probe)).view.log).toEqual([1, 2]);
  });

  it("does not publish a woken actor's last outbox again", async () => {
    // Beyond the stream's duplicate window a second publish would be stored (and a command in it
    // applied) twice; count what reaches the wire, which the window does not hide.
    const probe = { type: "probe", id: "p8" };
    let published = 0;
    const sub = nc.subscribe(topology.subjects.event(probe, "added"), {
      callback: () => {
        published++;
      },
    });
    await client.call(probe, { type: "add", n: 1 });
    const active = () =>
      host.partitions.reduce((n, p) => n + (host.worker(p)?.activeActors ?? 0), 0);
    await waitFor("idle actors to be passivated", () => active() === 0, 5000);
    await waitFor("the checkpoint past the command", () =>
      host.partitions.every((p) => (host.worker(p)?.checkpoint ?? 0) > 0),
    );
    expect(await client.call(probe, { type: "add", n: 2 })).toMatchObject({ ok: true });
    await nc.flush();
    await new Promise((r) => setTimeout(r, 200));
    sub.unsubscribe();
    expect(published).toBe(2);
  });

  it("refuses oversized and malformed commands at the sender", async () => {
    const probe = { type: "probe", id: "p4" };
    await expect(
      client.send(probe, { type: "add", n: 1, pad: "x".repeat(70_000) }),
    ).rejects.toBeInstanceOf(CommandRejectedError);
    await expect(
      client.send({ type: "probe", id: "bad id" }, { type: "add", n: 1 }),
    ).rejects.toThrow(/actor id/);
  });

  it("rings a reminder once, and not after it was disarmed", async () => {
    const probe = { type: "probe", id: "p5" };
    await client.call(probe, { type: "arm", tag: "a", delayMs: 100 });
    await client.call(probe, { type: "arm", tag: "b", delayMs: 150 });
    await client.call(probe, { type: "disarm", tag: "b" });
    const rang = await waitFor("reminder a", async () => {
      const { view } = await client.state<ProbeState>(probe);
      return view.rang.length > 0 ? view.rang : null;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect((await client.state<ProbeState>(probe)).view.rang.map((r) => r.tag)).toEqual(["a"]);
    expect(rang[0]!.tag).toBe("a");
  });
});
