import { describe, expect, it } from "vitest";
import type { CommandEnvelope } from "../../protocol/index.ts";
import { probeLogic } from "../probe/logic.ts";
import type { ProbeState } from "../probe/logic.ts";
import { RECENT_OUTCOMES } from "./stored.ts";
import { applyBatch, freshActor, restoreActor } from "./turn.ts";
import type { Delivery, Routing } from "./turn.ts";

const ref = { type: "probe", id: "p1" };
const routing: Routing = {
  event: (r, name) => `evt.${r.type}.${r.id}.${name}`,
  command: (r) => `cmd.0.${r.type}.${r.id}`,
};
const T0 = Date.UTC(2026, 10, 21, 4, 0, 0);

function cmd(
  seq: number,
  msg: CommandEnvelope["msg"],
  extra: Partial<CommandEnvelope> = {},
): Delivery {
  return { seq, envelope: { id: `c${seq}`, at: T0 + seq, origin: "client", msg, ...extra } };
}

function run(deliveries: Delivery[], start = freshActor(probeLogic, ref)) {
  return applyBatch(probeLogic, ref, start, deliveries, routing);
}

describe("applying a batch of commands to one actor", () => {
  it("applies commands in log order and records the last sequence", () => {
    const r = run([cmd(3, { type: "add", n: 1 }), cmd(7, { type: "add", n: 2 })]);
    expect((r.state as ProbeState).log).toEqual([1, 2]);
    expect(r.stored.seq).toBe(7);
    expect(r.accepted).toBe(2);
    expect(r.applied.map((a) => a.outcome?.ok)).toEqual([true, true]);
  });

  it("skips redelivered commands and writes nothing when all were seen", () => {
    const first = run([cmd(3, { type: "add", n: 1 })]);
    const again = run([cmd(3, { type: "add", n: 1 })], first);
    expect(again.changed).toBe(false);
    expect(again.redelivered).toBe(1);
    expect((again.state as ProbeState).log).toEqual([1]);
    // The redelivery is answered with the original outcome.
    expect(again.applied[0]!.outcome).toEqual(first.applied[0]!.outcome);
  });

  it("answers a retried command id with the first outcome and changes nothing", () => {
    const first = run([cmd(3, { type: "add", n: 1 }, { id: "same" })]);
    const retry = run([cmd(9, { type: "add", n: 1 }, { id: "same" })], first);
    expect((retry.state as ProbeState).log).toEqual([1]);
    expect(retry.stored.seq).toBe(9);
    expect(retry.applied[0]).toMatchObject({
      replayed: true,
      outcome: { commandId: "same", seq: 3 },
    });
  });

  it("refuses an unreadable envelope, an invalid message and a crashing transition with reasons", () => {
    const r = run([
      { seq: 1, envelope: null, unreadable: "command is not JSON" },
      cmd(2, { type: "add", n: "x" }),
      cmd(3, { type: "crash" }),
      cmd(4, { type: "refuse", reason: "because" }),
      cmd(5, { type: "add", n: 5 }),
    ]);
    expect(r.applied.map((a) => (a.outcome!.ok ? "ok" : a.outcome!.refusal.code))).toEqual([
      "invalid_envelope",
      "invalid_message",
      "internal_error",
      "probe_refused",
      "ok",
    ]);
    expect((r.state as ProbeState).log).toEqual([5]);
    expect(r.stored.seq).toBe(5);
  });

  it("gives events deterministic ids and puts them in the outbox", () => {
    const r = run([cmd(4, { type: "add", n: 1 })]);
    expect(r.stored.outbox).toEqual([
      {
        kind: "event",
        subject: "evt.probe.p1.added",
        event: expect.objectContaining({
          id: "probe.p1.4.0",
          name: "added",
          seq: 4,
          commandId: "c4",
        }),
      },
    ]);
    // The same command replayed on a fresh actor produces the very same event id.
    expect(run([cmd(4, { type: "add", n: 1 })]).stored.outbox).toEqual(r.stored.outbox);
  });

  it("schedules a reminder, delivers it once with origin timer, and ignores a stale firing", () => {
    const armed = run([cmd(2, { type: "arm", tag: "t", delayMs: 1000 })]);
    expect(armed.stored.timers["t"]).toEqual({
      at: T0 + 2 + 1000,
      sid: "2",
      msg: { type: "ring", tag: "t" },
    });
    expect([...armed.scheduled.keys()]).toEqual(["t"]);
    const firing = (seq: number, sid: string) =>
      cmd(seq, { type: "ring", tag: "ignored" }, { origin: "timer", timer: { name: "t", sid } });
    const rang = run([firing(5, "2"), firing(6, "2")], armed);
    expect(rang.applied.map((a) => (a.outcome!.ok ? "ok" : a.outcome!.refusal.code))).toEqual([
      "ok",
      "timer_stale",
    ]);
    // The stored message is delivered, not whatever the firing carried.
    expect((rang.state as ProbeState).rang).toEqual([{ tag: "t", at: T0 + 5 }]);
    expect(rang.stored.timers).toEqual({});
    expect([...rang.cleared]).toEqual(["t"]);
  });

  it("lets a new schedule replace the old one, so the old firing is stale", () => {
    const armed = run([
      cmd(2, { type: "arm", tag: "t", delayMs: 10 }),
      cmd(3, { type: "arm", tag: "t", delayMs: 20 }),
    ]);
    const old = run(
      [cmd(4, { type: "ring", tag: "t" }, { origin: "timer", timer: { name: "t", sid: "2" } })],
      armed,
    );
    expect(old.applied[0]!.outcome).toMatchObject({ ok: false, refusal: { code: "timer_stale" } });
  });

  it("cancels a reminder and unindexes it", () => {
    const armed = run([cmd(2, { type: "arm", tag: "t", delayMs: 10 })]);
    const disarmed = run([cmd(3, { type: "disarm", tag: "t" })], armed);
    expect(disarmed.stored.timers).toEqual({});
    expect([...disarmed.cleared]).toEqual(["t"]);
  });

  it("refuses a client pretending to be a reminder", () => {
    const r = run([cmd(1, { type: "ring", tag: "t" }, { origin: "timer" })]);
    expect(r.applied[0]!.outcome).toMatchObject({
      ok: false,
      refusal: { code: "invalid_envelope" },
    });
    const forged = run([cmd(1, { type: "ring", tag: "t" })]);
    expect(forged.applied[0]!.outcome).toMatchObject({
      ok: false,
      refusal: { code: "not_a_timer" },
    });
  });

  it("keeps a bounded list of recent outcomes", () => {
    const deliveries = Array.from({ length: RECENT_OUTCOMES + 10 }, (_, i) =>
      cmd(i + 1, { type: "add", n: i }),
    );
    expect(run(deliveries).stored.recent).toHaveLength(RECENT_OUTCOMES);
  });

  it("survives persist → JSON → restore and continues identically", () => {
    const r = run([cmd(1, { type: "add", n: 1 }), cmd(2, { type: "arm", tag: "x", delayMs: 5 })]);
    const stored = JSON.parse(JSON.stringify(r.stored));
    const restored = { stored, state: restoreActor(probeLogic, stored) };
    const next = [cmd(3, { type: "add", n: 2 })];
    expect(run(next, restored).stored).toEqual(run(next, r).stored);
  });
});
