/**
 * The probe: a diagnostic actor every host runs. It records, in order, each number it is given
 * and each reminder that rang, which makes the runtime's guarantees checkable from outside
 * (order per actor, exactly once, reminders after restarts) in tests, benchmarks and as a
 * production canary.
 */
import { z } from "zod";
import { accept, emit, refuse } from "../logic.ts";
import type { ActorLogic } from "../types.ts";

export const ProbeMessage = z.discriminatedUnion("type", [
  /** Append `n` to the log. */
  z.object({ type: z.literal("add"), n: z.number().int() }),
  /** Ring reminder `tag` after `delayMs` (replaces an earlier schedule with the same tag). */
  z.object({
    type: z.literal("arm"),
    tag: z.string().min(1).max(64),
    delayMs: z.number().int().nonnegative(),
  }),
  z.object({ type: z.literal("disarm"), tag: z.string().min(1).max(64) }),
  /** Delivered by the reminder. */
  z.object({ type: z.literal("ring"), tag: z.string().min(1).max(64) }),
  /** Always refused (exercises refusals end to end). */
  z.object({ type: z.literal("refuse"), reason: z.string().max(200) }),
  /** Throws inside the transition (a bug must not block its partition). */
  z.object({ type: z.literal("crash") }),
]);
export type ProbeMessage = z.infer<typeof ProbeMessage>;

export interface ProbeState {
  /** The numbers added, in the order applied (the last 64: state stays small). */
  readonly log: readonly number[];
  readonly count: number;
  readonly sum: number;
  /** Reminders that rang, with the time they were due. */
  readonly rang: readonly { tag: string; at: number }[];
}

const MAX_LOG = 64;

export const probeLogic: ActorLogic<ProbeState, ProbeMessage> = {
  type: "probe",
  version: 1,
  messages: ProbeMessage,
  initial: () => ({ log: [], count: 0, sum: 0, rang: [] }),
  transition(state, msg, ctx) {
    switch (msg.type) {
      case "add": {
        const log = state.log.length >= MAX_LOG ? state.log.slice(1) : state.log.slice();
        log.push(msg.n);
        return accept({ ...state, log, count: state.count + 1, sum: state.sum + msg.n }, [
          emit("added", { n: msg.n }),
        ]);
      }
      case "arm":
        return accept(state, [
          {
            kind: "schedule",
            timer: msg.tag,
            at: ctx.now + msg.delayMs,
            msg: { type: "ring", tag: msg.tag },
          },
        ]);
      case "disarm":
        return accept(state, [{ kind: "cancel", timer: msg.tag }]);
      case "ring":
        if (ctx.origin !== "timer") return refuse("not_a_timer", "ring comes from reminders only");
        return accept({ ...state, rang: [...state.rang, { tag: msg.tag, at: ctx.now }] }, [
          emit("rang", { tag: msg.tag }),
        ]);
      case "refuse":
        return refuse("probe_refused", msg.reason);
      case "crash":
        throw new Error("probe crashed on purpose");
    }
  },
};
