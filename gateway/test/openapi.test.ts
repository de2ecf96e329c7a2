/**
 * The OpenAPI document against the app it describes: the same routes both ways, and every
 * operation with its roles, bodies and error shape. Swagger UI is served from local files.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ActorClient } from "../../actors/index.ts";
import { openApiPath } from "../http/spec.ts";
import { createGateway } from "../index.ts";
import type { Gateway } from "../index.ts";
import { connectForTest, testTopology } from "../../test/nats-helpers.ts";

const SECRET = "test-secret-0123456789-abcdefghijklmnop";
let nc: NatsConnection;
let actors: ActorClient;
let gateway: Gateway;

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, Record<string, any>>>;
  components: { schemas: Record<string, unknown> };
};

beforeAll(async () => {
  nc = await connectForTest("openapi.test");
  // No topology is created: nothing here reaches an actor.
  const topology = testTopology();
  actors = new ActorClient({ nc, topology });
  gateway = createGateway({
    nc,
    topology,
    actors,
    auth: { secret: SECRET },
    log: pino({ level: "silent" }),
  });
});

afterAll(async () => {
  await gateway?.close();
  actors?.close();
  await nc?.close();
});

async function documentOf(): Promise<Doc> {
  const res = await gateway.app.request("/openapi.json");
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("application/json");
  return (await res.json()) as Doc;
}

describe("the OpenAPI document", () => {
  it("lists exactly the /v1 routes the app serves", async () => {
    const doc = await documentOf();
    expect(doc.openapi).toBe("3.1.0");
    const served = new Set(
      gateway.app.routes
        .filter((r) => r.method !== "ALL" && r.path.startsWith("/v1/"))
        .map((r) => `${r.method.toLowerCase()} ${openApiPath(r.path)}`),
    );
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, item]) =>
        Object.keys(item).map((method) => `${method} ${path}`),
      ),
    );
    expect([...served].filter((r) => !documented.has(r))).toEqual([]);
    expect([...documented].filter((r) => !served.has(r))).toEqual([]);
    // The routes of this issue are among them.
    for (const route of [
      "post /v1/stores/{storeId}/orders",
      "post /v1/stores/{storeId}/orders/{orderId}/hand-off",
      "post /v1/couriers/me/orders/{orderId}/deliver",
      "post /v1/couriers/me/orders/{orderId}/photo",
      "post /v1/markets/{marketId}/orders/{orderId}/reassign",
      "post /v1/markets/{marketId}/couriers/{courierId}/stops",
    ]) {
      expect(served.has(route), route).toBe(true);
    }
  });

  it("gives every operation its roles, parameters, body schema and error shape", async () => {
    const doc = await documentOf();
    const ids = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        expect(ids.has(op.operationId), op.operationId).toBe(false);
        ids.add(op.operationId);
        expect(op["x-roles"].length, `${method} ${path} roles`).toBeGreaterThan(0);
        expect(op.security).toEqual([{ bearer: [] }]);
        for (const name of [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1])) {
          expect(
            op.parameters.some((p: any) => p.in === "path" && p.name === name),
            `${path} ${name}`,
          ).toBe(true);
        }
        expect(op.responses["401"].content["application/json"].schema).toEqual({
          $ref: "#/components/schemas/Error",
        });
      }
    }
    const create = doc.paths["/v1/stores/{storeId}/orders"]!.post!;
    const body = create.requestBody.content["application/json"].schema;
    expect(body.required).toEqual(
      expect.arrayContaining(["shopOrderId", "temperatureClass", "items", "amounts", "dropoff"]),
    );
    expect(body.additionalProperties).toBe(false);
    expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(["201", "200", "409"]));
    const decline = doc.paths["/v1/couriers/me/offers/{orderId}/decline"]!.post!;
    expect(decline["x-roles"]).toEqual(["courier"]);
    expect(decline.requestBody.content["application/json"].schema.properties.reason.enum).toEqual([
      "too_far",
      "busy",
      "vehicle_unsuitable",
      "other",
    ]);
    expect(decline.parameters.some((p: any) => p.name === "Idempotency-Key")).toBe(true);
    const photo = doc.paths["/v1/couriers/me/orders/{orderId}/photo"]!.post!;
    expect(Object.keys(photo.requestBody.content)).toEqual([
      "image/jpeg",
      "image/png",
      "image/webp",
    ]);
    expect(doc.components.schemas.Error).toMatchObject({
      type: "object",
      required: ["error"],
    });
  });
});

describe("Swagger UI", () => {
  it("serves the page and its assets from swagger-ui-dist, pointing at /openapi.json", async () => {
    const page = await gateway.app.request("/docs");
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("/docs/swagger-ui-bundle.js");
    expect(html).not.toMatch(/https?:\/\//);
    const init = await (await gateway.app.request("/docs/init.js")).text();
    expect(init).toContain('url: "/openapi.json"');
    const bundle = await gateway.app.request("/docs/swagger-ui-bundle.js");
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get("content-type")).toContain("javascript");
    expect((await bundle.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    expect((await gateway.app.request("/docs/swagger-ui.css")).status).toBe(200);
    expect((await gateway.app.request("/docs/package.json")).status).toBe(404);
  });
});
