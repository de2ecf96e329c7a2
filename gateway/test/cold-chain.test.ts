/**
 * The cold-chain routes against the whole stack (NATS, an actor host, the projector writing
 * PGlite, the gateway): a chilled order rides in a van compartment, is delivered, and its
 * certificate is served to those who may read it, checked against the readings as they are
 * stored now; a van's readings are served for the console's chart.
 */
import { sql } from "drizzle-orm";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Principal } from "../../actors/index.ts";
import { publicJwks, verifyCertificate } from "../../coldchain/index.ts";
import type { JWK } from "jose";
import { findCertificate, insertCertificate, readingsBySequence } from "../../db/index.ts";
import { startStack } from "../../test/stack.ts";
import type { Stack } from "../../test/stack.ts";
import { waitFor } from "../../test/nats-helpers.ts";
import { createGateway, signToken } from "../index.ts";
import { CERTIFICATE_KEYS_PATH, PROBLEMS_HEADER, VERIFIED_HEADER } from "../http/cold-chain.ts";

const VAN = "van-cc";
const DRIVER = "c-cc";
const COMPARTMENT = "chill";
const ORDER = "o-cc";
const dispatcher: Principal = { role: "dispatcher", id: "d-1" };
const bridge: Principal = { role: "system", id: "telemetry-bridge" };

let stack: Stack;
/** TELEMETRY stream sequences: unique and increasing. */
let seq = 7_300_000;
const sent: Array<{ seq: number; celsius: number; at: number }> = [];

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function reading(celsius: number): Promise<number> {
  seq += 1;
  const at = Date.now();
  const outcome = await stack.actors.call(
    { type: "vehicle", id: VAN },
    { type: "readings", readings: [{ seq, compartmentId: COMPARTMENT, celsius, at }] },
    { by: bridge },
  );
  expect(outcome, JSON.stringify(outcome)).toMatchObject({ ok: true });
  sent.push({ seq, celsius, at });
  // Two readings never share a sensor time (the vehicle would take the second for a duplicate).
  await sleep(15);
  return seq;
}

type Body = Record<string, any>;

async function get(
  path: string,
  token?: string,
): Promise<{ status: number; body: Body; text: string; headers: Headers }> {
  const res = await fetch(`${stack.url}${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const text = await res.text();
  let body: Body = {};
  try {
    body = JSON.parse(text) as Body;
  } catch {
    // The printable page.
  }
  return { status: res.status, body, text, headers: res.headers };
}

const trustedKeys = () => publicJwks(stack.signer).keys as JWK[];

beforeAll(async () => {
  stack = await startStack({ certificateSettleMs: 300 });
  const configured = await stack.actors.call(
    { type: "vehicle", id: VAN },
    {
      type: "configure",
      driverId: DRIVER,
      marketId: "km",
      compartments: [{ id: COMPARTMENT, class: "chilled", graceSeconds: 0 }],
    },
    { by: dispatcher },
  );
  expect(configured, JSON.stringify(configured)).toMatchObject({ ok: true });
  const shift = await stack.actors.call(
    { type: "courier", id: DRIVER },
    {
      type: "go_on_shift",
      marketId: "km",
      vehicle: { mode: "van", vehicleId: VAN },
      capacity: { maxOrders: 5, slots: { ambient: 2, chilled: 2, frozen: 1 } },
    },
    { by: { role: "courier", id: DRIVER } },
  );
  expect(shift, JSON.stringify(shift)).toMatchObject({ ok: true });
  await reading(3.1);

  // A chilled order, handed off into the van's compartment through the store API.
  const { pickupCode } = await stack.assignedOrder({
    orderId: ORDER,
    courierId: DRIVER,
    temperatureClass: "chilled",
  });
  const handOff = await fetch(`${stack.url}/v1/stores/s-1/orders/${ORDER}/hand-off`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${await stack.tokens.store("s-1")}`,
      "content-type": "application/json",
    },
    body: JSON.stringify({ pickupCode, vehicleId: VAN, compartmentId: COMPARTMENT }),
  });
  expect(handOff.status, await handOff.clone().text()).toBe(202);
  await waitFor("the order picked up into the van", async () => {
    const { view } = await stack.actors.state<{ status: string; coldChain: unknown }>({
      type: "order",
      id: ORDER,
    });
    return view.status === "picked_up" && view.coldChain !== null;
  });
  for (const celsius of [3.4, 2.9, 3.6, 2.7]) await reading(celsius);
  await stack.deliver(ORDER, DRIVER);
  await waitFor("the certificate", () => findCertificate(stack.db, ORDER), 20_000);
}, 90_000);

afterAll(async () => {
  await stack?.stop();
});

