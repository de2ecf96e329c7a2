/**
 * `npm run test:cluster [-- <test files>]`: starts a 3-server NATS cluster on loopback from
 * deploy/nats/cluster/hub.conf (file storage in a temporary directory, MQTT on every server), runs
 * integration tests against it with every stream and bucket replicated three times, and stops it.
 *
 * The tests find the cluster the way they find any NATS: NATS_URL (all three servers), with
 * XIANDA_REPLICAS=3 for their topologies and their host processes, and XIANDA_TEST_MQTT_PORT for
 * the cold-chain test's van logger. Ports 16300-16349.
 */
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startHubCluster } from "../nats-cluster.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const BASE_PORT = 16_300;

/** The integration tests that run on a single server and make sense on a cluster. */
const DEFAULT_TESTS = [
  "test/faults/actor-host-kill.test.ts",
  "test/faults/market-host-kill.test.ts",
  "test/faults/zombie-host.test.ts",
  "test/cold-chain.test.ts",
  "gateway/test",
  "actors/runtime/host.test.ts",
  "actors/runtime/singleton.test.ts",
  "nats/topology.test.ts",
  "tracking/tracker.test.ts",
];

const tests = process.argv.slice(2);
const started = performance.now();
const cluster = await startHubCluster({ basePort: BASE_PORT, mqtt: true });
console.log(
  `test:cluster: 3 nats-servers up in ${Math.round(performance.now() - started)} ms (${cluster.urls}); JetStream meta leader ${(await cluster.metaLeader())?.name}`,
);

let code = 1;
try {
  const vitest = spawn(
    process.execPath,
    [
      join(ROOT, "node_modules", "vitest", "vitest.mjs"),
      "run",
      ...(tests.length ? tests : DEFAULT_TESTS),
    ],
    {
      cwd: ROOT,
      stdio: "inherit",
      env: {
        ...process.env,
        NATS_URL: cluster.urls,
        XIANDA_REPLICAS: "3",
        XIANDA_TEST_MQTT_PORT: String(BASE_PORT + 40),
      },
    },
  );
  // Ctrl-C reaches vitest (same process group); the cluster is torn down when it exits.
  process.on("SIGINT", () => undefined);
  code = await new Promise<number>((resolve) =>
    vitest.on("exit", (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0))),
  );
} finally {
  await cluster.destroy();
}
process.exit(code);
