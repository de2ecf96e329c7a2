/**
 * The one place that reads the environment. Every variable, its default and its meaning is
 * listed here and in the README's "Configuration" table.
 */
import { hostname } from "node:os";
import { z } from "zod";

const int = (def: number, min = 0) => z.coerce.number().int().min(min).default(def);

export const ConfigSchema = z.object({
  /** NATS servers, comma-separated. */
  NATS_URL: z.string().min(1).default("nats://127.0.0.1:4222"),
  /** NATS credentials file (accounts in production); unset on loopback. */
  NATS_CREDS: z.string().optional(),
  /** Credentials of the tracker a host runs (its own NATS user); default NATS_CREDS. */
  NATS_CREDS_TRACKER: z.string().optional(),
  /** Credentials of the telemetry bridge a host runs (its own NATS user); default NATS_CREDS. */
  NATS_CREDS_BRIDGE: z.string().optional(),
  /**
   * What an actor host does with the JetStream topology at start: "apply" creates or updates it
   * (development); "check" only verifies it, for credentials without stream management
   * (production, where `npm run nats:setup` applies it). Gateways and projectors always check.
   */
  XIANDA_TOPOLOGY: z.enum(["apply", "check"]).default("apply"),
  /** Prefix for every subject, stream and bucket; "" in production, unique in tests. */
  XIANDA_NAMESPACE: z
    .string()
    .regex(/^([a-z][a-z0-9]{0,15})?$/, "lowercase letters and digits, at most 16")
    .default(""),
  /** Command partitions; fixed for the life of a deployment. */
  XIANDA_PARTITIONS: int(32, 1),
  /** Stream and KV replicas: 1 on one server, 3 on a cluster. */
  XIANDA_REPLICAS: int(1, 1),
  /** This process's id among actor hosts; default <hostname>-<pid>. */
  HOST_ID: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .optional(),
  /** A partition lease not renewed for this long (ms) is taken over by another host. */
  LEASE_TTL_MS: int(3000, 200),
  /** How often a host renews its leases and saves checkpoints (ms). */
  LEASE_RENEW_MS: int(1000, 50),
  /** An actor idle this long (ms) is passivated (dropped from memory). */
  ACTOR_IDLE_MS: int(60_000, 100),
  /** Port of a host's /metrics, /healthz and /readyz; 0 picks a free port. */
  METRICS_PORT: int(9464),
  /** Address the gateway (HTTP API, websockets, apps) listens on. */
  GATEWAY_HOST: z.string().default("127.0.0.1"),
  GATEWAY_PORT: int(8080),
  /**
   * HS256 secret that signs access and tracking tokens; every gateway of a deployment shares
   * it. Required by `npm run gateway`; `npm start` makes one under DATA_DIR when unset.
   */
  XIANDA_AUTH_SECRET: z.string().min(32, "at least 32 characters").optional(),
  /** The URL people reach the gateway at, for printed and shared links. */
  PUBLIC_URL: z.string().url().optional(),
  /** OSRM server for road travel times (its HTTP API); unset: straight lines × detour. */
  OSRM_URL: z.string().url().optional(),
  /** Map tile URL template for the console and tracking page; unset: no tiles (plain map). */
  MAP_TILE_URL: z.string().optional(),
  /** Location fixes accepted per courier per second. */
  LOCATION_RATE_PER_S: int(20, 1),
  /** Postgres URL; unset: PGlite under DATA_DIR (demo and development). */
  DATABASE_URL: z.string().url().optional(),
  /** Redis URL; unset: the demo's in-process store (never for production). */
  REDIS_URL: z.string().url().optional(),
  /**
   * JSON file of shops' webhook endpoints, `{"<storeId>": {"url", "secret"}}`; set it on one
   * gateway process only (it runs the deployment's webhook service). Unset: no webhooks.
   */
  WEBHOOKS_FILE: z.string().min(1).optional(),
  /**
   * Ed25519 private key (PKCS#8 PEM) that signs cold-chain certificates. Unset: the key in
   * CERT_KEY_FILE, made there on first use (demo and development).
   */
  XIANDA_CERT_KEY: z.string().min(1).optional(),
  /** Where the certificate key is kept when XIANDA_CERT_KEY is unset; default DATA_DIR/cert-key.pem. */
  CERT_KEY_FILE: z.string().min(1).optional(),
  /**
   * The personal-data keyring, `<kid>:<base64 32-byte key>,...`: shoppers' names, phones and
   * addresses are encrypted under the first key; the others only decrypt (a rotation puts a new
   * key first, then `npm run pii:rotate`). Every gateway of a deployment shares it. Unset: the
   * keyring in PII_KEYS_FILE, made there on first use (demo and development).
   */
  XIANDA_PII_KEYS: z.string().min(1).optional(),
  /** Where the keyring is kept when XIANDA_PII_KEYS is unset; default DATA_DIR/pii-keys. */
  PII_KEYS_FILE: z.string().min(1).optional(),
  /** How long after a delivery its certificate is built, so late readings are in (ms). */
  CERT_SETTLE_MS: int(5000),
  /**
   * MQTT port of the nats-server `npm start` runs (vans' loggers publish there). Unset: 1883, or
   * the next free port when another broker (mosquitto) holds it.
   */
  MQTT_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  /** Where `npm start` keeps its NATS store and PGlite files (and `npm run gateway` its proof photos). */
  DATA_DIR: z.string().default("./.data"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export type Config = z.infer<typeof ConfigSchema> & { HOST_ID: string };

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = ConfigSchema.safeParse(
    Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== "")),
  );
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
  }
  return { ...parsed.data, HOST_ID: parsed.data.HOST_ID ?? `${hostname()}-${process.pid}` };
}