describe("GET /v1/orders/:orderId/certificate", () => {
  it("serves the certificate to the order's shopper, verified with the gateway's keys", async () => {
    const res = await get(`/v1/orders/${ORDER}/certificate`, await stack.tokens.shopper(ORDER));
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get(VERIFIED_HEADER)).toBe("true");
    expect(res.headers.get(PROBLEMS_HEADER)).toBe("0");
    expect(res.headers.get("cache-control")).toContain("no-store");
    expect(res.body).toMatchObject({
      kind: "xianda.cold-chain-certificate",
      order: { id: ORDER, temperatureClass: "chilled" },
      vehicle: { id: VAN },
      compartment: { id: COMPARTMENT, class: "chilled", range: { minC: 0, maxC: 4 } },
      summary: { verdict: "ok" },
    });
    // The reading before hand-off and the four inside the window.
    expect(res.body.readings.map((r: Body) => r.celsius)).toEqual([3.1, 3.4, 2.9, 3.6, 2.7]);
    const check = await verifyCertificate(res.body, { trustedKeys: trustedKeys() });
    expect(check.problems).toEqual([]);
    expect(check.ok).toBe(true);
  });

  it("lets the order's store, its market's dispatchers and admins read it", async () => {
    for (const token of [
      await stack.tokens.store("s-1"),
      await stack.tokens.dispatcher("km"),
      await stack.tokens.admin(),
    ]) {
      const res = await get(`/v1/orders/${ORDER}/certificate`, token);
      expect(res.status, res.text).toBe(200);
      expect(res.headers.get(VERIFIED_HEADER)).toBe("true");
    }
  });

  it("refuses everyone else, with the reason", async () => {
    const path = `/v1/orders/${ORDER}/certificate`;
    const anonymous = await get(path);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe("missing_token");

    const otherShopper = await get(path, await stack.tokens.shopper("o-someone-else"));
    expect(otherShopper.status).toBe(403);
    expect(otherShopper.body.error.message).toContain("another order");

    const courier = await get(path, await stack.tokens.courier(DRIVER));
    expect(courier.status).toBe(403);
    expect(courier.body.error.code).toBe("forbidden");

    const otherStore = await get(path, await stack.tokens.store("s-other"));
    expect(otherStore.status).toBe(403);
    expect(otherStore.body.error.message).toContain("not one of your store's orders");

    const otherMarket = await get(path, await stack.tokens.dispatcher("sh"));
    expect(otherMarket.status).toBe(403);
    expect(otherMarket.body.error.message).toContain("not in your market");

    const badId = await get(`/v1/orders/not%20an%20id/certificate`, await stack.tokens.admin());
    expect(badId.status).toBe(400);
  });

  it("says 404 for an unknown order, one not delivered yet, and one with no cold chain", async () => {
    const admin = await stack.tokens.admin();
    const unknown = await get(`/v1/orders/o-nobody/certificate`, admin);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("unknown_order");

    await stack.assignedOrder({
      orderId: "o-cc-open",
      courierId: DRIVER,
      temperatureClass: "chilled",
    });
    const open = await get(`/v1/orders/o-cc-open/certificate`, admin);
    expect(open.status).toBe(404);
    expect(open.body.error.code).toBe("certificate_not_found");
    expect(open.body.error.message).toContain("issued after delivery");

    // Delivered, but the projector has not issued it yet: ask again shortly.
    const row = (await findCertificate(stack.db, ORDER))!;
    await stack.db.execute(sql`DELETE FROM certificates WHERE order_id = ${ORDER}`);
    try {
      const pending = await get(`/v1/orders/${ORDER}/certificate`, admin);
      expect(pending.status).toBe(404);
      expect(pending.body.error.code).toBe("certificate_not_found");
      expect(pending.headers.get("retry-after")).toBe("3");
    } finally {
      await insertCertificate(stack.db, row);
    }

    await stack.assignedOrder({ orderId: "o-cc-ambient", courierId: DRIVER });
    const ambient = await get(`/v1/orders/o-cc-ambient/certificate`, admin);
    expect(ambient.status).toBe(404);
    expect(ambient.body.error.code).toBe("not_certified");
  }, 30_000);

  it("fails verification once a reading is edited in the database, and names it", async () => {
    const shopper = await stack.tokens.shopper(ORDER);
    const before = await get(`/v1/orders/${ORDER}/certificate`, shopper);
    expect(before.headers.get(VERIFIED_HEADER)).toBe("true");
    const edited = sent.at(-2)!;

    await stack.db.execute(
      sql`UPDATE temperature_readings SET celsius = celsius + 5 WHERE stream_seq = ${edited.seq}`,
    );
    try {
      const after = await get(`/v1/orders/${ORDER}/certificate`, shopper);
      expect(after.status).toBe(200);
      expect(after.headers.get(VERIFIED_HEADER)).toBe("false");
      const servedReading = after.body.readings.find((r: Body) => r.seq === edited.seq);
      expect(servedReading.celsius).toBeCloseTo(edited.celsius + 5, 9);
      // The stored hash is kept: the chain points at the edited reading.
      expect(servedReading.hash).toBe(
        before.body.readings.find((r: Body) => r.seq === edited.seq).hash,
      );
      const check = await verifyCertificate(after.body, { trustedKeys: trustedKeys() });
      expect(check.ok).toBe(false);
      expect(check.problems.join("\n")).toContain(`seq ${edited.seq}`);
      expect(Number(after.headers.get(PROBLEMS_HEADER))).toBe(check.problems.length);

      const page = await get(`/v1/orders/${ORDER}/certificate.html?token=${shopper}`);
      expect(page.status).toBe(200);
      expect(page.text).toContain("核验未通过");
      expect(page.text).toContain("1 条记录自签发后被修改");
    } finally {
      await stack.db.execute(
        sql`UPDATE temperature_readings SET celsius = ${edited.celsius} WHERE stream_seq = ${edited.seq}`,
      );
    }
    const restored = await get(`/v1/orders/${ORDER}/certificate`, shopper);
    expect(restored.headers.get(VERIFIED_HEADER)).toBe("true");
  });

  it("fails verification once a reading is deleted", async () => {
    const gone = sent.at(-3)!;
    expect((await readingsBySequence(stack.db, [{ seq: gone.seq }])).size).toBe(1);
    await stack.db.execute(sql`DELETE FROM temperature_readings WHERE stream_seq = ${gone.seq}`);
    const res = await get(`/v1/orders/${ORDER}/certificate`, await stack.tokens.admin());
    expect(res.headers.get(VERIFIED_HEADER)).toBe("false");
    expect(res.body.readings.some((r: Body) => r.seq === gone.seq)).toBe(false);
    expect((await verifyCertificate(res.body, { trustedKeys: trustedKeys() })).ok).toBe(false);
    await stack.db.execute(
      sql`INSERT INTO temperature_readings (vehicle_id, compartment_id, read_at, celsius, door_open, stream_seq) VALUES (${VAN}, ${COMPARTMENT}, ${new Date(gone.at)}, ${gone.celsius}, false, ${gone.seq})`,
    );
    const back = await get(`/v1/orders/${ORDER}/certificate`, await stack.tokens.admin());
    expect(back.headers.get(VERIFIED_HEADER)).toBe("true");
  });
});

