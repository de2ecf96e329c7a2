import { describe, expect, it } from "vitest";
import { z } from "zod";
import { accept, emit, refuse } from "../logic.ts";
import type { ActorLogic } from "../types.ts";
import { probeLogic } from "../probe/logic.ts";
import type { ProbeState } from "../probe/logic.ts";
import { DEFAULT_WORLD_START, World, ref } from "./world.ts";

/**
 * A tiny relay: `fan` sends `add` to each probe it names and `bad` to one that refuses;
 * `ping`/`pong` bounce between two relays `hops` times.
 */
const RelayMessage = z.discriminatedUnion("type", [
  z.object({ type: z.literal("fan"), probes: z.array(z.string()), n: z.number().int() }),
  z.object({ type: z.literal("bad"), probe: z.string() }),
  z.object({ type: z.literal("ping"), peer: z.string(), hops: z.number().int() }),
  z.object({ type: z.literal("nowhere") }),
]);
type RelayMessage = z.infer<typeof RelayMessage>;
const relayLogic: ActorLogic<{ seen: string[] }, RelayMessage> = {
  type: "relay",
  version: 1,
  messages: RelayMessage,
  initial: () => ({ seen: [] }),
  transition(state, msg, ctx) {
    const seen = [...state.seen, `${msg.type}@${ctx.origin}`];
    switch (msg.type) {
      case "fan":
        return accept(
          { seen },
          msg.probes.map((id) => ({
            kind: "send" as const,
            command: { to: ref("probe", id), msg: { type: "add", n: msg.n } },
          })),
        );
      case "bad":
        return accept({ seen }, [
          {
            kind: "send",
            command: { to: ref("probe", msg.probe), msg: { type: "refuse", reason: "because" } },
          },
        ]);
      case "ping":
        if (msg.hops <= 0) return accept({ seen }, [emit("done")]);
        return accept({ seen }, [
          {
            kind: "send",
            command: {
              to: ref("relay", msg.peer),
              msg: { type: "ping", peer: ctx.self.id, hops: msg.hops - 1 },
            },
          },
        ]);
      case "nowhere":
        return accept({ seen }, [
          { kind: "send", command: { to: ref("ghost", "g-1"), msg: { type: "boo" } } },
        ]);
    }
  },
};

const STRICT = z.object({ type: z.literal("only") });
const strictLogic: ActorLogic<null, z.infer<typeof STRICT>> = {
  type: "strict",
  version: 1,
  messages: STRICT,
  initial: () => null,
  transition: () => refuse("never", "never"),
};

const probe = (id: string) => ref("probe", id);
const system = { role: "system", id: "test" } as const;

function world(maxCascade?: number) {
  return new World({
    logics: [probeLogic, relayLogic, strictLogic],
    start: DEFAULT_WORLD_START,
    ...(maxCascade !== undefined ? { maxCascade } : {}),
  });
}

