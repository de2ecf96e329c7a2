/**
 * A steady stream of acknowledged commands through every partition, beside the real load: one
 * probe actor per partition gets `add n` (n = 1, 2, 3 …) every `everyMs`, each waited for
 * (`call`) and retried with the same command id until it is applied. Two figures come out:
 *
 * - **availability**: per partition, the longest time between two applied commands. During a
 *   fault it is the recovery time the reliability issue asks for (≤ 5 s): from the moment the
 *   command path broke to the moment it carried commands again.
 * - **applied once, in order**: at the end each probe's count and sum must equal what was
 *   acknowledged, and its log (the last 64) must be the tail of 1..n.
 */
import * as hdr from "hdr-histogram-js";
import type { ActorClient, ProbeState } from "../../actors/index.ts";
import { partitionOf } from "../../nats/index.ts";

export interface ProbeGap {
  readonly partition: number;
  readonly probe: string;
  /** Longest wall time between two applied commands, ms. */
  readonly gapMs: number;
  /** When the longest gap started (epoch ms). */
  readonly from: number;
}

export interface ProbeCheck {
  readonly probe: string;
  readonly acknowledged: number;
  readonly applied: number;
  readonly ok: boolean;
  readonly detail: string;
}

/** One probe actor id per partition: `probe/<prefix>-<p>-<k>` with partition p. */
export function probePerPartition(prefix: string, partitions: number): string[] {
  const ids: string[] = [];
  for (let p = 0; p < partitions; p++) {
    for (let k = 0; ; k++) {
      const id = `${prefix}-${p}-${k}`;
      if (partitionOf({ type: "probe", id }, partitions) === p) {
        ids.push(id);
        break;
      }
    }
  }
  return ids;
}

export class ProbeLoad {
  readonly ids: string[];
  /** Send → outcome of each applied command (its retries included), ms. */
  readonly latency = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000 });
  readonly #client: ActorClient;
  readonly #everyMs: number;
  readonly #applied: number[][];
  readonly #next: number[];
  #running = false;
  #stoppedAt: number | null = null;
  #loops: Promise<void>[] = [];

  constructor(client: ActorClient, o: { prefix: string; partitions: number; everyMs?: number }) {
    this.#client = client;
    this.ids = probePerPartition(o.prefix, o.partitions);
    this.#everyMs = o.everyMs ?? 100;
    this.#applied = this.ids.map(() => []);
    this.#next = this.ids.map(() => 1);
  }

  start(): void {
    this.#running = true;
    this.#loops = this.ids.map((_, i) => this.#loop(i));
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
    this.#stoppedAt ??= Date.now();
  }

  async #loop(i: number): Promise<void> {
    const id = this.ids[i]!;
    while (this.#running) {
      const n = this.#next[i]!;
      const t0 = performance.now();
      // The same id until applied: a retry after a lost reply or a dead host applies once.
      for (;;) {
        try {
          const outcome = await this.#client.call(
            { type: "probe", id },
            { type: "add", n },
            { id: `${id}-${n}`, timeoutMs: 1000 },
          );
          if (outcome.ok) break;
          throw new Error(`${id} add ${n} refused: ${outcome.refusal.code}`);
        } catch (err) {
          if (err instanceof Error && err.message.includes("refused")) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      this.#applied[i]!.push(Date.now());
      this.latency.recordValue(Math.max(1, Math.round(performance.now() - t0)));
      this.#next[i] = n + 1;
      await new Promise((r) => setTimeout(r, this.#everyMs));
    }
  }

  /**
   * Per partition, the longest time within [from, to] with no command applied (the edges count:
   * a path still broken at `to` has a gap running up to it).
   */
  gaps(from = 0, until = Date.now()): ProbeGap[] {
    const to = Math.min(until, this.#stoppedAt ?? until);
    return this.ids.map((probe, partition) => {
      const times = [from, ...this.#applied[partition]!.filter((t) => t > from && t < to), to];
      let gapMs = 0;
      let start = from;
      for (let k = 1; k < times.length; k++) {
        const g = times[k]! - times[k - 1]!;
        if (g > gapMs) {
          gapMs = g;
          start = times[k - 1]!;
        }
      }
      return { partition, probe, gapMs, from: start };
    });
  }

  /** Per partition, when a command was last applied (0: never). */
  lastApplied(): number[] {
    return this.#applied.map((times) => times.at(-1) ?? 0);
  }

  /** The longest gap of any partition within [from, to]. */
  worstGap(from = 0, until = Date.now()): ProbeGap {
    return this.gaps(from, until).reduce((a, b) => (b.gapMs > a.gapMs ? b : a));
  }

  /** After `stop`: each probe's state against what was acknowledged. */
  async check(): Promise<ProbeCheck[]> {
    return Promise.all(
      this.ids.map(async (probe, i) => {
        const acknowledged = this.#next[i]! - 1;
        const { view } = await this.#client.state<ProbeState>({ type: "probe", id: probe }, 10_000);
        const expectedSum = (acknowledged * (acknowledged + 1)) / 2;
        const tail = Array.from(
          { length: Math.min(view.log.length, acknowledged) },
          (_, k) => acknowledged - Math.min(view.log.length, acknowledged) + k + 1,
        );
        const ok =
          view.count === acknowledged &&
          view.sum === expectedSum &&
          view.log.length === tail.length &&
          view.log.every((n, k) => n === tail[k]);
        return {
          probe,
          acknowledged,
          applied: view.count,
          ok,
          detail: ok
            ? "ok"
            : `count ${view.count}, sum ${view.sum} (want ${acknowledged}, ${expectedSum}), log tail ${view.log.slice(-5).join(",")}`,
        };
      }),
    );
  }
}
