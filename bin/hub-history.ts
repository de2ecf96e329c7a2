/**
 * `node --import tsx bin/hub-history.ts <city> [<city>...]`, against the hub (NATS_URL lists the
 * hub's servers): creates or updates, per city, the hub's history streams that source the city's
 * events and van readings from its leaf node's JetStream domain (nats/hub.ts). Each city's
 * domain is also its XIANDA_NAMESPACE. Run it once per new city; it needs no link to be up.
 */
import { connectNats, ensureHubHistory, Topology } from "../nats/index.ts";
import { loadConfig } from "./config.ts";

const cities = process.argv.slice(2);
if (cities.length === 0) {
  console.error("usage: node --import tsx bin/hub-history.ts <city domain> [<city domain>...]");
  process.exit(2);
}
const config = loadConfig();
const nc = await connectNats({
  servers: config.NATS_URL,
  name: "xianda-hub-history",
  ...(config.NATS_CREDS ? { credentialsFile: config.NATS_CREDS } : {}),
});
const streams = await ensureHubHistory(
  nc,
  cities.map((domain) => ({ domain, topology: new Topology({ namespace: domain }) })),
  { replicas: config.XIANDA_REPLICAS },
);
for (const s of streams) console.log(`${s.domain}: ${s.events}, ${s.telemetry}`);
await nc.close();
