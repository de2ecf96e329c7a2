/**
 * The orders projection on its own, on a real nats-server and PGlite: order events published
 * straight into the EVT stream (as hosts publish them), the projector's rows checked in Postgres.
 * Out of order, replayed, from before `created` carried the row's fields, or clashing on a shop
 * order number: the projection converges and never stops.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ActorClient } from "../actors/index.ts";
import { loadSigner } from "../coldchain/index.ts";
import { findOrder, listAudit, listOrderEvents, migrate, openDatabase } from "../db/index.ts";
import type { DatabaseHandle } from "../db/index.ts";
import { ensureTopology } from "../nats/index.ts";
import type { Topology } from "../nats/index.ts";
import { cleanup, connectForTest, testTopology, waitFor } from "../test/nats-helpers.ts";
import { Projector } from "./index.ts";

const log = pino({ level: "silent" });
const T0 = Date.UTC(2026, 10, 22, 4, 0);
const CT = (n: string) => `v1.k1.${"A".repeat(16)}.${n}.${"B".repeat(22)}`;

let nc: NatsConnection;
let topology: Topology;
let history: DatabaseHandle;
let projector: Projector;
let actors: ActorClient;
let keyDir: string;
let seq = 0;

async function publish(
  orderId: string,
  name: string,
  data: Record<string, unknown>,
  extra: { at?: number; id?: string; by?: { role: string; id: string } } = {},
): Promise<void> {
  seq++;
  const envelope = {
    id: extra.id ?? `order.${orderId}.${seq}.0`,
    actor: { type: "order", id: orderId },
    name,
    seq,
    commandId: `cmd-${seq}`,
    at: extra.at ?? T0 + seq * 1000,
    ...(extra.by ? { by: extra.by } : {}),
    data,
  };
  await jetstream(nc).publish(
    topology.subjects.event({ type: "order", id: orderId }, name),
    JSON.stringify(envelope),
  );
}

function created(orderId: string, shopOrderId: string, contact: unknown = null) {
  return {
    storeId: "s-1",
    marketId: "m-1",
    shopOrderId,
    temperatureClass: "chilled",
    promisedAt: T0 + 3_600_000,
    dropoffKind: "door",
    totalFen: 1500,
    amounts: { goodsFen: 1000, deliveryFeeFen: 500, discountFen: 0, totalFen: 1500 },
    dropoff: { kind: "door", location: { lat: 25.04, lng: 102.71 } },
    contact,
  };
}

const row = (id: string) => findOrder(history.db, id);

beforeAll(async () => {
  nc = await connectForTest("projector-orders.test");
  topology = testTopology({ partitions: 2 });
  await ensureTopology(nc, topology);
  history = await openDatabase();
  await migrate(history);
  actors = new ActorClient({ nc, topology });
  keyDir = await mkdtemp(join(tmpdir(), "xianda-projector-orders-"));
  projector = new Projector({
    nc,
    topology,
    db: history.db,
    actors,
    signer: await loadSigner({ file: join(keyDir, "cert-key.pem") }),
    log,
  });
  await projector.start();
}, 60_000);

afterAll(async () => {
  await projector?.stop();
  actors?.close();
  await history?.close();
  await cleanup(nc, topology);
  await nc.close();
  if (keyDir) await rm(keyDir, { recursive: true, force: true });
});

describe("the orders projection", () => {
  it("makes the row from created, with the contact's ciphertext and not in order_events", async () => {
    const contact = { name: CT("bmFt"), phone: CT("cGhv"), address: CT("YWRk"), doorNote: null };
    await publish("o-1", "created", created("o-1", "wx-1", contact));
    await waitFor("the row", async () => (await row("o-1")) !== null);
    expect(await row("o-1")).toMatchObject({
      status: "placed",
      storeId: "s-1",
      shopOrderId: "wx-1",
      temperatureClass: "chilled",
      shopperNameEnc: contact.name,
      shopperPhoneEnc: contact.phone,
      shopperAddressEnc: contact.address,
      shopperDoorNoteEnc: null,
      dropoffLat: 25.04,
      totalFen: 1500,
    });
    const [event] = await listOrderEvents(history.db, "o-1");
    expect(event?.name).toBe("created");
    expect(JSON.stringify(event?.data)).not.toContain("v1.k1.");
  });

  it("follows the status: pool is confirmed, then ready once the food is, then through to delivered", async () => {
    await publish("o-2", "created", created("o-2", "wx-2"));
    await publish("o-2", "accepted", { readyAt: T0 + 600_000, readyAtSource: "stated" });
    await waitFor("confirmed", async () => (await row("o-2"))?.status === "confirmed");
    await publish("o-2", "ready", { readyAt: T0 + 500_000, statedReadyAt: T0 + 600_000 });
    await waitFor("ready", async () => (await row("o-2"))?.status === "ready");
    expect((await row("o-2"))?.readyAt?.getTime()).toBe(T0 + 500_000);
    await publish("o-2", "assigned", { courierId: "c-1", via: "offer", locked: false });
    await waitFor("assigned", async () => (await row("o-2"))?.status === "assigned");
    // Taken back to the pool: ready (the food is), not confirmed.
    await publish("o-2", "reassigned", { previousCourierId: "c-1", courierId: null, reason: "x" });
    await waitFor("back in the pool", async () => (await row("o-2"))?.status === "ready");
    await publish("o-2", "reassigned", { previousCourierId: null, courierId: "c-2", reason: "y" });
    await waitFor("assigned again", async () => (await row("o-2"))?.status === "assigned");
    // Holds and locks do not move the status.
    await publish("o-2", "locked", { reason: "vip" });
    await publish("o-2", "picked_up", { courierId: "c-2" });
    await waitFor("picked up", async () => (await row("o-2"))?.status === "picked_up");
    const at = T0 + 99_000_000;
    await publish("o-2", "delivered", { courierId: "c-2" }, { at });
    await waitFor("delivered", async () => (await row("o-2"))?.status === "delivered");
    expect((await row("o-2"))?.deliveredAt?.getTime()).toBe(at);
  });

  it("keeps the status and the ciphertext when created is replayed", async () => {
    await publish(
      "o-3",
      "created",
      created("o-3", "wx-3", {
        name: CT("b2xk"),
        phone: CT("b2xk"),
        address: null,
        doorNote: null,
      }),
    );
    await publish("o-3", "cancelled", { reason: "out_of_stock" });
    await waitFor("cancelled", async () => (await row("o-3"))?.status === "cancelled");
    // `created` again under a new id (a rebuild, a second projector, after pii:rotate rewrote
    // the row): the row keeps its status and its ciphertext.
    await publish(
      "o-3",
      "created",
      created("o-3", "wx-3", {
        name: CT("bmV3"),
        phone: CT("bmV3"),
        address: null,
        doorNote: null,
      }),
      { id: "again-1" },
    );
    await publish("o-4", "created", created("o-4", "wx-4"));
    await waitFor("a later order projected", async () => (await row("o-4")) !== null);
    await waitFor("the replay projected", async () =>
      (await listOrderEvents(history.db, "o-3")).some((e) => e.eventId === "again-1"),
    );
    expect(await row("o-3")).toMatchObject({ status: "cancelled", shopperNameEnc: CT("b2xk") });
  });

  it("skips what cannot make a row (an old created, a clashing shop order number) and goes on", async () => {
    await publish("o-old", "created", {
      storeId: "s-1",
      marketId: "m-1",
      shopOrderId: "wx-old",
      temperatureClass: "ambient",
      promisedAt: T0,
      dropoffKind: "door",
      totalFen: 100,
    });
    await publish("o-clash", "created", created("o-clash", "wx-1"));
    await publish("o-after", "created", created("o-after", "wx-after"));
    await publish(
      "o-after",
      "contact_revealed",
      {
        orderId: "o-after",
        by: "admin:a-1",
        reason: "回访",
        fields: ["name", "phone"],
      },
      { by: { role: "admin", id: "a-1" } },
    );
    await waitFor("the order after them", async () => (await row("o-after")) !== null);
    expect(await row("o-old")).toBeNull();
    expect(await row("o-clash")).toBeNull();
    await waitFor(
      "the reveal audited",
      async () => (await listAudit(history.db, { target: "order/o-after" })).length === 1,
    );
    expect((await listAudit(history.db, { target: "order/o-after" }))[0]).toMatchObject({
      actorRole: "admin",
      actorId: "a-1",
      action: "order.contact_reveal",
      reason: "回访",
    });
    // Nothing was retried: no event poisoned the consumer.
    const failures = (await projector.metrics.failures.get()).values;
    expect(failures.reduce((sum, v) => sum + v.value, 0)).toBe(0);
  });
});
