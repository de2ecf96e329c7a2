/**
 * `npm run nats:config -- --out <dir> [--keys <dir>] [--vehicles fleet.json] [--vehicle <id>]…
 *  [--revoke <id>]… [--server-name n] [--listen host:port] [--mqtt-listen host:port]
 *  [--store-dir dir] [--tls-cert f --tls-key f]`
 *
 * Writes the production nats-server config (operator mode: accounts.conf + nats-server.conf),
 * one credentials file per service role and one MQTT token per vehicle (see bin/nats-accounts.ts
 * and deploy/nats/README.md). Keys are made on first use in --keys (default DATA_DIR/nats-keys)
 * and reused after, so running it again with new vehicles keeps every issued credential valid.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadConfig } from "./config.ts";
import { generateNatsConfig, NatsConfigError, parseFleet } from "./nats-accounts.ts";
import { topologyFrom } from "./wiring.ts";

const USAGE =
  "usage: npm run nats:config -- --out <dir> [--keys <dir>] [--vehicles fleet.json] [--vehicle <id>]… " +
  "[--revoke <id>]… [--server-name <name>] [--listen <host:port>] [--mqtt-listen <host:port>] " +
  "[--store-dir <dir>] [--tls-cert <file> --tls-key <file>]";

try {
  const { values } = parseArgs({
    options: {
      out: { type: "string" },
      keys: { type: "string" },
      vehicles: { type: "string" },
      vehicle: { type: "string", multiple: true },
      revoke: { type: "string", multiple: true },
      "server-name": { type: "string" },
      listen: { type: "string" },
      "mqtt-listen": { type: "string" },
      "store-dir": { type: "string" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help || !values.out || Boolean(values["tls-cert"]) !== Boolean(values["tls-key"])) {
    console.error(USAGE);
    process.exit(2);
  }
  const config = loadConfig();
  const vehicles = [
    ...(values.vehicles ? parseFleet(readFileSync(values.vehicles, "utf8")) : []),
    ...(values.vehicle ?? []),
  ];
  const result = await generateNatsConfig({
    topology: topologyFrom(config),
    keysDir: values.keys ?? join(config.DATA_DIR, "nats-keys"),
    outDir: values.out,
    vehicles,
    revokeVehicles: values.revoke ?? [],
    server: {
      ...(values["server-name"] ? { name: values["server-name"] } : {}),
      ...(values.listen ? { listen: values.listen } : {}),
      ...(values["mqtt-listen"] ? { mqttListen: values["mqtt-listen"] } : {}),
      ...(values["store-dir"] ? { storeDir: values["store-dir"] } : {}),
      ...(values["tls-cert"] && values["tls-key"]
        ? { tls: { certFile: values["tls-cert"], keyFile: values["tls-key"] } }
        : {}),
    },
  });
  console.log(`server config   ${result.serverConfig} (includes ${result.accountsConfig})`);
  for (const [role, file] of Object.entries(result.creds)) {
    console.log(`credentials     ${role.padEnd(10)} ${file}`);
  }
  const tokens = Object.keys(result.sensorTokens);
  if (tokens.length > 0) {
    console.log(`sensor tokens   ${tokens.length} in ${join(values.out, "sensors")}`);
  }
  if ((values.revoke ?? []).length > 0) {
    console.log(`revoked         ${(values.revoke ?? []).join(", ")} (reload every server)`);
  }
  console.log("then: nats-server --signal reload (or restart) on every server with this config");
} catch (err) {
  if (
    err instanceof NatsConfigError ||
    (err as { code?: string }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION"
  ) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  throw err;
}
