/**
 * The hand-off of chilled and frozen orders into a refrigerated van, through the store API on a
 * real nats-server with a real actor host: the vehicle takes the goods (or refuses, and so does
 * the hand-off), the store hands them off naming the compartment, the order records it, and
 * delivery empties the compartment again.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ActorClient, ActorHost, allActorLogics } from "../../actors/index.ts";
import type { Principal } from "../../actors/index.ts";
import { ensureTopology } from "../../nats/index.ts";
import type { Topology } from "../../nats/index.ts";
import type { TokenClaims } from "../../protocol/index.ts";
import { cleanup, connectForTest, testTopology, waitFor } from "../../test/nats-helpers.ts";
import { createGateway, signToken } from "../index.ts";
import type { Gateway } from "../index.ts";

const SECRET = "test-secret-0123456789-abcdefghijklmnop";
const log = pino({ level: "silent" });
const MIN = 60_000;
const STORE_AT = { lat: 25.0389, lng: 102.7183 };
const DOOR = { lat: 25.0475, lng: 102.7065 };
const ALL_DAY = [{ open: "00:00", close: "24:00" }];
const VAN = "van-1";
const DRIVER = "c-van";
const BIKER = "c-bike";

const dispatcher: Principal = { role: "dispatcher", id: "d-1" };
const bridge: Principal = { role: "system", id: "telemetry-bridge" };

let nc: NatsConnection;
let topology: Topology;
let host: ActorHost;
let actors: ActorClient;
let gateway: Gateway;
let readingSeq = 0;

async function token(claims: Omit<TokenClaims, "exp">): Promise<string> {
  return signToken({ ...claims, exp: Math.floor(Date.now() / 1000) + 600 }, SECRET);
}
const storeToken = () => token({ role: "store", sub: "s-van" });

/** A response body as the tests read it (its shape is what they check). */
type Body = { error: { code: string; message: string } } & Record<string, any>;

