/**
 * Faults under load: the simulated city runs on a deployment of real processes (two actor
 * hosts, two gateways, a projector; a nats-server, Postgres and Redis of its own) while, in
 * turn, an actor host is SIGKILLed, the market's host is SIGKILLed, nats-server restarts,
 * Postgres stops for 30 s, Redis stops for 30 s, a gateway is dropped and restored, and a client
 * stops reading its socket. A probe load keeps acknowledged commands flowing through every
 * partition; its longest gap is each fault's recovery time (≤ 5 s). At the end the city drains
 * and the invariants are checked over the whole history, the actors' states and Postgres (see
 * test/harness/audit.ts): no order lost, none held by two couriers, every acknowledged command
 * applied once, every accepted reading stored, projections caught up.
 */
import { readFile } from "node:fs/promises";
import { jetstream } from "@nats-io/jetstream";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { schema } from "../../db/index.ts";
import { partitionOf } from "../../nats/index.ts";
import { describeViolations } from "../harness/audit.ts";
import { CityRun } from "../harness/city-run.ts";
import { scrapeMetric } from "../hosts.ts";
import { Watcher } from "../harness/watcher.ts";
import { waitFor } from "../nats-helpers.ts";

const RECOVERY_MS = 5000;
const OUTAGE_MS = Number(process.env.FAULT_OUTAGE_MS ?? 30_000);
const figures: { fault: string; figure: string; value: string }[] = [];
const record = (fault: string, figure: string, value: number | string, unit = "ms") =>
  figures.push({ fault, figure, value: typeof value === "number" ? `${value} ${unit}` : value });