describe("GET /v1/orders/:orderId/certificate.html", () => {
  it("renders the printable page with the verification status, token in the query", async () => {
    const shopper = await stack.tokens.shopper(ORDER);
    const zh = await get(`/v1/orders/${ORDER}/certificate.html?token=${shopper}`);
    expect(zh.status, zh.text).toBe(200);
    expect(zh.headers.get("content-type")).toContain("text/html");
    expect(zh.headers.get("referrer-policy")).toBe("no-referrer");
    expect(zh.headers.get(VERIFIED_HEADER)).toBe("true");
    expect(zh.text).toContain('<html lang="zh-CN">');
    expect(zh.text).toContain('id="verification-status" class="live-check ok"');
    expect(zh.text).toContain("核验通过");
    expect(zh.text).toContain(ORDER);

    const en = await get(`/v1/orders/${ORDER}/certificate.html?lang=en`, shopper);
    expect(en.status).toBe(200);
    expect(en.text).toContain('<html lang="en">');
    expect(en.text).toContain("Verified: the signature is valid");

    const fr = await get(`/v1/orders/${ORDER}/certificate.html?lang=fr`, shopper);
    expect(fr.status).toBe(400);
    expect(fr.body.error.code).toBe("invalid_param");

    expect((await get(`/v1/orders/${ORDER}/certificate.html`)).status).toBe(401);
    const forged = await get(
      `/v1/orders/${ORDER}/certificate.html?token=eyJhbGciOiJIUzI1NiJ9.e30.x`,
    );
    expect(forged.status).toBe(401);
  });
});

describe(`GET ${CERTIFICATE_KEYS_PATH}`, () => {
  it("publishes the signing keys to anyone", async () => {
    const res = await get(CERTIFICATE_KEYS_PATH);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(publicJwks(stack.signer));
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
  });
});

