/** Helpers for unit tests of one actor's transitions (no runtime, no server). */
import { expect } from "vitest";
import type { ActorRef, Effect, Origin, Principal, TurnContext, TurnResult } from "../types.ts";

/**
 * Contexts for turns of `self`: each call gets the next sequence and command id, as the runtime
 * would give. `fromActor` and `fromTimer` are turns without a principal.
 */
export function contexts(self: ActorRef, defaultAt: number) {
  let seq = 0;
  const ctx = (
    by: Principal | undefined,
    at = defaultAt,
    origin: Origin = "client",
  ): TurnContext => {
    seq += 1;
    const base = { self, now: at, commandId: `cmd-${seq}`, seq, origin };
    return by === undefined ? base : { ...base, by };
  };
  return {
    ctx,
    fromActor: (at = defaultAt) => ctx(undefined, at, "actor"),
    fromTimer: (at = defaultAt) => ctx(undefined, at, "timer"),
  };
}

/** The refusal's code, after checking that it is a refusal with a message for people. */
export function refusedWith(result: TurnResult<unknown>): string {
  if (result.ok) throw new Error("expected a refusal");
  expect(result.refusal.message.length).toBeGreaterThan(0);
  return result.refusal.code;
}

/** The names of the events a turn emitted, in order. */
export const events = (effects: readonly Effect[]): string[] =>
  effects.flatMap((e) => (e.kind === "emit" ? [e.name] : []));
