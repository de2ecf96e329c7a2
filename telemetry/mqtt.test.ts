/**
 * Van readings over real MQTT into nats-server's MQTT listener, through the TELEMETRY stream and
 * the bridge, into vehicle actors: with the `mqtt` package and with Debian's `mosquitto_pub`.
 * A private nats-server (MQTT needs a server name and a config file) on ports of its own.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqtt from "mqtt";
import pino from "pino";
import type { NatsConnection } from "@nats-io/transport-node";
import { ActorClient, ActorHost, allActorLogics } from "../actors/index.ts";
import { connectNats, ensureTopology, Topology } from "../nats/index.ts";
import type { TopologyHandles } from "../nats/index.ts";
import { startPrivateNats } from "../test/nats-server.ts";
import type { PrivateNats } from "../test/nats-server.ts";
import { waitFor } from "../test/nats-helpers.ts";
import { TelemetryBridge } from "./bridge.ts";

const run = promisify(execFile);
const NATS_PORT = 14_422;
const MQTT_PORT = 11_884;
const log = pino({ level: "silent" });
const dispatcher = { role: "dispatcher", id: "d1" } as const;

interface VehicleView {
  telemetrySeq: number;
  rejected: Record<string, number>;
  compartments: { id: string; latest: { celsius: number; at: number } | null }[];
}

let server: PrivateNats;
let nc: NatsConnection;
let host: ActorHost;
let actors: ActorClient;
let handles: TopologyHandles;
let bridge: TelemetryBridge;
// MQTT topics map to subjects without a namespace prefix, so this server gets the bare topology.
const topology = new Topology({ partitions: 4 });

async function vehicle(id: string): Promise<VehicleView> {
  return (await actors.state<VehicleView>({ type: "vehicle", id })).view;
}
const latest = (v: VehicleView, c: string) => v.compartments.find((x) => x.id === c)?.latest;

beforeAll(async () => {
  server = await startPrivateNats(NATS_PORT, { mqttPort: MQTT_PORT });
  nc = await connectNats({ servers: server.url, name: "mqtt-test" });
  handles = await ensureTopology(nc, topology);
  host = new ActorHost({
    nc,
    topology,
    logics: allActorLogics,
    log,
    renewMs: 200,
    leaseTtlMs: 600,
  });
  await host.start();
  await waitFor("partitions", () => host.partitions.length === 4);
  actors = new ActorClient({ nc, topology });
  bridge = new TelemetryBridge({ nc, topology, actors, leases: handles.leases, log });
  await bridge.start();
  for (const id of ["van-1", "van-2"]) {
    const outcome = await actors.call(
      { type: "vehicle", id },
      {
        type: "configure",
        compartments: [
          { id: "F", class: "frozen", graceSeconds: 60 },
          { id: "C", class: "chilled", graceSeconds: 60 },
        ],
      },
      { by: dispatcher },
    );
    expect(outcome.ok).toBe(true);
  }
}, 30_000);

afterAll(async () => {
  await bridge?.stop();
  await host?.stop();
  actors?.close();
  await nc?.close();
  await server?.destroy();
});

describe("telemetry over MQTT", () => {
  it("takes a van's readings from an MQTT client (QoS 1) into its vehicle actor", async () => {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${MQTT_PORT}`, {
      clientId: "van-1-logger",
    });
    const at = Date.now();
    await client.publishAsync(
      "fleet/vehicle/van-1/temp",
      JSON.stringify({
        readings: [
          { compartment: "F", celsius: -19.5, at },
          { compartment: "C", celsius: 2.5, at, door: "closed" },
        ],
      }),
      { qos: 1 },
    );
    await client.publishAsync(
      "fleet/vehicle/van-1/temp",
      JSON.stringify({ compartmentId: "C", temp: 3.1, ts: (at + 1000) / 1000 }),
      { qos: 1 },
    );
    await client.endAsync();
    const v = await waitFor("van-1 readings", async () => {
      const v = await vehicle("van-1");
      return latest(v, "C")?.celsius === 3.1 ? v : null;
    });
    expect(latest(v, "F")).toMatchObject({ celsius: -19.5, at });
    expect(latest(v, "C")).toMatchObject({ celsius: 3.1, at: at + 1000 });
  });

  it("takes readings from Debian's mosquitto_pub too", async () => {
    const at = Date.now();
    await run("mosquitto_pub", [
      "-h",
      "127.0.0.1",
      "-p",
      String(MQTT_PORT),
      "-q",
      "1",
      "-t",
      "fleet/vehicle/van-2/temp",
      "-m",
      JSON.stringify({ compartment: "C", celsius: 1.5, at: new Date(at).toISOString() }),
    ]);
    const v = await waitFor("van-2 reading", async () => {
      const v = await vehicle("van-2");
      return latest(v, "C") ? v : null;
    });
    expect(latest(v, "C")).toMatchObject({ celsius: 1.5, at });
  });

  it("rejects bad readings with a reason, counts them, and loses nothing good beside them", async () => {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${MQTT_PORT}`);
    const at = Date.now() + 5000;
    const bad = [
      "not json",
      JSON.stringify({ compartment: "C", celsius: null, at }),
      JSON.stringify({ compartment: "C", celsius: 80, at }),
      JSON.stringify({ compartment: "Q", celsius: 2, at }),
      JSON.stringify({ compartment: "C", celsius: 2, at: Date.now() + 3_600_000 }),
    ];
    for (const payload of bad)
      await client.publishAsync("fleet/vehicle/van-2/temp", payload, { qos: 1 });
    await client.publishAsync(
      "fleet/vehicle/nobody/temp",
      JSON.stringify({ compartment: "C", celsius: 2, at }),
      { qos: 1 },
    );
    await client.publishAsync(
      "fleet/vehicle/van-2/temp",
      JSON.stringify({ compartment: "C", celsius: 2.2, at }),
      { qos: 1 },
    );
    // The same reading again (a logger's retry): a duplicate.
    await client.publishAsync(
      "fleet/vehicle/van-2/temp",
      JSON.stringify({ compartment: "C", celsius: 2.2, at }),
      { qos: 1 },
    );
    await client.endAsync();
    const v = await waitFor("van-2 rejections", async () => {
      const v = await vehicle("van-2");
      return v.rejected.duplicate === 1 ? v : null;
    });
    expect(latest(v, "C")).toMatchObject({ celsius: 2.2, at });
    expect(v.rejected).toEqual({
      out_of_physical_range: 1,
      unknown_compartment: 1,
      future_timestamp: 1,
      duplicate: 1,
    });
    expect((await vehicle("nobody")).rejected).toEqual({ unknown_vehicle: 1 });
    const metrics = await bridge.metrics.registry.getSingleMetricAsString(
      "xianda_telemetry_rejected_total",
    );
    expect(metrics).toContain('reason="malformed"} 1');
    expect(metrics).toContain('reason="not_a_number"} 1');
    // Every message, good or bad, is kept in the stream as evidence.
    const info = await handles.jsm.streams.info(topology.streams.telemetry);
    expect(info.state.messages).toBeGreaterThanOrEqual(11);
  });

  it("replays from its checkpoint after a restart without applying any reading twice", async () => {
    await bridge.stop();
    const before = await vehicle("van-1");
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${MQTT_PORT}`);
    const at = Date.now() + 10_000;
    await client.publishAsync(
      "fleet/vehicle/van-1/temp",
      JSON.stringify({ compartment: "C", celsius: 3.3, at }),
      { qos: 1 },
    );
    await client.endAsync();
    // A bridge that lost its checkpoint replays the whole stream: nothing is applied twice.
    await handles.leases.delete("telemetry.checkpoint");
    bridge = new TelemetryBridge({ nc, topology, actors, leases: handles.leases, log });
    await bridge.start();
    const v = await waitFor("van-1 after restart", async () => {
      const v = await vehicle("van-1");
      return latest(v, "C")?.celsius === 3.3 ? v : null;
    });
    expect(v.rejected).toEqual(before.rejected);
    expect(v.telemetrySeq).toBeGreaterThan(before.telemetrySeq);
  });
});
