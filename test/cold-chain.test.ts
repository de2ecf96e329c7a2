/**
 * The cold chain end to end, on a private nats-server with its MQTT listener: a van's logger
 * publishes over MQTT (the `mqtt` package and Debian's `mosquitto_pub`); an excursion reaches
 * the driver's and the dispatcher's websockets within a second; a chilled hand-off into the warm
 * compartment is refused with the reason; the delivered order's certificate verifies, and stops
 * verifying once one of its readings is edited in Postgres.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqtt from "mqtt";
import type { MqttClient } from "mqtt";
import { sql } from "drizzle-orm";
import { verifyCertificate } from "../coldchain/index.ts";
import { findCertificate } from "../db/index.ts";
import { TestClient } from "../gateway/test/helpers.ts";
import { startPrivateNats } from "./nats-server.ts";
import type { PrivateNats } from "./nats-server.ts";
import { NATS_URL, waitFor } from "./nats-helpers.ts";
import { startStack } from "./stack.ts";
import pino from "pino";
import { Projector } from "../projector/index.ts";
import type { Stack } from "./stack.ts";

const run = promisify(execFile);
const NATS_PORT = 14_522;
// `npm run test:cluster` runs this file on its cluster (NATS_URL), whose servers take MQTT too.
const CLUSTER_MQTT_PORT = process.env.XIANDA_TEST_MQTT_PORT;
const MQTT_PORT = CLUSTER_MQTT_PORT ? Number(CLUSTER_MQTT_PORT) : 11_885;
const VAN = "van-e2e";
const DRIVER = "c-van-e2e";
const dispatcher = { role: "dispatcher", id: "d-1" } as const;

let server: PrivateNats | null = null;
let stack: Stack;
let logger: MqttClient;
let topic: string;

async function publish(readings: { compartment: string; celsius: number; at?: number }[]) {
  const at = Date.now();
  await logger.publishAsync(
    topic,
    JSON.stringify({ readings: readings.map((r) => ({ at, ...r })) }),
    { qos: 1 },
  );
}

async function vehicle(): Promise<{
  compartments: { id: string; latest: { celsius: number } | null; orderIds: string[] }[];
}> {
  return (await stack.actors.state<never>({ type: "vehicle", id: VAN })).view;
}
const latest = async (c: string) =>
  (await vehicle()).compartments.find((x) => x.id === c)?.latest?.celsius;

async function handOff(orderId: string, code: string, compartmentId: string) {
  const res = await fetch(`${stack.url}/v1/stores/s-1/orders/${orderId}/hand-off`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${await stack.tokens.store("s-1")}`,
      "content-type": "application/json",
      "idempotency-key": `hand-off-${orderId}-${compartmentId}-${Date.now()}`,
    },
    body: JSON.stringify({ pickupCode: code, courierId: DRIVER, compartmentId }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

beforeAll(async () => {
  if (!CLUSTER_MQTT_PORT) server = await startPrivateNats(NATS_PORT, { mqttPort: MQTT_PORT });
  stack = await startStack({ natsUrl: server?.url ?? NATS_URL, certificateSettleMs: 300 });
  topic = `${stack.topology.subjects.namespace}/fleet/vehicle/${VAN}/temp`;
  const configured = await stack.actors.call(
    { type: "vehicle", id: VAN },
    {
      type: "configure",
      compartments: [
        { id: "C", class: "chilled", graceSeconds: 0 },
        { id: "F", class: "frozen", graceSeconds: 0 },
      ],
      marketId: "km",
      driverId: DRIVER,
    },
    { by: dispatcher },
  );
  expect(configured.ok).toBe(true);
  logger = await mqtt.connectAsync(`mqtt://127.0.0.1:${MQTT_PORT}`, { clientId: `${VAN}-logger` });
}, 60_000);

afterAll(async () => {
  await logger?.endAsync();
  await stack?.stop();
  await server?.destroy();
});

describe("cold chain end to end", () => {
  it("takes readings over MQTT from the mqtt package and from mosquitto_pub", async () => {
    await publish([
      { compartment: "C", celsius: 2.6 },
      { compartment: "F", celsius: -19.4 },
    ]);
    await waitFor("the chilled reading", async () => (await latest("C")) === 2.6);
    await run("mosquitto_pub", [
      ...["-h", "127.0.0.1", "-p", String(MQTT_PORT), "-q", "1", "-t", topic],
      ...["-m", JSON.stringify({ compartment: "F", celsius: -19.8, at: Date.now() })],
    ]);
    await waitFor("the frozen reading", async () => (await latest("F")) === -19.8);
  });

  it("takes readings from the driver's phone-paired logger, and only from the van's driver", async () => {
    const ws = (token: string) =>
      new TestClient(`${stack.url.replace("http", "ws")}/ws/driver?token=${token}`);
    const driver = ws(await stack.tokens.courier(DRIVER));
    const stranger = ws(await stack.tokens.courier("c-stranger"));
    await Promise.all([driver.opened, stranger.opened]);
    const frame = (celsius: number, id: string) => ({
      type: "temperature",
      id,
      vehicleId: VAN,
      readings: [{ compartmentId: "F", celsius, at: Date.now() }],
    });
    driver.send(frame(-20.5, "d1"));
    const ack = await driver.until("the ack", () => driver.of("temperature_ack")[0]);
    expect(ack).toMatchObject({ id: "d1", readings: 1 });
    await waitFor("the phone's reading", async () => (await latest("F")) === -20.5);
    stranger.send(frame(-5, "s1"));
    await stranger.until("the ack", () => stranger.of("temperature_ack")[0]);
    await waitFor("the stranger's reading rejected", async () => {
      const v = (
        await stack.actors.state<{ rejected: Record<string, number> }>({ type: "vehicle", id: VAN })
      ).view;
      return v.rejected.wrong_driver === 1;
    });
    expect(await latest("F")).toBe(-20.5);
    driver.send({
      type: "temperature",
      vehicleId: VAN,
      readings: [{ compartmentId: "F", celsius: "cold", at: 1 }],
    });
    const error = await driver.until("the error frame", () => driver.of("error")[0]);
    expect(error.ref).toBe("temperature");
    driver.ws.close();
    stranger.ws.close();
  });

  it("delivers a chilled order in the van with a certificate that verifies, until a reading is edited", async () => {
    const orderId = "o-cold-ok";
    const { pickupCode } = await stack.assignedOrder({
      orderId,
      courierId: DRIVER,
      temperatureClass: "chilled",
      vehicle: { mode: "van", vehicleId: VAN },
    });
    await stack.actors.call(
      { type: "order", id: orderId },
      { type: "arrive_at_store", courierId: DRIVER },
      { by: { role: "courier", id: DRIVER } },
    );
    const handed = await handOff(orderId, pickupCode, "C");
    expect(handed.status, JSON.stringify(handed.body)).toBe(202);
    await waitFor("the order in compartment C", async () =>
      (await vehicle()).compartments.find((c) => c.id === "C")?.orderIds.includes(orderId),
    );
    for (const celsius of [2.8, 3.1, 2.9]) {
      await new Promise((r) => setTimeout(r, 20));
      await publish([{ compartment: "C", celsius }]);
    }
    await waitFor("the last reading", async () => (await latest("C")) === 2.9);
    await stack.deliver(orderId, DRIVER);

    const row = await waitFor("the certificate", () => findCertificate(stack.db, orderId), 15_000);
    const served = async () => {
      const res = await fetch(`${stack.url}/v1/orders/${orderId}/certificate`, {
        headers: { authorization: `Bearer ${await stack.tokens.shopper(orderId)}` },
      });
      expect(res.status).toBe(200);
      return res.json();
    };
    const trusted = {
      trustedKeys: (await import("../coldchain/index.ts")).publicJwks(stack.signer).keys,
    };
    const stored = row.document as { readings: { seq: number; celsius: number }[] };
    expect(stored.readings.map((r) => r.celsius)).toEqual([2.6, 2.8, 3.1, 2.9]);
    expect(await verifyCertificate(row.document, trusted)).toMatchObject({ ok: true });
    expect(await verifyCertificate(await served(), trusted)).toMatchObject({ ok: true });

    // Someone "fixes" the evidence in Postgres: the certificate no longer holds.
    const edited = stored.readings[2]!.seq;
    await stack.db.execute(
      sql`update temperature_readings set celsius = 1.5 where stream_seq = ${edited}`,
    );
    const after = await verifyCertificate(await served(), trusted);
    expect(after.ok).toBe(false);
    expect(after.problems.join("\n")).toContain(`seq ${edited}`);
  });

  it("projects every accepted reading once: a projector replaying the whole stream adds nothing", async () => {
    const count = async () =>
      Number(
        (
          (await stack.db.execute(
            sql`select count(*)::int as n from temperature_readings`,
          )) as unknown as {
            rows: { n: number }[];
          }
        ).rows[0]!.n,
      );
    const accepted = async () => {
      const v = (await stack.actors.state<{ telemetrySeq: number }>({ type: "vehicle", id: VAN }))
        .view;
      return v.telemetrySeq;
    };
    await waitFor(
      "projection caught up",
      async () => (await count()) >= 7 || (console.log("count", await count()), false),
    );
    const before = await count();
    expect(before).toBeGreaterThan(0);
    // A second projector of the same deployment with fresh consumers reads every event again.
    const replay = new Projector({
      nc: stack.nc,
      topology: stack.topology,
      db: stack.db,
      actors: stack.actors,
      signer: stack.signer,
      log: pino({ level: "silent" }),
      name: "replay",
    });
    await replay.start();
    await waitFor(
      "the replay read everything",
      async () =>
        (await replay.metrics.registry.getSingleMetric("xianda_projector_readings_total")?.get())
          ?.values[0] !== undefined,
    );
    await new Promise((r) => setTimeout(r, 500));
    await replay.stop();
    expect(await count()).toBe(before);
    expect(await accepted()).toBeGreaterThan(0);
  });

  it("alerts the driver and the dispatchers within a second of an excursion, and refuses a chilled hand-off into the warm compartment", async () => {
    const driver = new TestClient(
      `${stack.url.replace("http", "ws")}/ws/live?token=${await stack.tokens.courier(DRIVER)}`,
    );
    const console_ = new TestClient(
      `${stack.url.replace("http", "ws")}/ws/live?token=${await stack.tokens.dispatcher("km")}`,
    );
    await Promise.all([driver.opened, console_.opened]);
    driver.send({ type: "subscribe", channel: `courier:${DRIVER}` });
    console_.send({ type: "subscribe", channel: "market:km" });
    for (const c of [driver, console_]) {
      await c.until("subscribed", () => c.of("subscribed").length > 0);
    }

    const orderId = "o-cold-refused";
    const { pickupCode } = await stack.assignedOrder({
      orderId,
      courierId: DRIVER,
      temperatureClass: "chilled",
    });
    await stack.actors.call(
      { type: "order", id: orderId },
      { type: "arrive_at_store", courierId: DRIVER },
      { by: { role: "courier", id: DRIVER } },
    );

    const sentAt = Date.now();
    await publish([{ compartment: "C", celsius: 9.5 }]);
    const alertOf = (c: TestClient) => () => {
      const i = c.frames.findIndex(
        (f) =>
          f.type === "push" && f.frame.kind === "alert" && f.frame.code === "temperature_excursion",
      );
      return i >= 0 ? { frame: c.frames[i]!, at: c.receivedAt[i]! } : null;
    };
    const [toDriver, toConsole] = await Promise.all([
      driver.until("the driver's alert", alertOf(driver), 3000),
      console_.until("the console's alert", alertOf(console_), 3000),
    ]);
    expect(toDriver.at - sentAt).toBeLessThanOrEqual(1000);
    expect(toConsole.at - sentAt).toBeLessThanOrEqual(1000);

    const refused = await handOff(orderId, pickupCode, "C");
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("compartment_out_of_range");
    expect(refused.body.error.message).toContain("9.5");
    const order = (await stack.actors.state<{ status: string }>({ type: "order", id: orderId }))
      .view;
    expect(order.status).not.toBe("picked_up");
    driver.ws.close();
    console_.ws.close();
  });
});
