/**
 * Personal data at rest, end to end on the real services: shops place orders with their
 * shoppers' contacts through the gateway, the actors run them, the projector writes them to a
 * real PostgreSQL; then the test reads Postgres directly (every column of every row of `orders`,
 * `order_events` and `audit_log`), the NATS KV actor records and the event stream, and finds no
 * plaintext name, phone, address or door note anywhere, only ciphertext that decrypts to them.
 * Then `npm run pii:rotate` (the real script, as a child process) re-encrypts under a new key,
 * in batches, idempotently.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ActorClient, ActorHost, allActorLogics } from "../../actors/index.ts";
import type { Principal } from "../../actors/index.ts";
import { loadSigner } from "../../coldchain/index.ts";
import { migrate, openDatabase } from "../../db/index.ts";
import type { DatabaseHandle } from "../../db/index.ts";
import { ensureTopology } from "../../nats/index.ts";
import type { Topology } from "../../nats/index.ts";
import { CONTACT_FIELDS, PiiCipher, newKeyringEntry, parseKeyring } from "../../pii/index.ts";
import { Projector } from "../../projector/index.ts";
import type { TokenClaims } from "../../protocol/index.ts";
import { cleanup, connectForTest, testTopology, waitFor } from "../../test/nats-helpers.ts";
import { createGateway, signToken } from "../index.ts";
import type { Gateway } from "../index.ts";

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const SERVER = "postgres://postgres@127.0.0.1:5432";
const SECRET = "pii-at-rest-secret-0123456789-abcdefghij";
const log = pino({ level: "silent" });
const MIN = 60_000;
const K1 = newKeyringEntry("k1");
const K2 = newKeyringEntry("k2");
const ADMIN: Principal = { role: "admin", id: "a-setup" };

/** Three shoppers; every string here must be found nowhere at rest. */
const SHOPPERS = [
  {
    name: "张三丰",
    phone: "13812341234",
    address: "云南省昆明市五华区翠湖南路12号3栋502",
    doorNote: "放门口，别按门铃",
  },
  { name: "欧阳娜娜", phone: "15987654321", address: "云南省昆明市盘龙区北京路88号1单元" },
  { name: "李四", phone: "18600001111" },
] as const;
/** Fragments too: a masked or partial copy is a leak as well (the middle digits, the street). */
const FORBIDDEN = [
  ...SHOPPERS.flatMap((s) => Object.values(s)),
  "12341234",
  "87654321",
  "翠湖南路",
  "北京路88号",
  "别按门铃",
];

let nc: NatsConnection;
let topology: Topology;
let host: ActorHost;
let actors: ActorClient;
let gateway: Gateway;
let projector: Projector;
let history: DatabaseHandle;
let dbName: string;
let dbUrl: string;
let keyDir: string;
let sql: postgres.Sql;
const orderIds: string[] = [];

const token = (claims: Omit<TokenClaims, "exp">) =>
  signToken({ ...claims, exp: Math.floor(Date.now() / 1000) + 600 }, SECRET);

