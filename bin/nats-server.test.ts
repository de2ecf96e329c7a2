/**
 * `npm start` on a machine without NATS: it starts nats-server (JetStream and MQTT, its store
 * under DATA_DIR) when nothing answers at NATS_URL, and without a nats-server binary it says how
 * to get one.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import mqtt from "mqtt";
import { afterAll, describe, expect, it } from "vitest";
import { ensureNats, NatsServerMissingError } from "./nats-server.ts";

const dirs: string[] = [];
const dataDir = () => {
  const d = mkdtempSync(join(tmpdir(), "xianda-start-nats-"));
  dirs.push(d);
  return d;
};

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("ensureNats", () => {
  it("starts nats-server with JetStream and MQTT when nothing answers, and stops it", async () => {
    const url = "nats://127.0.0.1:17822";
    const dir = dataDir();
    const local = await ensureNats(url, dir, 17823);
    try {
      expect(local.child).not.toBeNull();
      expect(local.mqttPort).toBe(17823);
      const nc = await connect({ servers: url });
      const jsm = await jetstreamManager(nc);
      const info = await jsm.getAccountInfo();
      expect(info.limits).toBeDefined();
      const client = await mqtt.connectAsync("mqtt://127.0.0.1:17823");
      await client.endAsync();
      await nc.close();
      // A second start finds it running and starts nothing.
      const again = await ensureNats(url, dir);
      expect(again.child).toBeNull();
    } finally {
      await local.stop();
    }
    expect(local.child!.exitCode !== null || local.child!.signalCode !== null).toBe(true);
  }, 30_000);

  it("says how to install nats-server when there is none on PATH", async () => {
    const path = process.env.PATH;
    process.env.PATH = dataDir(); // an empty folder: no nats-server anywhere
    try {
      const error = await ensureNats("nats://127.0.0.1:17824", dataDir()).catch((e) => e);
      expect(error).toBeInstanceOf(NatsServerMissingError);
      expect((error as Error).message).toMatch(/apt-get install nats-server/);
      expect((error as Error).message).toMatch(/NATS_URL/);
    } finally {
      process.env.PATH = path;
    }
  });
});
