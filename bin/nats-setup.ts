/**
 * `npm run nats:setup`: applies the JetStream topology (streams, KV buckets, the pinned partition
 * count, the webhook dead-letter bucket) with the ops tool's credentials (NATS_CREDS = the admin
 * user's). Services run with credentials that cannot manage streams and only check the topology
 * (`XIANDA_TOPOLOGY=check`), so this runs first on a new deployment and after an upgrade that
 * changes the topology, as `npm run db:migrate` does for Postgres.
 */
import { kvDeadLetters } from "../gateway/index.ts";
import { connectNats, deadLetterBucket, ensureTopology } from "../nats/index.ts";
import { loadConfig } from "./config.ts";
import { topologyFrom } from "./wiring.ts";

const config = loadConfig();
const nc = await connectNats({
  servers: config.NATS_URL,
  name: "xianda-nats-setup",
  ...(config.NATS_CREDS ? { credentialsFile: config.NATS_CREDS } : {}),
});
const topology = topologyFrom(config);
await ensureTopology(nc, topology, { mode: "apply" });
// Opening the dead-letter store creates its bucket: the gateway may only use it.
await kvDeadLetters(nc, deadLetterBucket(topology), topology.options.replicas).list();
console.log(
  `topology applied: streams ${Object.values(topology.streams).join(", ")}; buckets ` +
    `${[...Object.values(topology.buckets), deadLetterBucket(topology)].join(", ")}; ` +
    `${topology.partitions} partitions`,
);
await nc.drain();
