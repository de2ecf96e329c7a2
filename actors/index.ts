export * from "./runtime/index.ts";
export { accept, emit, refuse } from "./logic.ts";
export { probeLogic } from "./probe/logic.ts";
export type { ProbeMessage, ProbeState } from "./probe/logic.ts";
export type * from "./types.ts";
import type { AnyActorLogic } from "./types.ts";
import { probeLogic } from "./probe/logic.ts";

/** Every actor type a production host runs. */
export const allActorLogics: readonly AnyActorLogic[] = [probeLogic];