async function post(path: string, t: string, body: unknown) {
  const res = await gateway.app.request(path, {
    method: "POST",
    headers: { authorization: `Bearer ${t}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

async function command(orderId: string, msg: { type: string } & Record<string, unknown>) {
  const outcome = await actors.call({ type: "order", id: orderId }, msg, { by: ADMIN });
  expect(outcome, JSON.stringify(outcome)).toMatchObject({ ok: true });
}

function expectNoPlaintext(where: string, text: string): void {
  for (const p of FORBIDDEN) expect(text.includes(p), `${where} holds "${p}"`).toBe(false);
}

type Run = { code: number; stdout: string; stderr: string };

/** `npm run pii:rotate -- <args>` against the test's database, with `keys` as XIANDA_PII_KEYS. */
function rotate(keys: string, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "bin/pii-rotate.ts", ...args],
      {
        cwd: root,
        env: {
          PATH: process.env.PATH,
          DATABASE_URL: dbUrl,
          XIANDA_PII_KEYS: keys,
          DATA_DIR: keyDir,
          LOG_LEVEL: "silent",
        },
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

beforeAll(async () => {
  dbName = `xianda_test_${randomBytes(6).toString("hex")}`;
  const admin = postgres(`${SERVER}/postgres`, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${dbName}"`);
  await admin.end({ timeout: 5 });
  dbUrl = `${SERVER}/${dbName}`;
  history = await openDatabase({ url: dbUrl, maxConnections: 4 });
  await migrate(history);
  sql = postgres(dbUrl, { max: 2, onnotice: () => {} });

  nc = await connectForTest("pii-at-rest.test");
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
  keyDir = await mkdtemp(join(tmpdir(), "xianda-pii-at-rest-"));
  projector = new Projector({
    nc,
    topology,
    db: history.db,
    actors,
    signer: await loadSigner({ file: join(keyDir, "cert-key.pem") }),
    log,
    settleMs: 100,
  });
  await projector.start();
  gateway = createGateway({
    nc,
    topology,
    actors,
    auth: { secret: SECRET },
    log,
    pii: parseKeyring(K1),
  });

  const setup = async (
    type: string,
    id: string,
    msg: { type: string } & Record<string, unknown>,
  ) => {
    const outcome = await actors.call({ type, id }, msg, { by: ADMIN });
    expect(outcome, JSON.stringify(outcome)).toMatchObject({ ok: true });
  };
  await setup("market", "m-r", {
    type: "configure",
    name: "五华区",
    city: "昆明",
    autoDispatch: false,
  });
  await setup("store", "s-r", {
    type: "register",
    name: "鲜果铺",
    marketId: "m-r",
    location: { lat: 25.0389, lng: 102.7183 },
    openHours: Object.fromEntries(
      ["1", "2", "3", "4", "5", "6", "7"].map((d) => [d, [{ open: "00:00", close: "24:00" }]]),
    ),
  });

  // Three orders through the store API: a door with a note, a door, a pickup point.
  const store = await token({ role: "store", sub: "s-r" });
  for (const [i, contact] of SHOPPERS.entries()) {
    const r = await post("/v1/stores/s-r/orders", store, {
      shopOrderId: `rest-${i}`,
      temperatureClass: "ambient",
      items: { summary: "1 × 鲜牛奶", count: 1 },
      amounts: { goodsFen: 1000, deliveryFeeFen: 500, discountFen: 0, totalFen: 1500 },
      dropoff:
        "address" in contact
          ? { kind: "door", location: { lat: 25.0475, lng: 102.7065 } }
          : { kind: "pickup_point", pickupPointId: "pp-1", location: { lat: 25.04, lng: 102.71 } },
      promisedAt: Date.now() + 60 * MIN,
      deliveryPin: "4321",
      contact,
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    orderIds.push(r.body.orderId);
  }
  const [delivered, cancelled, waiting] = orderIds as [string, string, string];
  for (const id of orderIds) {
    await command(id, { type: "accept", readyAt: Date.now() + 10 * MIN, readyAtSource: "stated" });
  }
  await command(delivered, { type: "assign", courierId: "c-r" });
  await command(delivered, { type: "pick_up" });
  await command(delivered, { type: "deliver", pin: "4321" });
  await command(cancelled, { type: "cancel", reason: "shopper_request" });
  const reveal = await post(
    `/v1/orders/${waiting}/contact/reveal`,
    await token({ role: "admin", sub: "a-9" }),
    {
      reason: "门店电话回访",
    },
  );
  expect(reveal.status).toBe(200);
  expect(reveal.body.contact.phone).toBe(SHOPPERS[2].phone);

  // The projector has caught up: rows with their final statuses, the reveal in the audit log.
  await waitFor(
    "the projector to write the orders",
    async () => {
      const rows = await sql`select id, status from orders order by id`;
      const status = Object.fromEntries(rows.map((r) => [r.id, r.status]));
      const audit = await sql`select 1 from audit_log where action = 'order.contact_reveal'`;
      return (
        status[delivered] === "delivered" &&
        status[cancelled] === "cancelled" &&
        status[waiting] === "confirmed" &&
        audit.length === 1
      );
    },
    15_000,
  );
}, 90_000);

afterAll(async () => {
  await gateway?.close();
  await projector?.stop();
  actors?.close();
  await host?.stop();
  if (nc) {
    await cleanup(nc, topology);
    await nc.close();
  }
  await sql?.end({ timeout: 5 });
  await history?.close();
  const admin = postgres(`${SERVER}/postgres`, { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists "${dbName}" with (force)`);
  await admin.end({ timeout: 5 });
  if (keyDir) await rm(keyDir, { recursive: true, force: true });
});

describe("personal data at rest", () => {
  it("keeps no plaintext name, phone, address or note in any column of orders, order_events or audit_log", async () => {
    for (const table of ["orders", "order_events", "audit_log"]) {
      const rows = await sql.unsafe(`select row_to_json(t)::text as json from ${table} t`);
      expect(rows.length, table).toBeGreaterThan(0);
      for (const r of rows) expectNoPlaintext(`${table} row`, r.json as string);
    }
    // The whole database, not only the tables this test knows of.
    const tables = await sql`
      select table_name from information_schema.tables
      where table_schema = 'public' and table_type = 'BASE TABLE'`;
    for (const { table_name } of tables) {
      const rows = await sql.unsafe(`select row_to_json(t)::text as json from "${table_name}" t`);
      for (const r of rows) expectNoPlaintext(`${table_name as string} row`, r.json as string);
    }
  });

  it("holds ciphertext in the _enc columns that decrypts to each shopper's contact, bound to its order", async () => {
    const cipher = new PiiCipher(parseKeyring(K1));
    for (const [i, id] of orderIds.entries()) {
      const [row] = await sql`
        select shopper_name_enc, shopper_phone_enc, shopper_address_enc, shopper_door_note_enc
        from orders where id = ${id}`;
      const s = SHOPPERS[i]!;
      const open = (value: string | null, field: string) =>
        value === null ? null : cipher.decrypt(value, { recordId: id, field });
      expect(row!.shopper_phone_enc).toMatch(/^v1\.k1\./);
      expect(open(row!.shopper_name_enc, CONTACT_FIELDS.name)).toBe(s.name);
      expect(open(row!.shopper_phone_enc, CONTACT_FIELDS.phone)).toBe(s.phone);
      expect(open(row!.shopper_address_enc, CONTACT_FIELDS.address)).toBe(
        "address" in s ? s.address : null,
      );
      expect(open(row!.shopper_door_note_enc, CONTACT_FIELDS.doorNote)).toBe(
        "doorNote" in s ? s.doorNote : null,
      );
      // Moved to another order's row, it would not decrypt.
      const other = orderIds[(i + 1) % orderIds.length]!;
      expect(() =>
        cipher.decrypt(row!.shopper_phone_enc, { recordId: other, field: CONTACT_FIELDS.phone }),
      ).toThrow();
    }
    // The projection around it: statuses, times, the admin's reveal with who and why.
    const [d] = await sql`select status, delivered_at from orders where id = ${orderIds[0]!}`;
    expect(d).toMatchObject({ status: "delivered" });
    expect(d!.delivered_at).toBeInstanceOf(Date);
    // (The audit log holds every operator action; the reveal is the one about contacts.)
    const audit =
      await sql`select actor_role, actor_id, action, target, reason from audit_log where action = 'order.contact_reveal'`;
    expect(audit).toEqual([
      {
        actor_role: "admin",
        actor_id: "a-9",
        action: "order.contact_reveal",
        target: `order/${orderIds[2]}`,
        reason: "门店电话回访",
      },
    ]);
  });

  it("keeps no plaintext in the NATS KV actor records or the event stream either", async () => {
    const bucket = await new Kvm(nc).open(topology.buckets.actors);
    let records = 0;
    for (const id of orderIds) {
      for await (const key of await bucket.keys(`*.order.${id}`)) {
        const entry = await bucket.get(key);
        expect(entry?.string()).toContain("v1.k1.");
        expectNoPlaintext(`KV ${key}`, entry!.string());
        records++;
      }
    }
    expect(records).toBe(orderIds.length);
    const jsm = await jetstreamManager(nc);
    for (const stream of [topology.streams.events, topology.streams.commands]) {
      const info = await jsm.streams.info(stream);
      expect(info.state.messages).toBeGreaterThan(0);
      for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
        const m = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
        if (m) expectNoPlaintext(`${stream} #${seq}`, m.string());
      }
    }
  });

  it("re-encrypts under a new key with npm run pii:rotate, in batches, and a second run writes nothing", async () => {
    const dry = await rotate(`${K2},${K1}`, "--dry-run");
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain("dry run: 3 orders under an older key, 0 re-encrypted");
    expect(
      (await sql`select count(*)::int as n from orders where shopper_phone_enc like 'v1.k1.%'`)[0]!
        .n,
    ).toBe(3);

    const first = await rotate(`${K2},${K1}`, "--batch", "2");
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(`3 orders under an older key, 3 re-encrypted under "k2"`);
    // Two batches of at most two rows.
    expect(first.stdout.match(/^… /gm)).toHaveLength(2);
    const rows = await sql`
      select id, shopper_name_enc, shopper_phone_enc, shopper_address_enc, shopper_door_note_enc
      from orders order by id`;
    const onlyNew = new PiiCipher(parseKeyring(K2));
    for (const row of rows) {
      for (const [column, field] of [
        ["shopper_name_enc", CONTACT_FIELDS.name],
        ["shopper_phone_enc", CONTACT_FIELDS.phone],
        ["shopper_address_enc", CONTACT_FIELDS.address],
        ["shopper_door_note_enc", CONTACT_FIELDS.doorNote],
      ] as const) {
        const value = row[column] as string | null;
        if (value === null) continue;
        expect(value).toMatch(/^v1\.k2\./);
        // k1 can be retired from Postgres' point of view: k2 alone opens every value.
        expect(FORBIDDEN).toContain(onlyNew.decrypt(value, { recordId: row.id as string, field }));
      }
      expectNoPlaintext("a rotated row", JSON.stringify(row));
    }

    const second = await rotate(`${K2},${K1}`);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("0 orders under an older key, 0 re-encrypted");

    // A key missing from the ring: reported, exit 1, nothing written.
    const before = await sql`select shopper_phone_enc from orders order by id`;
    const missing = await rotate(newKeyringEntry("k3"));
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain("3 could not be decrypted");
    expect(missing.stderr).toContain("UnknownPiiKeyError");
    expect(await sql`select shopper_phone_enc from orders order by id`).toEqual(before);

    const usage = await rotate(`${K2},${K1}`, "--batch", "0");
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("--batch");
  }, 60_000);
});
