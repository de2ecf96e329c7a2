/**
 * The production NATS security config, on a private nats-server started with exactly what
 * `npm run nats:config` writes (operator mode, accounts XIANDA/SENSORS/SYS, one scoped signing
 * key per role): the real services run under their own credentials — an actor host process with
 * its tracker and telemetry bridge, a gateway process, a projector process — and `npm run
 * nats:setup` applies the topology with the admin's. Normal flows work with no permission
 * violation logged; what a role must not do is refused and changes nothing.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, credsAuthenticator, jwtAuthenticator } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import { encodeUser } from "@nats-io/jwt";
import { createAccount, createUser } from "@nats-io/nkeys";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { ActorClient } from "../../actors/index.ts";
import { actorCityAdmin } from "../../bin/demo-flows.ts";
import { generateNatsConfig, renderServerConfig } from "../../bin/nats-accounts.ts";
import type { NatsAccountsResult } from "../../bin/nats-accounts.ts";
import { signToken } from "../../gateway/index.ts";
import { Topology } from "../../nats/index.ts";
import type { TokenClaims } from "../../protocol/index.ts";
import { startHost } from "../hosts.ts";
import type { HostProcess } from "../hosts.ts";
import { startPrivateNats } from "../nats-server.ts";
import type { PrivateNats } from "../nats-server.ts";
import { waitFor } from "../nats-helpers.ts";

const NATS_PORT = 15_287;
const MQTT_PORT = 15_288;
const URL = `nats://127.0.0.1:${NATS_PORT}`;
const PARTITIONS = 8;
const SECRET = "nats-permissions-test-secret-0123456789abcdef";
const MARKET = "m-perm";
const COURIER = "c-perm";
const VAN = "van-1";
const OTHER_VAN = "van-2";

/** A service process (bin/*.ts) under its own credentials; ready when its log matches. */
interface Service {
  readonly child: ChildProcess;
  readonly ready: RegExpExecArray;
  output(): string;
  stop(): Promise<void>;
}

function startService(
  script: string,
  env: Record<string, string>,
  ready: RegExp,
): Promise<Service> {
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    env: { ...process.env, NATS_URL: URL, XIANDA_PARTITIONS: String(PARTITIONS), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${script} did not start:\n${out}`));
    }, 30_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = ready.exec(out);
      if (!match) return;
      clearTimeout(timer);
      resolve({
        child,
        ready: match,
        output: () => out,
        async stop() {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill("SIGTERM");
          const killer = setTimeout(() => child.kill("SIGKILL"), 5_000);
          await exited;
          clearTimeout(killer);
        },
      });
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${child.exitCode}:\n${out}`));
    });
  });
}

