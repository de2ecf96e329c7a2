/**
 * When to try again after the live socket drops: capped exponential back-off with jitter, so a
 * gateway restart does not bring every shopper back in the same second (socket.io's habit).
 */

export interface ReconnectOptions {
  /** First delay, ms. Default 500. */
  readonly baseMs?: number;
  /** Largest delay, ms. Default 30 000. */
  readonly capMs?: number;
  /** Growth per attempt. Default 2. */
  readonly factor?: number;
  /** Share of the delay that is random, 0..1. Default 0.5 (delay in [½d, d]). */
  readonly jitter?: number;
}

export interface ReconnectPolicy {
  readonly baseMs: number;
  readonly capMs: number;
  readonly factor: number;
  readonly jitter: number;
}

export function reconnectPolicy(options: ReconnectOptions = {}): ReconnectPolicy {
  return {
    baseMs: options.baseMs ?? 500,
    capMs: options.capMs ?? 30_000,
    factor: options.factor ?? 2,
    jitter: Math.min(1, Math.max(0, options.jitter ?? 0.5)),
  };
}

/**
 * Delay before reconnect attempt `attempt` (0 for the first retry). `random` is in [0, 1), a
 * parameter so tests need no Math.random.
 */
export function reconnectDelay(policy: ReconnectPolicy, attempt: number, random: number): number {
  const exponent = Math.max(0, Math.min(attempt, 30));
  const ceiling = Math.min(policy.capMs, policy.baseMs * policy.factor ** exponent);
  const floor = ceiling * (1 - policy.jitter);
  return Math.round(floor + (ceiling - floor) * Math.min(Math.max(random, 0), 1));
}
