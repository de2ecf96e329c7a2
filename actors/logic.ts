/** Small helpers for writing transitions. */
import type { Effect, Refusal, TurnResult } from "./types.ts";

export function accept<S>(state: S, effects: readonly Effect[] = []): TurnResult<S> {
  return { ok: true, state, effects };
}

export function refuse<S = never>(code: string, message: string): TurnResult<S> {
  const refusal: Refusal = { code, message };
  return { ok: false, refusal };
}

export function emit(name: string, data: unknown = {}): Effect {
  return { kind: "emit", name, data };
}
