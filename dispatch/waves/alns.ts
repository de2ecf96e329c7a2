/**
 * Distance (or time) minimisation at a fixed number of route slots: adaptive large neighbourhood
 * search (Ropke & Pisinger 2006). Each iteration removes q requests (random, Shaw or worst),
 * re-inserts them (greedy or regret-2/3/4, with or without noise) and accepts the result by
 * simulated annealing. Heuristics are picked by roulette with weights that adapt to how often
 * they produced new best, improving or accepted plans. A route that empties stays as an empty
 * slot, and the plan drops a vehicle.
 */
import type { Budget } from "./budget.ts";
import { repair } from "./insertion.ts";
import type { Plan } from "./plan-state.ts";
import { randomRemoval, shawRemoval, worstRemoval } from "./removal.ts";
import type { Rng } from "./rng.ts";

export interface AlnsOptions {
  minRemoval: number;
  maxRemoval: number;
  /** A plan this much worse than the start is accepted with probability ½ at the start. */
  startWorse: number;
  /** Stop once `budget.progress()` reaches this (default 1). */
  until?: number;
  /** Stop as soon as every request is placed (route elimination uses this). */
  stopWhenComplete?: boolean;
}

const REMOVALS = [randomRemoval, shawRemoval, worstRemoval] as const;
/** Regret degree of each insertion heuristic (1 = greedy), each with and without noise. */
const INSERTIONS = [
  { regret: 1, noisy: false },
  { regret: 2, noisy: false },
  { regret: 3, noisy: false },
  { regret: 4, noisy: false },
  { regret: 1, noisy: true },
  { regret: 2, noisy: true },
  { regret: 3, noisy: true },
  { regret: 4, noisy: true },
] as const;
const SEGMENT = 100;
const REACTION = 0.1;
const NEW_BEST = 33;
const IMPROVED = 9;
const ACCEPTED = 13;
const END_TEMPERATURE = 0.002;

class Roulette {
  readonly weights: number[];
  readonly scores: number[];
  readonly uses: number[];

  constructor(n: number) {
    this.weights = new Array<number>(n).fill(1);
    this.scores = new Array<number>(n).fill(0);
    this.uses = new Array<number>(n).fill(0);
  }

  pick(rng: Rng): number {
    let total = 0;
    for (const w of this.weights) total += w;
    let x = rng.next() * total;
    for (let i = 0; i < this.weights.length; i++) {
      x -= this.weights[i]!;
      if (x < 0) return i;
    }
    return this.weights.length - 1;
  }

  reward(i: number, score: number): void {
    this.scores[i] = this.scores[i]! + score;
    this.uses[i] = this.uses[i]! + 1;
  }

  adapt(): void {
    for (let i = 0; i < this.weights.length; i++) {
      if (this.uses[i]! > 0) {
        this.weights[i] =
          this.weights[i]! * (1 - REACTION) + (REACTION * this.scores[i]!) / this.uses[i]!;
        this.weights[i] = Math.max(this.weights[i]!, 0.05);
      }
      this.scores[i] = 0;
      this.uses[i] = 0;
    }
  }
}

/** Improves `start` until the budget's progress reaches 1; returns the best plan seen. */
export function improve(start: Plan, rng: Rng, budget: Budget, options: AlnsOptions): Plan {
  const ctx = start.ctx;
  let current = start.clone();
  let currentObjective = current.objective();
  let best = current.clone();
  let bestObjective = currentObjective;
  const requests = ctx.pickups.length;
  const qMax = Math.max(1, Math.min(options.maxRemoval, Math.ceil(0.4 * requests), requests));
  const qMin = Math.max(1, Math.min(options.minRemoval, qMax));
  const noise = 0.025 * ctx.maxArc;
  const removals = new Roulette(REMOVALS.length);
  const insertions = new Roulette(INSERTIONS.length);
  const phaseStart = budget.progress();
  const until = options.until ?? 1;
  const t0 = (options.startWorse * Math.max(current.cost(), 1e-9)) / Math.LN2;
  let iteration = 0;
  for (;;) {
    const progress = budget.progress();
    if (progress >= until || requests === 0) break;
    if (options.stopWhenComplete && best.bank.length === 0) break;
    budget.tick();
    iteration++;
    const temperature =
      t0 * Math.pow(END_TEMPERATURE, (progress - phaseStart) / Math.max(1e-9, until - phaseStart));
    const candidate = current.clone();
    const q = rng.between(qMin, qMax);
    const d = removals.pick(rng);
    REMOVALS[d]!(candidate, q, rng);
    const r = insertions.pick(rng);
    const insertion = INSERTIONS[r]!;
    repair(candidate, rng, {
      regret: insertion.regret,
      noise: insertion.noisy ? noise : 0,
      openRoutes: false,
    });
    const objective = candidate.objective();
    let score = 0;
    if (objective < currentObjective - 1e-9) {
      score = IMPROVED;
      current = candidate;
      currentObjective = objective;
      if (objective < bestObjective - 1e-9) {
        score = NEW_BEST;
        best = candidate.clone();
        bestObjective = objective;
      }
    } else if (
      objective > currentObjective + 1e-9 &&
      rng.next() < Math.exp((currentObjective - objective) / temperature)
    ) {
      score = ACCEPTED;
      current = candidate;
      currentObjective = objective;
    }
    removals.reward(d, score);
    insertions.reward(r, score);
    if (iteration % SEGMENT === 0) {
      removals.adapt();
      insertions.adapt();
    }
  }
  return best;
}
