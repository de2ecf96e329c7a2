/**
 * The production NATS security configuration, generated: decentralized JWT auth (an operator,
 * accounts and users as signed JWTs; the server holds only public keys), with
 *
 *   SYS      the system account (monitoring with the `nats` CLI)
 *   XIANDA   every service; JetStream; one scoped signing key per role (host, tracker, bridge,
 *            gateway, projector, admin) whose template is the role's permissions, so a user's
 *            permissions live in the account JWT, where the server config pins them
 *   SENSORS  van loggers over MQTT; a scoped signing key whose template lets a logger publish
 *            only `fleet.vehicle.{{name()}}.temp` (its user name is its vehicle id), exported to
 *            XIANDA, whose TELEMETRY stream stores it
 *
 * Keys (seeds: secrets) live in `keysDir`, made on first use and reused after; the server config
 * (`nats-server.conf` + `accounts.conf`), the services' credentials (`creds/<role>.creds`) and
 * the loggers' tokens (`sensors/<vehicleId>.jwt`, the MQTT password) go to `outDir`.
 * ARCHITECTURE.md ("NATS accounts and permissions") says why this shape.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeAccount, encodeOperator, encodeUser, fmtCreds, newScopedSigner } from "@nats-io/jwt";
import type { Account, UserPermissionsLimits } from "@nats-io/jwt";
import { createAccount, createOperator, createUser, fromSeed } from "@nats-io/nkeys";
import type { KeyPair } from "@nats-io/nkeys";
import { SERVICE_ROLES, sensorPermissions, servicePermissions } from "../nats/index.ts";
import type { RolePermissions, ServiceRole, Topology } from "../nats/index.ts";

export interface ServerConfigOptions {
  /** `server_name` (MQTT and JetStream need one). Default "xianda-1". */
  readonly name: string;
  /** Client listener. Default "0.0.0.0:4222". */
  readonly listen: string;
  /** MQTT listener for the vans' loggers. Default "0.0.0.0:1883". */
  readonly mqttListen: string;
  /** JetStream store. Default "/var/lib/nats-server". */
  readonly storeDir: string;
  /** TLS for clients and MQTT (loggers on the public internet send their token in CONNECT). */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  /** File to log to; unset: stderr (systemd's journal). */
  readonly logFile?: string;
}

export function serverConfigDefaults(
  options: Partial<ServerConfigOptions> = {},
): ServerConfigOptions {
  return {
    name: options.name ?? "xianda-1",
    listen: options.listen ?? "0.0.0.0:4222",
    mqttListen: options.mqttListen ?? "0.0.0.0:1883",
    storeDir: options.storeDir ?? "/var/lib/nats-server",
    ...(options.tls ? { tls: options.tls } : {}),
    ...(options.logFile ? { logFile: options.logFile } : {}),
  };
}

/** `nats-server.conf`: the listeners and JetStream; accounts and users come from accounts.conf. */
export function renderServerConfig(options: Partial<ServerConfigOptions> = {}): string {
  const o = serverConfigDefaults(options);
  const tls = (indent: string) =>
    o.tls
      ? [
          `${indent}tls {`,
          `${indent}  cert_file: ${JSON.stringify(o.tls.certFile)}`,
          `${indent}  key_file: ${JSON.stringify(o.tls.keyFile)}`,
          `${indent}}`,
        ]
      : [];
  return [
    "# xianda's nats-server (2.9.10+), written by `npm run nats:config`; see deploy/nats/README.md.",
    "# Accounts, users and permissions are in accounts.conf (operator mode, JWTs).",
    "",
    `server_name: ${JSON.stringify(o.name)}`,
    `listen: ${JSON.stringify(o.listen)}`,
    ...(o.logFile ? [`log_file: ${JSON.stringify(o.logFile)}`] : []),
    ...tls(""),
    "",
    "jetstream {",
    `  store_dir: ${JSON.stringify(o.storeDir)}`,
    "  # nats-server 2.10+: sync_interval: always (see README, Durability)",
    "}",
    "",
    "# Van loggers: MQTT 3.1.1, username = the vehicle id, password = its token (sensors/<id>.jwt).",
    "mqtt {",
    `  listen: ${JSON.stringify(o.mqttListen)}`,
    ...tls("  "),
    "}",
    "",
    'include "accounts.conf"',
    "",
  ].join("\n");
}

export interface NatsAccountsOptions {
  readonly topology: Topology;
  /** Where the seeds are kept (secret; mode 0600). Made on first use. */
  readonly keysDir: string;
  /** Where the server config, the credentials and the sensor tokens are written. */
  readonly outDir: string;
  /** Vehicles whose loggers get a token now. */
  readonly vehicles?: readonly string[];
  /** Vehicles whose tokens issued so far stop working (a lost or stolen logger). */
  readonly revokeVehicles?: readonly string[];
  readonly server?: Partial<ServerConfigOptions>;
}

