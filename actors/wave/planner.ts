/**
 * The host's wave planner: answers each wave's `plan_requested` with `plan_ready`, solving the
 * problem on a worker thread (`planInWorker`) so that no actor turn and no live dispatch waits on
 * a plan. It runs once per deployment as a host singleton and keeps no state: the problem travels
 * in the event, the answer is a command to the wave (deduplicated by an id made of the wave, the
 * request and the attempt), and a request lost with a host is asked again by the wave's own
 * `plan_timeout` reminder.
 */
import { jetstream } from "@nats-io/jetstream";
import type { ConsumerMessages } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { buildInstance, planInWorker } from "../../dispatch/waves/index.ts";
import type { PdptwInstance, PlanOptions, PlanResult } from "../../dispatch/waves/index.ts";
import type { Topology } from "../../nats/index.ts";
import type { EventEnvelope } from "../../protocol/index.ts";
import type { PlannedVisit } from "../../protocol/actors/wave.ts";
import type { LatLng } from "../../protocol/ids.ts";
import type { ActorClient } from "../runtime/client.ts";
import type { Clock } from "../runtime/clock.ts";
import { systemClock } from "../runtime/clock.ts";
import { DIMENSIONS, travelMinutes } from "./routes.ts";
import type { WaveProblem } from "./routes.ts";

/** The planner's PDPTW instance for a wave's problem; request k is `problem.requests[k]`. */
export function problemInstance(problem: WaveProblem): PdptwInstance {
  const places = new Map<string, LatLng>([["depot", problem.depot]]);
  for (const r of problem.requests) {
    places.set(r.pickup.place, r.pickup.location);
    places.set(r.dropoff.place, r.dropoff.location);
  }
  const keys = [...places.keys()];
  const index = new Map(keys.map((k, i) => [k, i]));
  const L = keys.length;
  const time = new Float64Array(L * L);
  for (let i = 0; i < L; i++) {
    for (let j = 0; j < L; j++) {
      time[i * L + j] = travelMinutes(places.get(keys[i]!)!, places.get(keys[j]!)!, problem.travel);
    }
  }
  const capacity: Record<string, number> = {};
  DIMENSIONS.forEach((d, i) => (capacity[d] = problem.capacity[i]!));
  return buildInstance({
    name: `wave-request-${problem.requestId}`,
    depot: { at: 0, ready: 0, due: problem.horizon },
    fleet: { vehicles: problem.vans, capacity },
    travel: { locations: L, time },
    requests: problem.requests.map((r) => {
      const load: Record<string, number> = {};
      DIMENSIONS.forEach((d, i) => (load[d] = r.load[i]!));
      return {
        pickup: { ...r.pickup, at: index.get(r.pickup.place)! },
        delivery: { ...r.dropoff, at: index.get(r.dropoff.place)! },
        load,
      };
    }),
  });
}

/** A solution's routes back in orders: node 2k+1 is request k's pickup, 2k+2 its drop-off. */
export function visitsOf(
  problem: WaveProblem,
  result: Pick<PlanResult, "routes" | "unassigned">,
): { routes: PlannedVisit[][]; unassigned: string[] } {
  const orderOf = (node: number) => problem.requests[Math.floor((node - 1) / 2)]!.orderId;
  return {
    routes: result.routes
      .filter((r) => r.length > 0)
      .map((r) =>
        r.map((node) => ({ orderId: orderOf(node), kind: node % 2 === 1 ? "pickup" : "dropoff" })),
      ),
    unassigned: result.unassigned.map(orderOf),
  };
}

export interface WavePlannerOptions {
  readonly nc: NatsConnection;
  readonly topology: Topology;
  readonly actors: ActorClient;
  readonly log: Logger;
  readonly clock?: Clock;
  /** The planner's budget per plan. Default 3 s of wall time. */
  readonly plan?: PlanOptions;
  /** Runs one plan. Default `planInWorker` (a worker thread). */
  readonly solver?: (
    instance: PdptwInstance,
    options: PlanOptions,
    signal: AbortSignal,
  ) => Promise<PlanResult>;
}

const decoder = new TextDecoder();

export class WavePlanner {
  readonly #o: WavePlannerOptions;
  /** The plan in progress per wave; a newer request aborts the older one. */
  readonly #running = new Map<string, { requestId: number; abort: AbortController }>();
  #messages: ConsumerMessages | null = null;
  #done: Promise<void> | null = null;

  constructor(options: WavePlannerOptions) {
    this.#o = options;
  }

  async start(): Promise<void> {
    const { nc, topology } = this.#o;
    const clock = this.#o.clock ?? systemClock;
    // Requests older than this are asked again by the waves' own reminders.
    const consumer = await jetstream(nc).consumers.get(topology.streams.events, {
      filter_subjects: topology.subjects.eventsNamed("wave", "plan_requested"),
      deliver_policy: "by_start_time",
      opt_start_time: new Date(clock.now() - 5_000).toISOString(),
    });
    const messages = await consumer.consume({ max_messages: 64 });
    this.#messages = messages;
    this.#done = (async () => {
      for await (const m of messages) {
        try {
          this.#on(JSON.parse(decoder.decode(m.data)) as EventEnvelope);
        } catch (err) {
          this.#o.log.warn({ err, subject: m.subject }, "wave plan request not read");
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.#messages?.stop();
    for (const { abort } of this.#running.values()) abort.abort(new Error("planner stopping"));
    await this.#done;
  }

  #on(event: EventEnvelope): void {
    const waveId = event.actor.id;
    const { problem } = event.data as { problem: WaveProblem };
    const running = this.#running.get(waveId);
    if (running !== undefined) {
      if (running.requestId > problem.requestId) return;
      running.abort.abort(new Error("a newer plan was requested"));
    }
    const abort = new AbortController();
    this.#running.set(waveId, { requestId: problem.requestId, abort });
    void this.#plan(waveId, problem, abort).finally(() => {
      if (this.#running.get(waveId)?.abort === abort) this.#running.delete(waveId);
    });
  }

  async #plan(waveId: string, problem: WaveProblem, abort: AbortController): Promise<void> {
    const { actors, log } = this.#o;
    const to = { type: "wave", id: waveId };
    const id = `wave-plan.${waveId}.${problem.requestId}.${problem.attempt}`;
    const by = { role: "system" as const, id: "wave-planner" };
    let instance: PdptwInstance;
    try {
      instance = problemInstance(problem);
    } catch (err) {
      await actors.send(
        to,
        { type: "plan_failed", requestId: problem.requestId, reason: String(err) },
        { id, by },
      );
      return;
    }
    const seed = problem.requestId * 100 + problem.attempt;
    const options: PlanOptions = { timeLimitMs: 3_000, ...this.#o.plan, seed };
    try {
      const solver = this.#o.solver ?? planInWorker;
      const result = await solver(instance, options, abort.signal);
      const { routes, unassigned } = visitsOf(problem, result);
      await actors.send(
        to,
        {
          type: "plan_ready",
          requestId: problem.requestId,
          routes,
          unassigned,
          seed,
          elapsedMs: result.elapsedMs,
        },
        { id, by },
      );
      log.info(
        {
          waveId,
          requestId: problem.requestId,
          vans: result.vehicles,
          cost: result.cost,
          ms: result.elapsedMs,
        },
        "wave planned",
      );
    } catch (err) {
      if (abort.signal.aborted) return;
      log.warn(
        { err, waveId, requestId: problem.requestId },
        "wave plan failed; the wave asks again",
      );
    }
  }
}