describe("GET /v1/vehicles/:vehicleId/readings", () => {
  it("gives a dispatcher of the van's market its compartments' readings and range", async () => {
    const res = await get(`/v1/vehicles/${VAN}/readings`, await stack.tokens.dispatcher("km"));
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ vehicleId: VAN, marketId: "km", driverId: DRIVER });
    expect(res.body.to - res.body.from).toBe(2 * 3_600_000);
    const [chill] = res.body.compartments;
    expect(chill).toMatchObject({
      id: COMPARTMENT,
      class: "chilled",
      minC: 0,
      maxC: 4,
      inExcursion: false,
      truncated: false,
      excursions: [],
    });
    expect(chill.readings.map((r: Body) => r.celsius)).toEqual(sent.map((r) => r.celsius));
    expect(chill.readings[0]).toEqual({
      at: sent[0]!.at,
      celsius: sent[0]!.celsius,
      doorOpen: false,
    });
  });

  it("takes a window as ISO times or epoch ms, up to 48 h", async () => {
    const admin = await stack.tokens.admin();
    const first = sent[0]!.at;
    const iso = new Date(first).toISOString();
    const one = await get(
      `/v1/vehicles/${VAN}/readings?compartment=${COMPARTMENT}&from=${encodeURIComponent(iso)}&to=${first}`,
      admin,
    );
    expect(one.status, one.text).toBe(200);
    expect(one.body.compartments[0].readings).toHaveLength(1);
    const shanghai = await get(
      `/v1/vehicles/${VAN}/readings?from=${encodeURIComponent("2025-01-01T08:00:00+08:00")}&to=${encodeURIComponent("2025-01-01T09:00:00+08:00")}`,
      admin,
    );
    expect(shanghai.status, shanghai.text).toBe(200);
    expect(shanghai.body.from).toBe(Date.parse("2025-01-01T00:00:00Z"));
    expect(shanghai.body.compartments[0].readings).toEqual([]);

    const wide = await get(
      `/v1/vehicles/${VAN}/readings?from=${first - 49 * 3_600_000}&to=${first}`,
      admin,
    );
    expect(wide.status).toBe(400);
    expect(wide.body.error.code).toBe("window_too_large");
    const backwards = await get(
      `/v1/vehicles/${VAN}/readings?from=${first}&to=${first - 1}`,
      admin,
    );
    expect(backwards.status).toBe(400);
    expect(backwards.body.error.code).toBe("invalid_window");
    const garbage = await get(`/v1/vehicles/${VAN}/readings?from=yesterday`, admin);
    expect(garbage.status).toBe(400);
    expect(garbage.body.error.code).toBe("invalid_param");
    const noZone = await get(`/v1/vehicles/${VAN}/readings?from=2025-01-01T08:00:00`, admin);
    expect(noZone.status).toBe(400);
  });

  it("refuses couriers, shoppers and other markets' dispatchers; 404 for unknown vans", async () => {
    const path = `/v1/vehicles/${VAN}/readings`;
    expect((await get(path)).status).toBe(401);
    expect((await get(path, await stack.tokens.courier(DRIVER))).status).toBe(403);
    expect((await get(path, await stack.tokens.shopper(ORDER))).status).toBe(403);
    const other = await get(path, await stack.tokens.dispatcher("sh"));
    expect(other.status).toBe(403);
    expect(other.body.error.message).toContain("not in your market");
    const unknown = await get(`/v1/vehicles/van-nowhere/readings`, await stack.tokens.admin());
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("unknown_vehicle");
    const compartment = await get(`${path}?compartment=frozen9`, await stack.tokens.admin());
    expect(compartment.status).toBe(404);
    expect(compartment.body.error.code).toBe("unknown_compartment");
  });

  it("shows an excursion the van raised", async () => {
    await reading(9.5);
    const excursion = await waitFor(
      "the excursion in the history",
      async () => {
        const res = await get(`/v1/vehicles/${VAN}/readings`, await stack.tokens.dispatcher("km"));
        const [chill] = res.body.compartments;
        return chill.excursions.length === 1 && chill;
      },
      10_000,
    );
    expect(excursion.inExcursion).toBe(true);
    expect(excursion.excursions[0]).toMatchObject({
      kind: "temperature",
      endedAt: null,
      peakC: 9.5,
      startedAt: sent.at(-1)!.at,
    });
    await reading(2.5);
  });
});

describe("a gateway without the cold-chain history", () => {
  it("answers 503 on the cold-chain routes", async () => {
    const secret = "another-test-secret-0123456789-abcdefgh";
    const gateway = createGateway({
      nc: stack.nc,
      topology: stack.topology,
      actors: stack.actors,
      auth: { secret },
      log: pino({ level: "silent" }),
    });
    try {
      const admin = await signToken(
        { sub: "admin", role: "admin", exp: Math.floor(Date.now() / 1000) + 60 },
        secret,
      );
      const headers = { authorization: `Bearer ${admin}` };
      const keys = await gateway.app.request(CERTIFICATE_KEYS_PATH);
      expect(keys.status).toBe(503);
      const cert = await gateway.app.request(`/v1/orders/${ORDER}/certificate`, { headers });
      expect(cert.status).toBe(503);
      expect(((await cert.json()) as Body).error.code).toBe("unavailable");
      const readings = await gateway.app.request(`/v1/vehicles/${VAN}/readings`, { headers });
      expect(readings.status).toBe(503);
    } finally {
      await gateway.close();
    }
  });
});