async function post(
  path: string,
  init: { token: string; body?: unknown; key?: string },
): Promise<{ status: number; body: Body }> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${init.token}`,
    "content-type": "application/json",
  };
  if (init.key) headers["idempotency-key"] = init.key;
  const res = await gateway.app.request(path, {
    method: "POST",
    headers,
    body: JSON.stringify(init.body ?? {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Body };
}

async function setup(
  type: string,
  id: string,
  msg: { type: string } & Record<string, unknown>,
  by: Principal,
) {
  const outcome = await actors.call({ type, id }, msg, { by });
  expect(outcome, JSON.stringify(outcome)).toMatchObject({ ok: true });
}

const view = async (type: string, id: string) =>
  (await actors.state<Record<string, any>>({ type, id })).view;

/** The orders in the van's compartment `id`. */
async function inCompartment(id: string): Promise<string[]> {
  const van = await view("vehicle", VAN);
  return (van.compartments as { id: string; orderIds: string[] }[]).find((c) => c.id === id)!
    .orderIds;
}

/** The data of the vehicle's latest event `name`. */
async function lastVehicleEvent(name: string): Promise<Record<string, unknown>> {
  const jsm = await jetstreamManager(nc);
  const msg = await jsm.streams.getMessage(topology.streams.events, {
    last_by_subj: topology.subjects.event({ type: "vehicle", id: VAN }, name),
  });
  return (msg!.json() as { data: Record<string, unknown> }).data;
}

/** A reading from the van's sensor bridge (a system principal), stamped now. */
async function reading(compartmentId: string, celsius: number): Promise<void> {
  readingSeq += 1;
  await setup(
    "vehicle",
    VAN,
    { type: "readings", readings: [{ seq: readingSeq, compartmentId, celsius, at: Date.now() }] },
    bridge,
  );
}

/**
 * An order of class `temperatureClass` placed and accepted through the API and assigned by a
 * dispatcher to `courierId`, with the store told who collects it.
 */
async function assignedOrder(
  shopOrderId: string,
  temperatureClass: "ambient" | "chilled" | "frozen",
  courierId = DRIVER,
): Promise<string> {
  const t = await storeToken();
  const created = await post("/v1/stores/s-van/orders", {
    token: t,
    body: {
      shopOrderId,
      shopperId: "u-1",
      temperatureClass,
      items: { summary: "1 × 鲜牛奶 1L", count: 1 },
      amounts: { goodsFen: 1290, deliveryFeeFen: 500, discountFen: 0, totalFen: 1790 },
      dropoff: { kind: "door", location: DOOR },
      promisedAt: Date.now() + 60 * MIN,
      pickupCode: "PICK22",
      deliveryPin: "4321",
    },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const orderId = created.body.orderId as string;
  await waitFor("the store to hold the order", async () =>
    (await view("store", "s-van")).incoming.some((o: any) => o.orderId === orderId),
  );
  const accepted = await post(`/v1/stores/s-van/orders/${orderId}/accept`, { token: t });
  expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
  await waitFor("the order accepted", async () => (await view("order", orderId)).acceptedAt);
  await setup("order", orderId, { type: "assign", courierId }, dispatcher);
  await waitFor("the store to know the courier", async () =>
    (await view("store", "s-van")).pending.some(
      (o: any) => o.orderId === orderId && o.courierId === courierId,
    ),
  );
  return orderId;
}

const handOff = async (orderId: string, body: Record<string, unknown>, key?: string) =>
  post(`/v1/stores/s-van/orders/${orderId}/hand-off`, {
    token: await storeToken(),
    body: { pickupCode: "PICK22", ...body },
    ...(key ? { key } : {}),
  });

beforeAll(async () => {
  nc = await connectForTest("cold-handoff.test");
  topology = testTopology({ partitions: 4 });
  await ensureTopology(nc, topology);
  host = new ActorHost({
    nc,
    topology,
    logics: allActorLogics,
    log,
    renewMs: 200,
    leaseTtlMs: 600,
  });
  await host.start();
  await waitFor("all partitions held", () => host.partitions.length === 4);
  actors = new ActorClient({ nc, topology });
  gateway = createGateway({ nc, topology, actors, auth: { secret: SECRET }, log });
  // Manual dispatch: the test assigns each order itself.
  await setup(
    "market",
    "m-van",
    { type: "configure", name: "官渡区", city: "昆明", autoDispatch: false },
    dispatcher,
  );
  await setup(
    "store",
    "s-van",
    {
      type: "register",
      name: "冷链鲜果",
      marketId: "m-van",
      location: STORE_AT,
      openHours: Object.fromEntries(["1", "2", "3", "4", "5", "6", "7"].map((d) => [d, ALL_DAY])),
    },
    { role: "admin", id: "a-1" },
  );
  await setup(
    "vehicle",
    VAN,
    {
      type: "configure",
      driverId: DRIVER,
      marketId: "m-van",
      // No grace period: a warm reading is an excursion at once.
      compartments: [
        { id: "C", class: "chilled", graceSeconds: 0 },
        { id: "A", class: "ambient", graceSeconds: 0 },
      ],
    },
    dispatcher,
  );
  await setup(
    "courier",
    DRIVER,
    {
      type: "go_on_shift",
      marketId: "m-van",
      vehicle: { mode: "van", vehicleId: VAN },
      capacity: { maxOrders: 10, slots: { ambient: 4, chilled: 4, frozen: 4 } },
    },
    { role: "courier", id: DRIVER },
  );
  await setup(
    "courier",
    BIKER,
    {
      type: "go_on_shift",
      marketId: "m-van",
      vehicle: { mode: "ebike" },
      capacity: { maxOrders: 3 },
    },
    { role: "courier", id: BIKER },
  );
  await reading("C", 2.5);
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  actors?.close();
  await host?.stop();
  await cleanup(nc, topology);
  await nc.close();
});

describe("hand-off into a refrigerated van", () => {
  it("loads a chilled order into the compartment named, once, and the order records it", async () => {
    const orderId = await assignedOrder("cold-1", "chilled");
    const first = await handOff(orderId, { compartmentId: "C" }, "hand-cold-1");
    expect(first.status, JSON.stringify(first.body)).toBe(202);
    expect(first.body).toMatchObject({
      actor: { type: "store", id: "s-van" },
      forwardedTo: { type: "order", id: orderId },
    });
    const order = await waitFor("the order picked up", async () => {
      const o = await view("order", orderId);
      return o.status === "picked_up" && o;
    });
    expect(order.coldChain).toEqual({
      vehicleId: VAN,
      compartmentId: "C",
      loadedAt: order.pickedUpAt,
      excursions: [],
    });
    expect(await inCompartment("C")).toEqual([orderId]);

    // A retry with the same key is answered again and loads nothing twice.
    const again = await handOff(orderId, { compartmentId: "C" }, "hand-cold-1");
    expect(again.status, JSON.stringify(again.body)).toBe(202);
    expect(await inCompartment("C")).toEqual([orderId]);
  });

  it("picks the van's only compartment of the class when none is named", async () => {
    const orderId = await assignedOrder("cold-2", "chilled");
    const res = await handOff(orderId, {});
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    await waitFor("the order in compartment C", async () => {
      const o = await view("order", orderId);
      return o.coldChain?.compartmentId === "C";
    });
    expect(await inCompartment("C")).toContain(orderId);
  });

  it("needs a compartment the van cannot tell, and a van for a compartment", async () => {
    const frozen = await assignedOrder("frozen-1", "frozen");
    const none = await handOff(frozen, {});
    expect(none.status).toBe(400);
    expect(none.body.error.code).toBe("compartment_required");
    expect(none.body.error.message).toContain("no frozen compartment");

    const byBike = await assignedOrder("bike-1", "chilled", BIKER);
    const noVan = await handOff(byBike, { compartmentId: "C" });
    expect(noVan.status).toBe(400);
    expect(noVan.body.error.code).toBe("vehicle_required");
    // Without a van, a chilled order goes in an insulated bag, as before.
    const bag = await handOff(byBike, {});
    expect(bag.status, JSON.stringify(bag.body)).toBe(202);
    const order = await waitFor("the bike order picked up", async () => {
      const o = await view("order", byBike);
      return o.status === "picked_up" && o;
    });
    expect(order.coldChain).toBeNull();
  });

  it("undoes the load when the store refuses the hand-off", async () => {
    const orderId = await assignedOrder("cold-3", "chilled");
    const wrong = await handOff(orderId, { compartmentId: "C", pickupCode: "WRONG22" });
    expect(wrong.status).toBe(409);
    expect(wrong.body.error.code).toBe("wrong_pickup_code");
    // It was loaded, and taken out again.
    expect(await lastVehicleEvent("order_loaded")).toMatchObject({ orderId, compartmentId: "C" });
    expect(await lastVehicleEvent("order_unloaded")).toMatchObject({ orderId, compartmentId: "C" });
    expect(await inCompartment("C")).not.toContain(orderId);
    expect((await view("order", orderId)).status).toBe("assigned");
  });

  it("refuses a compartment out of range or of the wrong class, with the vehicle's reason", async () => {
    const carried = await assignedOrder("cold-4", "chilled");
    expect((await handOff(carried, { compartmentId: "C" })).status).toBe(202);
    await waitFor("the order picked up", async () => {
      return (await view("order", carried)).status === "picked_up";
    });

    await reading("C", 9);
    // Every order inside is marked.
    const marked = await waitFor("the order marked", async () => {
      const o = await view("order", carried);
      return o.coldChain?.excursions.length === 1 && o;
    });
    expect(marked.coldChain.excursions[0]).toMatchObject({
      kind: "temperature",
      endedAt: null,
      celsius: 9,
    });

    const late = await assignedOrder("cold-5", "chilled");
    const warm = await handOff(late, { compartmentId: "C" });
    expect(warm.status).toBe(409);
    expect(warm.body.error.code).toBe("compartment_out_of_range");
    expect(warm.body.error.message).toContain("9 °C");
    expect(await inCompartment("C")).not.toContain(late);
    const waiting = await view("order", late);
    expect(waiting.status).toBe("assigned");
    expect(waiting.pickedUpAt).toBeNull();
    expect((await view("store", "s-van")).pending.some((o: any) => o.orderId === late)).toBe(true);

    const frozen = await assignedOrder("frozen-2", "frozen");
    const wrongClass = await handOff(frozen, { compartmentId: "C" });
    expect(wrongClass.status).toBe(409);
    expect(wrongClass.body.error.code).toBe("wrong_temperature_class");
    expect((await view("order", frozen)).status).toBe("assigned");

    await reading("C", 3);
    await waitFor("the mark closed", async () => {
      const o = await view("order", carried);
      return o.coldChain?.excursions[0]?.endedAt !== null;
    });
  });

  it("empties the compartment when the order is delivered", async () => {
    const orderId = await assignedOrder("cold-6", "chilled");
    expect((await handOff(orderId, { compartmentId: "C" })).status).toBe(202);
    await waitFor("the order in the van", async () => (await inCompartment("C")).includes(orderId));
    await waitFor("the order picked up", async () => {
      return (await view("order", orderId)).status === "picked_up";
    });
    const delivered = await post(`/v1/couriers/me/orders/${orderId}/deliver`, {
      token: await token({ role: "courier", sub: DRIVER, mkt: "m-van" }),
      body: { pin: "4321" },
    });
    expect(delivered.status, JSON.stringify(delivered.body)).toBe(200);
    await waitFor("the van unloaded", async () => !(await inCompartment("C")).includes(orderId));
    const order = await view("order", orderId);
    expect(order).toMatchObject({ status: "delivered", coldChain: { vehicleId: VAN } });
  });
});
