/** The search budget: wall time, search steps, or both; whichever runs out first ends the search. */
export class Budget {
  readonly #startedAt: number;
  #steps = 0;

  constructor(
    readonly timeLimitMs: number,
    readonly maxSteps: number,
    readonly now: () => number = () => performance.now(),
  ) {
    this.#startedAt = now();
  }

  tick(): void {
    this.#steps++;
  }

  get steps(): number {
    return this.#steps;
  }

  elapsedMs(): number {
    return this.now() - this.#startedAt;
  }

  /** Share of the budget used, 0 to 1 (or past 1 once spent). */
  progress(): number {
    const byTime = Number.isFinite(this.timeLimitMs) ? this.elapsedMs() / this.timeLimitMs : 0;
    const bySteps = Number.isFinite(this.maxSteps) ? this.#steps / this.maxSteps : 0;
    return Math.max(byTime, bySteps);
  }
}