export interface NatsAccountsResult {
  readonly serverConfig: string;
  readonly accountsConfig: string;
  /** Credentials file of each service role, and `sys` for the system account. */
  readonly creds: Readonly<Record<ServiceRole | "sys", string>>;
  /** MQTT password (a bearer user JWT) file of each vehicle given now. */
  readonly sensorTokens: Readonly<Record<string, string>>;
  readonly accounts: { readonly xianda: string; readonly sensors: string; readonly system: string };
}

const VEHICLE_ID = /^[A-Za-z0-9_-]{1,64}$/;

export class NatsConfigError extends Error {
  override readonly name = "NatsConfigError";
}

/** Reads the vehicles of a fleet file: `["van-1", …]` or `{"vehicles": [{"id": "van-1"}, …]}`. */
export function parseFleet(json: string): string[] {
  const parsed: unknown = JSON.parse(json);
  const list = Array.isArray(parsed)
    ? parsed
    : typeof parsed === "object" &&
        parsed !== null &&
        Array.isArray((parsed as { vehicles?: unknown }).vehicles)
      ? (parsed as { vehicles: unknown[] }).vehicles
      : null;
  if (list === null)
    throw new NatsConfigError('a fleet file is ["van-1", …] or {"vehicles": [{"id": "van-1"}, …]}');
  return list.map((v) => {
    const id = typeof v === "string" ? v : (v as { id?: unknown })?.id;
    if (typeof id !== "string" || !VEHICLE_ID.test(id)) {
      throw new NatsConfigError(
        `not a vehicle id: ${JSON.stringify(v)} (letters, digits, '_' or '-', 1-64)`,
      );
    }
    return id;
  });
}

/** A seed kept in `dir/<name>.nk`, made on first use. */
function keyPair(dir: string, name: string, make: () => KeyPair): KeyPair {
  const file = join(dir, `${name}.nk`);
  if (existsSync(file))
    return fromSeed(new TextEncoder().encode(readFileSync(file, "utf8").trim()));
  const kp = make();
  writeFileSync(file, new TextDecoder().decode(kp.getSeed()) + "\n", { mode: 0o600 });
  return kp;
}

function readJson<T>(file: string, fallback: T): T {
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as T) : fallback;
}

function template(permissions: RolePermissions): Partial<UserPermissionsLimits> {
  return {
    pub: { allow: [...permissions.pub.allow], deny: [...(permissions.pub.deny ?? [])] },
    sub: { allow: [...permissions.sub.allow], deny: [...(permissions.sub.deny ?? [])] },
  };
}

const UNLIMITED = {
  subs: -1,
  data: -1,
  payload: -1,
  imports: -1,
  exports: -1,
  wildcards: true,
  conn: -1,
  leaf: -1,
};