function runScript(script: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", script], {
      env: { ...process.env, NATS_URL: URL, XIANDA_PARTITIONS: String(PARTITIONS), ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    child.once("exit", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${script} exited ${code}:\n${out}`)),
    );
  });
}

async function connectAs(creds: string, name: string): Promise<NatsConnection> {
  return connect({
    servers: URL,
    name,
    authenticator: credsAuthenticator(new Uint8Array(readFileSync(creds))),
    reconnect: false,
  });
}

const token = (claims: Omit<TokenClaims, "exp">) =>
  signToken({ ...claims, exp: Math.floor(Date.now() / 1000) + 3600 } as TokenClaims, SECRET);

describe("NATS accounts and permissions in the production config", () => {
  const topology = new Topology({ partitions: PARTITIONS });
  let dir: string;
  let generated: NatsAccountsResult;
  let server: PrivateNats;
  let logFile: string;
  let admin: NatsConnection;
  let adminJsm: JetStreamManager;
  let adminActors: ActorClient;
  let host: HostProcess | null = null;
  let gateway: Service | null = null;
  let projector: Service | null = null;
  let gatewayUrl: string;
  /** Server log lines reporting a permission violation. */
  const violations = () =>
    readFileSync(logFile, "utf8")
      .split("\n")
      .filter((line) => /Violation/.test(line));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "xianda-nats-perm-"));
    logFile = join(dir, "nats-server.log");
    generated = await generateNatsConfig({
      topology,
      keysDir: join(dir, "keys"),
      outDir: join(dir, "out"),
      vehicles: [VAN, OTHER_VAN],
      server: {
        name: "xianda-perm-test",
        listen: `127.0.0.1:${NATS_PORT}`,
        mqttListen: `127.0.0.1:${MQTT_PORT}`,
        storeDir: join(dir, "js"),
        logFile,
      },
    });
    server = await startPrivateNats(NATS_PORT, { configFile: generated.serverConfig });
    const creds = generated.creds;
    await runScript("bin/nats-setup.ts", { NATS_CREDS: creds.admin });
    admin = await connectAs(creds.admin, "perm-test-admin");
    adminJsm = await jetstreamManager(admin);
    adminActors = new ActorClient({ nc: admin, topology });

    host = await startHost("perm-host", {
      NATS_URL: URL,
      XIANDA_PARTITIONS: String(PARTITIONS),
      NATS_CREDS: creds.host,
      NATS_CREDS_TRACKER: creds.tracker,
      NATS_CREDS_BRIDGE: creds.bridge,
      XIANDA_TOPOLOGY: "check",
    });
    const webhooks = join(dir, "webhooks.json");
    writeFileSync(
      webhooks,
      JSON.stringify({ "s-perm": { url: "http://127.0.0.1:9/hook", secret: "0123456789abcdef" } }),
    );
    gateway = await startService(
      "bin/gateway.ts",
      {
        NATS_CREDS: creds.gateway,
        XIANDA_AUTH_SECRET: SECRET,
        GATEWAY_PORT: "0",
        WEBHOOKS_FILE: webhooks,
        DATA_DIR: join(dir, "gateway"),
      },
      /"port":(\d+),"host":"127.0.0.1","msg":"gateway listening"/,
    );
    gatewayUrl = `http://127.0.0.1:${gateway.ready[1]}`;
    projector = await startService(
      "bin/projector.ts",
      { NATS_CREDS: creds.projector, DATA_DIR: join(dir, "projector"), CERT_SETTLE_MS: "200" },
      /"msg":"projector running"/,
    );
    const city = actorCityAdmin(adminActors);
    await city.configureMarket({ marketId: MARKET, name: "Perm", city: "Kunming" });
    await city.configureVehicle({
      vehicleId: VAN,
      marketId: MARKET,
      driverId: COURIER,
      compartments: [{ id: "C", class: "chilled", graceSeconds: 60 }],
    });
  }, 120_000);

  afterAll(async () => {
    await gateway?.stop();
    await projector?.stop();
    if (host) {
      host.kill("SIGTERM");
      const killer = setTimeout(() => host?.kill("SIGKILL"), 5_000);
      await host.exited;
      clearTimeout(killer);
    }
    adminActors?.close();
    await admin?.close();
    await server?.destroy();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("runs the normal flows under each service's credentials with no permission violation", async () => {
    const courier = await token({ sub: COURIER, role: "courier", mkt: MARKET });
    // A command through the gateway, acknowledged and applied by the host...
    const shift = await fetch(`${gatewayUrl}/v1/couriers/me/shift`, {
      method: "POST",
      headers: { authorization: `Bearer ${courier}`, "content-type": "application/json" },
      body: JSON.stringify({ on: true }),
    });
    expect(shift.status, await shift.clone().text()).toBe(200);
    // ...and the actor's state read back through the gateway (a query the host answers).
    const me = await fetch(`${gatewayUrl}/v1/couriers/me`, {
      headers: { authorization: `Bearer ${courier}` },
    });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ status: "idle" });

    // Live: a fix over the driver socket reaches the tracker (loc.fixes), whose frames come back
    // through the PUSH stream to a dispatcher watching the market.
    const dispatcher = await token({ sub: "d-perm", role: "dispatcher", mkt: MARKET });
    const live = new WebSocket(`${gatewayUrl.replace("http", "ws")}/ws/live?token=${dispatcher}`);
    const frames: Array<{ type: string; frame?: { kind?: string } }> = [];
    live.on("message", (data) => frames.push(JSON.parse(String(data))));
    await new Promise((resolve, reject) => live.once("open", resolve).once("error", reject));
    live.send(JSON.stringify({ type: "subscribe", channel: `market:${MARKET}` }));
    const driver = new WebSocket(`${gatewayUrl.replace("http", "ws")}/ws/driver?token=${courier}`);
    const acks: string[] = [];
    driver.on("message", (data) => acks.push(JSON.parse(String(data)).type));
    await new Promise((resolve, reject) => driver.once("open", resolve).once("error", reject));
    await waitFor(
      "a courier frame on the market channel",
      () => {
        driver.send(
          JSON.stringify({
            type: "location",
            fix: { lat: 25.0389, lng: 102.7183, at: Date.now(), accuracy: 5 },
            coord: "wgs84",
          }),
        );
        return frames.some((f) => f.type === "push" && f.frame?.kind === "couriers");
      },
      15_000,
      500,
    );
    expect(acks).toContain("location_ack");
    live.close();
    driver.close();

    // A van's logger over MQTT, as itself: into TELEMETRY (imported from the SENSORS account),
    // through the bridge to its vehicle actor, and projected as evidence.
    const logger = await mqtt.connectAsync(`mqtt://127.0.0.1:${MQTT_PORT}`, {
      clientId: `${VAN}-logger`,
      username: VAN,
      password: readFileSync(generated.sensorTokens[VAN]!, "utf8").trim(),
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    await logger.publishAsync(
      `fleet/vehicle/${VAN}/temp`,
      JSON.stringify({ compartment: "C", celsius: 2.5, at: Date.now() }),
      { qos: 1 },
    );
    await logger.endAsync();
    const stored = await waitFor("the reading in TELEMETRY", () =>
      adminJsm.streams
        .getMessage(topology.streams.telemetry, {
          last_by_subj: topology.subjects.vehicleTemperature(VAN),
        })
        .catch(() => null),
    );
    await waitFor("the vehicle to take the reading", async () => {
      const { view } = await adminActors.state<{ telemetrySeq?: number }>({
        type: "vehicle",
        id: VAN,
      });
      return (view.telemetrySeq ?? 0) >= stored.seq;
    });
    await waitFor("the projector to acknowledge the readings event", async () => {
      const info = await adminJsm.consumers.info(topology.streams.events, "projector_readings");
      return info.ack_floor.stream_seq > 0 && info.num_ack_pending === 0;
    });
    // The webhook service created its own durable on order events, with the gateway's rights.
    await expect(
      adminJsm.consumers.info(topology.streams.events, "webhooks"),
    ).resolves.toBeTruthy();

    expect(violations()).toEqual([]);
  }, 90_000);

  it("refuses the gateway's writes to actor state and stream management, and nothing changes", async () => {
    const key = `${0}.probe.untouched`;
    const actorsKv = await new Kvm(admin).open(topology.buckets.actors);
    const revision = await actorsKv.put(key, JSON.stringify({ by: "admin" }));
    const before = await adminJsm.streams.info(topology.streams.commands);

    const nc = await connectAs(generated.creds.gateway, "perm-test-gateway");
    try {
      const kv = await new Kvm(nc).open(topology.buckets.actors);
      await expect(kv.put(key, JSON.stringify({ by: "gateway" }))).rejects.toThrow();
      await expect(kv.delete(key)).rejects.toThrow();
      const jsm = await jetstreamManager(nc);
      await expect(jsm.streams.delete(topology.streams.commands)).rejects.toThrow();
      await expect(jsm.streams.purge(topology.streams.commands)).rejects.toThrow();
      await expect(
        jsm.streams.add({ name: "GATEWAY_OWN", subjects: ["gateway.own.>"] }),
      ).rejects.toThrow();
    } finally {
      await nc.close();
    }

    const entry = await actorsKv.get(key);
    expect(entry?.revision).toBe(revision);
    expect(entry?.json()).toEqual({ by: "admin" });
    const after = await adminJsm.streams.info(topology.streams.commands);
    expect(after.state.messages).toBe(before.state.messages);
    await expect(adminJsm.streams.info("GATEWAY_OWN")).rejects.toThrow();
    const refused = violations().join("\n");
    expect(refused).toContain(`"$KV.${topology.buckets.actors}.${key}"`);
    expect(refused).toContain(`"$JS.API.STREAM.DELETE.${topology.streams.commands}"`);
  }, 30_000);

  it("lets a logger publish only its own van's subject", async () => {
    const password = readFileSync(generated.sensorTokens[VAN]!, "utf8").trim();
    const logger = await mqtt.connectAsync(`mqtt://127.0.0.1:${MQTT_PORT}`, {
      clientId: `${VAN}-spoofer`,
      username: VAN,
      password,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    await logger.publishAsync(
      `fleet/vehicle/${OTHER_VAN}/temp`,
      JSON.stringify({ compartment: "C", celsius: 30, at: Date.now() }),
      { qos: 1 },
    );
    // A marker from the same connection afterwards: once it is stored, the spoof had its turn.
    await logger.publishAsync(
      `fleet/vehicle/${VAN}/temp`,
      JSON.stringify({ compartment: "C", celsius: 2.6, at: Date.now() }),
      { qos: 1 },
    );
    await logger.endAsync();
    await waitFor("the logger's own reading", async () => {
      const last = await adminJsm.streams.getMessage(topology.streams.telemetry, {
        last_by_subj: topology.subjects.vehicleTemperature(VAN),
      });
      return last?.json<{ celsius: number }>().celsius === 2.6;
    });
    await expect(
      adminJsm.streams.getMessage(topology.streams.telemetry, {
        last_by_subj: topology.subjects.vehicleTemperature(OTHER_VAN),
      }),
    ).resolves.toBeNull();
    expect(violations().join("\n")).toContain(
      `User "${VAN}", Subject "${topology.subjects.vehicleTemperature(OTHER_VAN)}"`,
    );

    // The token over plain NATS (nats-server 2.9 cannot limit a scoped user's connection type)
    // is no wider: the other van's subject is refused there too.
    const nc = await connect({
      servers: URL,
      authenticator: jwtAuthenticator(password),
      reconnect: false,
    });
    const refused = new Promise<string>((resolve) => {
      void (async () => {
        for await (const status of nc.status()) {
          if (status.type === "error") resolve(String(status.error));
        }
      })();
    });
    nc.publish(topology.subjects.vehicleTemperature(OTHER_VAN), "{}");
    await nc.flush();
    expect(await refused).toMatch(/Permissions Violation/);
    await nc.close();
  }, 30_000);

  it("refuses anyone without valid credentials", async () => {
    await expect(connect({ servers: URL, reconnect: false })).rejects.toThrow();
    const mqttRefused = (options: mqtt.IClientOptions) =>
      mqtt.connectAsync(`mqtt://127.0.0.1:${MQTT_PORT}`, {
        protocolVersion: 4,
        reconnectPeriod: 0,
        connectTimeout: 3_000,
        ...options,
      });
    await expect(mqttRefused({ clientId: "anonymous-logger" })).rejects.toThrow();
    // A token that looks right but is signed by a key the SENSORS account does not know.
    const forged = await encodeUser(OTHER_VAN, createUser(), createAccount(), {
      bearer_token: true,
      pub: { allow: [">"] },
    } as never);
    await expect(
      mqttRefused({ clientId: "forged-logger", username: OTHER_VAN, password: forged }),
    ).rejects.toThrow();
    const stored = await adminJsm.streams
      .getMessage(topology.streams.telemetry, {
        last_by_subj: topology.subjects.vehicleTemperature(OTHER_VAN),
      })
      .catch(() => null);
    expect(stored).toBeNull();
  }, 30_000);
});

describe("the committed production server config", () => {
  it("is what the generator writes with its defaults", () => {
    expect(readFileSync("deploy/nats/nats-server.conf", "utf8")).toBe(renderServerConfig());
  });
});