describe("World", () => {
  it("applies a client command and keeps the state, its view and its events", () => {
    const w = world();
    const outcome = w.send(probe("p-1"), { type: "add", n: 5 }, { by: system });
    expect(outcome).toMatchObject({ ok: true, events: ["added"] });
    expect(w.state<ProbeState>(probe("p-1"))).toMatchObject({ log: [5], count: 1, sum: 5 });
    expect(w.view(probe("p-1"))).toEqual(w.state(probe("p-1")));
    expect(w.eventsOf({ type: "probe", name: "added" })).toHaveLength(1);
    expect(w.events[0]).toMatchObject({
      actor: { type: "probe", id: "p-1" },
      name: "added",
      at: DEFAULT_WORLD_START,
      by: system,
      data: { n: 5 },
    });
  });

  it("answers a retry with the same id as before and changes nothing", () => {
    const w = world();
    const first = w.send(probe("p-1"), { type: "add", n: 1 }, { id: "same" });
    const again = w.send(probe("p-1"), { type: "add", n: 1 }, { id: "same" });
    expect(again).toEqual(first);
    expect(w.state<ProbeState>(probe("p-1")).count).toBe(1);
    expect(w.log.at(-1)!.replayed).toBe(true);
    expect(w.events).toHaveLength(1);
  });

  it("returns a direct refusal as the outcome, and does not count it as a cascaded one", () => {
    const w = world();
    const outcome = w.send(probe("p-1"), { type: "refuse", reason: "no" });
    expect(outcome).toMatchObject({ ok: false, refusal: { code: "probe_refused" } });
    expect(w.refusals).toEqual([]);
    expect(w.send(probe("p-1"), { type: "nonsense" })).toMatchObject({
      ok: false,
      refusal: { code: "invalid_message" },
    });
    expect(w.send(probe("p-1"), { type: "crash" })).toMatchObject({
      ok: false,
      refusal: { code: "internal_error" },
    });
  });

  it("routes sent commands to their targets in order, each its own delivery from the sender", () => {
    const w = world();
    w.send(ref("relay", "r-1"), { type: "fan", probes: ["a", "b", "a"], n: 7 });
    expect(w.state<ProbeState>(probe("a")).log).toEqual([7, 7]);
    expect(w.state<ProbeState>(probe("b")).log).toEqual([7]);
    const cascaded = w.log.filter((e) => e.depth === 1);
    expect(cascaded.map((e) => e.to.id)).toEqual(["a", "b", "a"]);
    for (const e of cascaded) {
      expect(e.envelope).toMatchObject({ origin: "actor", from: { type: "relay", id: "r-1" } });
      expect(e.causedBy).toBe(w.log[0]!.envelope!.id);
    }
    // Every command has its own, strictly increasing sequence.
    const seqs = w.log.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it("delivers breadth-first: a whole turn's commands before what they cause", () => {
    const w = world();
    w.send(ref("relay", "r-1"), { type: "ping", peer: "r-2", hops: 3 });
    expect(w.log.map((e) => `${e.to.id}:${e.depth}`)).toEqual(["r-1:0", "r-2:1", "r-1:2", "r-2:3"]);
    expect(w.eventNames(ref("relay", "r-2"))).toEqual(["done"]);
  });

  it("makes a refused cascaded command visible with its target, sender and reason", () => {
    const w = world();
    const outcome = w.send(ref("relay", "r-1"), { type: "bad", probe: "p-9" });
    expect(outcome.ok).toBe(true);
    expect(w.refusals).toEqual([
      expect.objectContaining({
        to: probe("p-9"),
        from: ref("relay", "r-1"),
        origin: "actor",
        msg: { type: "refuse", reason: "because" },
        refusal: expect.objectContaining({ code: "probe_refused" }),
      }),
    ]);
  });

  it("refuses a command for an actor type it does not run, visibly", () => {
    const w = world();
    w.send(ref("relay", "r-1"), { type: "nowhere" });
    expect(w.refusals.map((r) => [r.to, r.refusal.code])).toEqual([
      [ref("ghost", "g-1"), "unknown_actor_type"],
    ]);
    expect(() => w.state(ref("ghost", "g-1"))).toThrow(/no actor type/);
  });

  it("stops a message loop instead of spinning forever", () => {
    const w = world(10);
    expect(() => w.send(ref("relay", "r-1"), { type: "ping", peer: "r-2", hops: 100 })).toThrow(
      /message loop/,
    );
  });

  it("fires due reminders when the clock advances, in due order, with the runtime's envelope", () => {
    const w = world();
    const p = probe("p-1");
    w.send(p, { type: "arm", tag: "late", delayMs: 3_000 });
    w.send(p, { type: "arm", tag: "early", delayMs: 1_000 });
    expect(w.reminders(p).map((r) => r.name)).toEqual(["early", "late"]);
    expect(w.advance(999)).toEqual([]);
    expect(w.now).toBe(DEFAULT_WORLD_START + 999);
    const fired = w.advance(5_000);
    expect(fired.map((e) => e.envelope!.msg)).toEqual([
      { type: "ring", tag: "early" },
      { type: "ring", tag: "late" },
    ]);
    const first = fired[0]!.envelope!;
    // The schedule id is the sequence of the command that scheduled it (the second arm).
    const armedBy = w.delivered(p, "arm")[1]!;
    expect(first).toMatchObject({
      origin: "timer",
      at: DEFAULT_WORLD_START + 1_000,
      timer: { name: "early", sid: String(armedBy.seq) },
    });
    expect(first.id).toMatch(new RegExp(`^timer\\.probe\\.p-1\\.${armedBy.seq}\\.[0-9a-z]+$`));
    expect(w.state<ProbeState>(p).rang).toEqual([
      { tag: "early", at: DEFAULT_WORLD_START + 1_000 },
      { tag: "late", at: DEFAULT_WORLD_START + 3_000 },
    ]);
    expect(w.reminders()).toEqual([]);
    expect(w.stored(p).timers).toEqual({});
    expect(w.now).toBe(DEFAULT_WORLD_START + 5_999);
  });

  it("fires a replaced reminder once, at its new time, and a cancelled one never", () => {
    const w = world();
    const p = probe("p-1");
    w.send(p, { type: "arm", tag: "a", delayMs: 1_000 });
    w.send(p, { type: "arm", tag: "a", delayMs: 5_000 });
    w.send(p, { type: "arm", tag: "b", delayMs: 2_000 });
    w.send(p, { type: "disarm", tag: "b" });
    w.advance(10_000);
    expect(w.state<ProbeState>(p).rang).toEqual([{ tag: "a", at: DEFAULT_WORLD_START + 5_000 }]);
    expect(w.refusals).toEqual([]);
  });

  it("runs a reminder's cascade at the reminder's due time", () => {
    const w = world();
    w.send(probe("p-1"), { type: "arm", tag: "t", delayMs: 0 });
    // Due now: it fires on the next advance, even a zero one.
    expect(w.advance(0)).toHaveLength(1);
    expect(w.eventsOf({ name: "rang" })[0]!.at).toBe(DEFAULT_WORLD_START);
  });

  it("refuses messages that do not survive the wire before the actor sees them", () => {
    const w = world();
    expect(w.send(ref("strict", "s-1"), { type: "other" })).toMatchObject({
      ok: false,
      refusal: { code: "invalid_message" },
    });
    expect(w.send(probe("p-1"), { type: "add", n: 1 }, { id: "not a valid id!" })).toMatchObject({
      ok: false,
      refusal: { code: "invalid_envelope" },
    });
  });

  it("refuses to move time backwards", () => {
    const w = world();
    expect(() => w.advance(-1)).toThrow(RangeError);
    expect(() => w.advanceTo(w.now - 1)).toThrow(RangeError);
  });
});