/** Writes the server config, the services' credentials and the given vehicles' tokens. */
export async function generateNatsConfig(
  options: NatsAccountsOptions,
): Promise<NatsAccountsResult> {
  const { topology, keysDir, outDir } = options;
  for (const id of [...(options.vehicles ?? []), ...(options.revokeVehicles ?? [])]) {
    if (!VEHICLE_ID.test(id)) throw new NatsConfigError(`not a vehicle id: ${JSON.stringify(id)}`);
  }
  mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  chmodSync(keysDir, 0o700);
  for (const dir of [outDir, join(outDir, "creds"), join(outDir, "sensors")]) {
    mkdirSync(dir, { recursive: true });
  }

  const operator = keyPair(keysDir, "operator", createOperator);
  const sys = keyPair(keysDir, "account-sys", createAccount);
  const xianda = keyPair(keysDir, "account-xianda", createAccount);
  const sensors = keyPair(keysDir, "account-sensors", createAccount);
  const roleKeys = Object.fromEntries(
    SERVICE_ROLES.map((role) => [role, keyPair(keysDir, `signing-${role}`, createAccount)]),
  ) as Record<ServiceRole, KeyPair>;
  const sensorKey = keyPair(keysDir, "signing-sensor", createAccount);

  // Issued logger keys by vehicle, so that a vehicle's tokens can be revoked all at once.
  const issuedFile = join(keysDir, "sensors-issued.json");
  const issued = readJson<Record<string, string[]>>(issuedFile, {});
  const revokedFile = join(keysDir, "sensors-revoked.json");
  const revoked = readJson<Record<string, number>>(revokedFile, {});
  const now = Math.floor(Date.now() / 1000);
  for (const id of options.revokeVehicles ?? []) {
    for (const key of issued[id] ?? []) revoked[key] = now;
  }

  const telemetry = topology.subjects.vehicleTemperature("*");
  const permissions = servicePermissions(topology);

  const operatorJwt = await encodeOperator("xianda", operator, {
    system_account: sys.getPublicKey(),
  });
  const sysJwt = await encodeAccount("SYS", sys, {}, { signer: operator });
  const xiandaAccount: Partial<Account> = {
    limits: { ...UNLIMITED, mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 },
    signing_keys: SERVICE_ROLES.map((role) =>
      newScopedSigner(roleKeys[role], role, {
        ...template(permissions[role]),
        bearer_token: false,
      }),
    ),
    imports: [
      {
        name: "van-telemetry",
        type: "stream",
        subject: telemetry,
        account: sensors.getPublicKey(),
      },
    ],
  };
  const xiandaJwt = await encodeAccount("XIANDA", xianda, xiandaAccount, { signer: operator });
  const sensorsAccount: Partial<Account> = {
    // MQTT keeps its sessions in JetStream streams of the client's account: a little storage.
    limits: {
      ...UNLIMITED,
      mem_storage: 64 * 1024 * 1024,
      disk_storage: 1024 * 1024 * 1024,
      streams: -1,
      consumer: -1,
    },
    signing_keys: [
      newScopedSigner(sensorKey, "sensor", {
        ...template(sensorPermissions(topology)),
        // MQTT cannot sign the server's nonce: the token itself is the password.
        // (`allowed_connection_types: ["MQTT"]` here is ignored by nats-server 2.9.10, and a
        // scoped user may not carry its own: a token also connects over plain NATS, with the
        // same one subject to publish to.)
        bearer_token: true,
      }),
    ],
    exports: [{ name: "van-telemetry", type: "stream", subject: telemetry }],
    ...(Object.keys(revoked).length > 0 ? { revocations: revoked } : {}),
  };
  const sensorsJwt = await encodeAccount("SENSORS", sensors, sensorsAccount, { signer: operator });

  const accountsConfig = join(outDir, "accounts.conf");
  writeFileSync(
    accountsConfig,
    [
      "# Operator mode: the operator's and the accounts' JWTs (public: no seeds here), written by",
      "# `npm run nats:config`. Users are not listed: a user proves itself with a JWT signed by one",
      "# of its account's signing keys. Include this file in every server of the deployment.",
      `operator: ${JSON.stringify(operatorJwt)}`,
      `system_account: ${sys.getPublicKey()}`,
      "resolver: MEMORY",
      "resolver_preload: {",
      `  # SYS`,
      `  ${sys.getPublicKey()}: ${JSON.stringify(sysJwt)}`,
      `  # XIANDA: the services (roles: ${SERVICE_ROLES.join(", ")})`,
      `  ${xianda.getPublicKey()}: ${JSON.stringify(xiandaJwt)}`,
      `  # SENSORS: van loggers over MQTT`,
      `  ${sensors.getPublicKey()}: ${JSON.stringify(sensorsJwt)}`,
      "}",
      "",
    ].join("\n"),
  );
  const serverConfig = join(outDir, "nats-server.conf");
  writeFileSync(serverConfig, renderServerConfig(options.server));

  const creds = {} as Record<ServiceRole | "sys", string>;
  for (const role of SERVICE_ROLES) {
    const user = keyPair(keysDir, `user-${role}`, createUser);
    const jwt = await encodeUser(
      role,
      user,
      xianda,
      {},
      { scopedUser: true, signer: roleKeys[role] },
    );
    creds[role] = join(outDir, "creds", `${role}.creds`);
    writeFileSync(creds[role], fmtCreds(jwt, user), { mode: 0o600 });
  }
  const sysUser = keyPair(keysDir, "user-sys", createUser);
  creds.sys = join(outDir, "creds", "sys.creds");
  writeFileSync(creds.sys, fmtCreds(await encodeUser("sys", sysUser, sys), sysUser), {
    mode: 0o600,
  });

  const sensorTokens: Record<string, string> = {};
  for (const id of options.vehicles ?? []) {
    const user = createUser();
    const jwt = await encodeUser(
      id,
      user,
      sensors,
      { tags: [`vehicle:${id}`] },
      {
        scopedUser: true,
        signer: sensorKey,
      },
    );
    (issued[id] ??= []).push(user.getPublicKey());
    sensorTokens[id] = join(outDir, "sensors", `${id}.jwt`);
    writeFileSync(sensorTokens[id], jwt + "\n", { mode: 0o600 });
  }
  writeFileSync(issuedFile, JSON.stringify(issued, null, 2) + "\n", { mode: 0o600 });
  writeFileSync(revokedFile, JSON.stringify(revoked, null, 2) + "\n", { mode: 0o600 });

  return {
    serverConfig,
    accountsConfig,
    creds,
    sensorTokens,
    accounts: {
      xianda: xianda.getPublicKey(),
      sensors: sensors.getPublicKey(),
      system: sys.getPublicKey(),
    },
  };
}
