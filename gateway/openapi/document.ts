/**
 * The OpenAPI 3.1 document of the `/v1` API, built from the routes' specs and their zod schemas
 * (zod 4's `toJSONSchema`, JSON Schema 2020-12, which OpenAPI 3.1 uses as is).
 */
import { z } from "zod";
import { ErrorBody } from "../../protocol/http.ts";
import { ERROR_DESCRIPTIONS, openApiPath, pathParams } from "../http/spec.ts";
import type { RouteSpec } from "../http/spec.ts";

export interface OpenApiOptions {
  readonly title?: string;
  readonly version?: string;
  /** Largest JSON body, bytes. */
  readonly maxBodyBytes: number;
  /** Largest photo upload, bytes. */
  readonly maxPhotoBytes: number;
}

type JsonObject = Record<string, unknown>;

/** A zod schema as JSON Schema 2020-12, for a request (`input`) or a response (`output`). */
export function jsonSchema(schema: z.ZodType, io: "input" | "output"): JsonObject {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, {
    target: "draft-2020-12",
    io,
    unrepresentable: "any",
  }) as JsonObject;
  return rest;
}

const ACTOR_ID = { type: "string", pattern: "^[A-Za-z0-9_-]{1,64}$" };

function operation(route: RouteSpec, options: OpenApiOptions): JsonObject {
  const parameters: JsonObject[] = pathParams(route.path).map((name) => ({
    name,
    in: "path",
    required: true,
    schema: ACTOR_ID,
  }));
  if (route.query) {
    for (const [name, schema] of Object.entries(route.query.shape)) {
      parameters.push({
        name,
        in: "query",
        required: !(schema as z.ZodType).safeParse(undefined).success,
        schema: jsonSchema(schema as z.ZodType, "input"),
      });
    }
  }
  if (route.idempotencyKey) {
    parameters.push({
      name: "Idempotency-Key",
      in: "header",
      required: false,
      description:
        "Names this request: a retry with the same key (same caller, action and target) is applied once and gets the first outcome.",
      schema: { type: "string", pattern: "^[A-Za-z0-9_.:-]{1,80}$" },
    });
  }
  const responses: JsonObject = {};
  for (const [status, response] of Object.entries(route.responses)) {
    const contentType = response.contentType ?? "application/json";
    responses[status] = {
      description: response.description,
      content: {
        [contentType]: {
          schema: response.schema
            ? jsonSchema(response.schema, "output")
            : contentType === "application/json"
              ? { type: "object" }
              : { type: "string" },
        },
      },
    };
  }
  for (const status of route.errors) {
    responses[String(status)] = {
      description: ERROR_DESCRIPTIONS[status],
      content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
    };
  }
  const who =
    route.roles === null ? "Anyone." : `Roles: ${route.roles.map((r) => `\`${r}\``).join(", ")}.`;
  const op: JsonObject = {
    operationId: route.operationId,
    summary: route.summary,
    description: route.description ? `${who}\n\n${route.description}` : who,
    tags: [route.tag],
    ...(parameters.length > 0 ? { parameters } : {}),
    responses,
    security: route.roles === null ? [] : [{ bearer: [] }],
    "x-roles": route.roles ?? [],
  };
  if (route.body) {
    op.requestBody = {
      required: !route.body.optional,
      description: `JSON, at most ${options.maxBodyBytes} bytes.${route.body.optional ? " May be empty." : ""}`,
      content: { "application/json": { schema: jsonSchema(route.body.schema, "input") } },
    };
  } else if (route.upload) {
    op.requestBody = {
      required: true,
      description: `The image itself, at most ${options.maxPhotoBytes} bytes.`,
      content: Object.fromEntries(
        route.upload.contentTypes.map((t) => [
          t,
          { schema: { type: "string", contentMediaType: t } },
        ]),
      ),
    };
  }
  return op;
}

export function openApiDocument(routes: readonly RouteSpec[], options: OpenApiOptions): JsonObject {
  const paths: Record<string, JsonObject> = {};
  for (const route of routes) {
    const path = openApiPath(route.path);
    const item = (paths[path] ??= {});
    if (item[route.method]) throw new Error(`two specs for ${route.method} ${route.path}`);
    item[route.method] = operation(route, options);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: options.title ?? "xianda API",
      version: options.version ?? "1",
      description: [
        "鲜达 xianda: real-time dispatch. Stores place and hand off orders, couriers answer offers and deliver, dispatchers override.",
        "",
        'Authenticate with `Authorization: Bearer <token>` (JWT, HS256; `POST /v1/tokens` mints them). Errors are `{"error":{"code","message"}}`: 400 bad input, 401 no or bad token, 403 wrong role or actor, 404 unknown, 409 wrong state (an actor\'s refusal code), 504 not confirmed in time.',
        "",
        "Commands that another actor applies next answer 202: the order's webhooks and live frames tell when it is done.",
      ].join("\n"),
    },
    tags: [
      { name: "stores", description: "a shop's back end and the store's staff" },
      { name: "couriers", description: "the driver app, each courier for itself" },
      { name: "dispatch", description: "dispatchers' overrides, audited" },
      { name: "tracking", description: "shoppers' tracking links and snapshots" },
      { name: "tokens", description: "access tokens" },
      {
        name: "cold-chain",
        description:
          "cold-chain certificates (signed, checked against the stored readings on every read; public keys at `/.well-known/xianda-certificate-keys.json`) and vans' temperature charts",
      },
    ],
    paths,
    components: {
      schemas: { Error: jsonSchema(ErrorBody, "output") },
      securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
    },
  };
}