describe("the city under faults", () => {
  let run: CityRun;
  const watchers: Watcher[] = [];

  beforeAll(async () => {
    run = await CityRun.start({
      name: "faults",
      ports: { nats: 17522, postgres: 17532, redis: 17479 },
      speedup: 10,
      start: "11:00",
      couriers: 16,
      hosts: 2,
      gateways: 2,
      partitions: 8,
    });
    // Warm: orders flowing, every partition answering.
    await waitFor("orders placed", () => run.placed.length >= 5, 60_000, 500);
  }, 120_000);

  afterAll(async () => {
    for (const w of watchers) w.close();
    console.table(figures);
    await run?.stop();
  }, 60_000);

  /** Waits until every partition has applied a probe after now; the longest gap since `since`. */
  async function recovered(since: number, what: string): Promise<number> {
    const after = Date.now();
    await waitFor(
      `${what}: every partition applying commands again`,
      () => run.probes.lastApplied().every((t) => t > after),
      30_000,
      100,
    );
    return run.probes.worstGap(since, Date.now()).gapMs;
  }

  const liveGateways = () =>
    run.gateways.flatMap((g, i) => (g && g.child.exitCode === null ? [run.gatewayUrl(i)] : []));

  it("recovers from a SIGKILLed actor host within 5 s", async () => {
    const victim = run.liveHosts()[0]!;
    const t0 = Date.now();
    victim.kill("SIGKILL");
    await victim.exited;
    const gap = await recovered(t0, "host kill");
    record("SIGKILL an actor host", "longest gap of any partition", gap);
    await run.startHost(); // the orchestrator's replacement
    expect(gap).toBeLessThanOrEqual(RECOVERY_MS);
  }, 60_000);

  it("recovers from a SIGKILLed market host within 5 s, and the market keeps offering", async () => {
    const partition = partitionOf(
      { type: "market", id: run.world.marketId },
      run.topology.options.partitions,
    );
    const holder = await run.holderOf(partition);
    const victim = run.liveHosts().find((h) => h.id === holder);
    expect(victim, `the market's holder ${holder} is one of ours`).toBeDefined();
    const t0 = Date.now();
    victim!.kill("SIGKILL");
    await victim!.exited;
    const gap = await recovered(t0, "market host kill");
    await run.startHost();
    const gapMarket = run.probes.gaps(t0, Date.now())[partition]!.gapMs;
    record("SIGKILL the market's host", "longest gap, market's partition", gapMarket);
    record("SIGKILL the market's host", "longest gap of any partition", gap);
    // Offers go on: an order placed after the kill gets one.
    const before = run.placed.length;
    await waitFor("an order placed after the kill", () => run.placed.length > before, 60_000, 200);
    const orderId = run.placed[before]!.orderId;
    await waitFor(
      `order ${orderId} offered or assigned`,
      async () => {
        const { view } = await run.actors.state<{ status: string }>({ type: "order", id: orderId });
        return !["created", "accepted", "preparing", "ready"].includes(view.status);
      },
      60_000,
      500,
    );
    expect(gap).toBeLessThanOrEqual(RECOVERY_MS);
  }, 120_000);

  it("recovers within 5 s of nats-server coming back from a restart", async () => {
    const t0 = Date.now();
    await run.nats.stop();
    await run.nats.start();
    const back = Date.now();
    const after = await recovered(back, "nats restart");
    record("restart nats-server (file storage)", "server down (stop + start)", back - t0);
    record("restart nats-server (file storage)", "longest gap after it was back", after);
    record(
      "restart nats-server (file storage)",
      "longest gap of any partition",
      run.probes.worstGap(t0, Date.now()).gapMs,
    );
    expect(after).toBeLessThanOrEqual(RECOVERY_MS);
  }, 60_000);

  it("catches the projections up within 5 s of Postgres coming back after 30 s", async () => {
    const readings = () => run.db.db.$count(schema.temperatureReadings);
    await run.awaitProjections(30_000);
    const t0 = Date.now();
    await run.postgres.stop();
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    const lagWhileDown = await run.projectionLag();
    await run.postgres.start();
    const back = Date.now();
    const caughtUp = await run.awaitProjections(60_000);
    record("stop Postgres 30 s", "projection lag at restart", lagWhileDown, "events");
    record("stop Postgres 30 s", "caught up after restart", caughtUp);
    record("stop Postgres 30 s", "longest command gap", run.probes.worstGap(t0, back).gapMs);
    expect(lagWhileDown, "readings piled up while Postgres was down").toBeGreaterThan(0);
    expect(await readings()).toBeGreaterThan(0);
    expect(caughtUp).toBeLessThanOrEqual(RECOVERY_MS);
    // The command path never noticed.
    expect(run.probes.worstGap(t0, back).gapMs).toBeLessThanOrEqual(RECOVERY_MS);
  }, 120_000);

  it("keeps serving, positions included, through 30 s without Redis", async () => {
    // The couriers' positions pass the gateways' rate limiter (Redis): the tracker must keep
    // taking them at the rate it took them before.
    const fixes = async () => {
      let sum = 0;
      for (const h of run.liveHosts()) {
        sum += await scrapeMetric(h.metricsPort, "xianda_tracker_fixes_total").catch(() => 0);
      }
      return sum;
    };
    const f0 = await fixes();
    await new Promise((r) => setTimeout(r, 10_000));
    const f1 = await fixes();
    const before = (f1 - f0) / 10;
    const t0 = Date.now();
    const failed0 = run.httpFailed.length;
    const answered0 = run.httpAnswered.length;
    await run.redis.stop();
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    const during = ((await fixes()) - f1) / ((Date.now() - t0) / 1000);
    await run.redis.start();
    const t1 = Date.now();
    const answered = run.httpAnswered.slice(answered0).filter((t) => t <= t1).length;
    const failed = run.httpFailed.slice(failed0).filter((t) => t <= t1).length;
    record("stop Redis 30 s", "HTTP answered / failed during", `${answered} / ${failed}`);
    record(
      "stop Redis 30 s",
      "fixes into the tracker before / during",
      `${before.toFixed(1)} / ${during.toFixed(1)} a s`,
    );
    expect(failed).toBe(0);
    expect(before).toBeGreaterThan(1);
    expect(during).toBeGreaterThanOrEqual(before * 0.4);
  }, 120_000);

  it("resumes a shopper's and a dispatcher's live view on the other gateway without a gap", async () => {
    const marketId = run.world.marketId;
    const dispatcher = new Watcher(
      liveGateways,
      await run.token({ sub: "d-faults", role: "dispatcher", mkt: marketId }),
      `market:${marketId}`,
      1,
    );
    watchers.push(dispatcher);
    await dispatcher.open();
    await new Promise((r) => setTimeout(r, 3000));
    const t0 = Date.now();
    run.gateways[1]!.kill("SIGKILL");
    await run.gateways[1]!.exited;
    run.gateways[1] = null;
    await waitFor("the dispatcher resubscribed", () => dispatcher.subscribedAt.length >= 2, 15_000);
    const resumedIn = dispatcher.subscribedAt[1]! - t0;
    // Restore the gateway; a shopper on each sees the same frames of one order.
    await run.startGateway(1);
    await waitFor(
      "frames after the resume",
      () => dispatcher.received.at(-1)!.at > t0 + 2000,
      15_000,
    );
    record("drop a gateway", "dispatcher resubscribed on the other", resumedIn);

    // Every frame of the channel between the first and the last one received, from the PUSH
    // stream; the ones the dispatcher did not get (positions may be coalesced for a slow
    // client; everything else must arrive).
    const first = dispatcher.received[0]!.offset;
    const last = dispatcher.received.at(-1)!.offset;
    const got = new Set(dispatcher.received.map((r) => r.offset));
    const consumer = await jetstream(run.nc).consumers.get(run.topology.streams.push, {
      filter_subjects: run.topology.subjects.push("market", marketId),
      opt_start_seq: first,
      deliver_policy: "by_start_sequence",
    });
    const missed: number[] = [];
    const messages = await consumer.consume({ max_messages: 512 });
    for await (const m of messages) {
      const kind = (m.json<{ kind?: string }>().kind ?? "") as string;
      if (!got.has(m.seq) && kind !== "couriers" && kind !== "courier") missed.push(m.seq);
      if (m.seq >= last) break;
    }
    await messages.close();
    record("drop a gateway", "frames missed across the switch", missed.length, "frames");
    expect(missed).toEqual([]);
    expect(resumedIn).toBeLessThanOrEqual(RECOVERY_MS);

    // Two gateways, one order: a shopper on each sees the same frames.
    const order = run.placed.at(-1)!;
    const token = await run.token({
      sub: `u-${order.orderId}`,
      role: "shopper",
      ord: order.orderId,
    });
    const [a, b] = [0, 1].map((i) => new Watcher(liveGateways, token, `order:${order.orderId}`, i));
    watchers.push(a!, b!);
    await Promise.all([a!.open(), b!.open()]);
    await new Promise((r) => setTimeout(r, 5000));
    const common = (w: Watcher) =>
      w.received
        .map((r) => r.offset)
        .filter((o) => o <= Math.min(a!.lastOffset ?? 0, b!.lastOffset ?? 0));
    expect(common(a!)).toEqual(common(b!));
  }, 90_000);

  it("does not let a client that stopped reading slow the others or grow the gateway", async () => {
    const marketId = run.world.marketId;
    const token = await run.token({ sub: "d-stalled", role: "dispatcher", mkt: marketId });
    const healthy = new Watcher(liveGateways, token, `market:${marketId}`, 0);
    watchers.push(healthy);
    await healthy.open();
    const rss = async () => {
      const pid = run.gateways[0]!.child.pid!;
      const status = await readFile(`/proc/${pid}/status`, "utf8");
      return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
    };
    const rssBefore = await rss();
    // Several stalled clients, each on many channels, never reading: their socket buffers fill.
    const stalled: WebSocket[] = [];
    for (let i = 0; i < 5; i++) {
      const ws = new WebSocket(
        `${run.gatewayUrl(0).replace(/^http/, "ws")}/ws/live?token=${encodeURIComponent(token)}`,
      );
      await new Promise<void>((resolve, reject) => {
        ws.once("open", () => resolve());
        ws.once("error", reject);
      });
      ws.send(JSON.stringify({ type: "subscribe", channel: `market:${marketId}`, offset: 0 }));
      for (const id of run.world.courierIds) {
        ws.send(JSON.stringify({ type: "subscribe", channel: `courier:${id}`, offset: 0 }));
      }
      (ws as unknown as { _socket: { pause(): void } })._socket.pause();
      stalled.push(ws);
    }
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, 20_000));
    const t1 = Date.now();
    const during = healthy.received.filter((r) => r.at >= t0 && r.at <= t1).map((r) => r.at);
    let gap = 0;
    for (let k = 1, times = [t0, ...during, t1]; k < times.length; k++) {
      gap = Math.max(gap, times[k]! - times[k - 1]!);
    }
    const growth = (await rss()) - rssBefore;
    for (const ws of stalled) ws.terminate();
    record("stall 5 clients (socket buffers full)", "healthy client's longest gap", gap);
    record("stall 5 clients (socket buffers full)", "gateway RSS growth", Math.round(growth), "MB");
    record("stall 5 clients (socket buffers full)", "probe gap", run.probes.worstGap(t0, t1).gapMs);
    expect(during.length).toBeGreaterThan(5);
    expect(gap).toBeLessThanOrEqual(RECOVERY_MS);
    expect(growth).toBeLessThan(100);
  }, 60_000);

  it("lost nothing, held nothing twice and applied every acknowledged command once", async () => {
    await run.drain(60_000);
    await run.probes.stop();
    const probes = await run.probes.check();
    const report = await run.audit({ quiesced: true, settleMs: 30_000 });
    record(
      "whole run",
      "orders placed / delivered",
      `${report.figures.placed} / ${report.figures.delivered}`,
    );
    record(
      "whole run",
      "readings accepted / stored",
      `${report.figures.readingsAccepted} / ${report.figures.readingsStored}`,
    );
    record("whole run", "events republished (same id)", report.figures.republished, "events");
    record("whole run", "invariant violations", report.violations.length, "violations");
    expect(describeViolations(report.violations)).toBe("");
    expect(probes.filter((p) => !p.ok)).toEqual([]);
    expect(report.figures.placed).toBeGreaterThan(20);
    expect(report.figures.readingsAccepted).toBeGreaterThan(0);
    expect(await run.projectionLag()).toBe(0);
  }, 180_000);
});
