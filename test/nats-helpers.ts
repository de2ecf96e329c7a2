/** Shared set-up for integration tests on the real nats-server (NATS_URL or 127.0.0.1:4222). */
import { connectNats, destroyTopology, Topology } from "../nats/index.ts";
import type { TopologyOptions } from "../nats/index.ts";
import type { NatsConnection } from "@nats-io/transport-node";

export const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
/** Stream and bucket replicas of test topologies: 3 when `npm run test:cluster` runs the suite. */
export const REPLICAS = Number(process.env.XIANDA_REPLICAS ?? "1");

/** A topology with a namespace of its own, so test files never see each other's data. */
export function testTopology(options: Partial<TopologyOptions> = {}): Topology {
  const namespace = `t${Math.random().toString(36).slice(2, 10)}`;
  return new Topology({ namespace, partitions: 8, replicas: REPLICAS, ...options });
}

export async function connectForTest(name: string): Promise<NatsConnection> {
  return connectNats({ servers: NATS_URL, name });
}

export async function cleanup(nc: NatsConnection, topology: Topology): Promise<void> {
  await destroyTopology(nc, topology);
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  timeoutMs = 10_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== null && value !== undefined && value !== false) return value as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
