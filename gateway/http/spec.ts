/**
 * What the OpenAPI document knows of a route. Each route module exports the specs of the routes
 * it registers, next to their handlers; `gateway/openapi` turns them into the document, and a
 * test checks that the app's routes and the document's are the same set.
 */
import type { z } from "zod";
import type { Role } from "../../protocol/index.ts";

/** HTTP error statuses a route may answer, described once for the document. */
export const ERROR_DESCRIPTIONS = {
  400: "bad input: `invalid_json`, `invalid_body` (with the zod issue's path and message), `invalid_param`, `invalid_idempotency_key`, `address_required` (a door drop-off's contact without an address), or a command the log refused (`invalid_command`, `too_large`)",
  401: "`missing_token`, `invalid_token` or `token_expired`",
  403: "wrong role or wrong actor: `forbidden`, or the actor's own refusal (`not_own_order`, `not_own_store`, `wrong_courier`, `not_assigned_courier`, `not_offered_courier`)",
  404: "no such order, store, courier or vehicle; or no certificate (`certificate_not_found`, `not_certified`)",
  408: "`body_timeout`: the body stalled (nothing came for the gateway's `bodyIdleMs`); the connection is closed",
  409: "wrong state: the actor refused the command; `code` is its refusal code (e.g. `invalid_transition`, `wrong_pickup_code`, `already_ready`), or `idempotency_conflict`",
  413: "`too_large`: the body is over the limit",
  415: "`unsupported_media_type`: not a JPEG, PNG or WebP image",
  503: "`unavailable`: the actor could not be asked, or photo proofs or the cold-chain history are not configured; `pii_not_configured` / `pii_key_unknown`: this gateway cannot encrypt or decrypt the shopper's contact",
  504: "`timeout`: the command is in the log and will be applied, but its outcome did not come in time; retry with the same Idempotency-Key",
} as const;
export type ErrorStatus = keyof typeof ERROR_DESCRIPTIONS;

export interface RouteSpec {
  readonly method: "get" | "post";
  /**
   * As registered in Hono (`/v1/stores/:storeId/orders`); path parameters are actor ids, and a
   * parameter may be followed by a literal suffix (`/v1/orders/:orderId/certificate.html`).
   */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tag: "stores" | "couriers" | "dispatch" | "tokens" | "tracking" | "cold-chain";
  /** Who may call it (a bearer token of one of these roles); null: anyone, no token. */
  readonly roles: readonly Role[] | null;
  /** Takes an `Idempotency-Key` header: a retry with the same key is applied once. */
  readonly idempotencyKey?: boolean;
  /** A JSON body. `optional`: an empty body means `{}`. */
  readonly body?: { readonly schema: z.ZodType; readonly optional?: boolean };
  /** A raw upload body instead of JSON (its size limit is the gateway's `maxPhotoBytes`). */
  readonly upload?: { readonly contentTypes: readonly string[] };
  readonly query?: z.ZodObject;
  readonly responses: Readonly<
    Record<
      number,
      {
        readonly description: string;
        readonly schema?: z.ZodType;
        /** Default `application/json`; another type (a printable page) has no schema. */
        readonly contentType?: string;
      }
    >
  >;
  readonly errors: readonly ErrorStatus[];
}

/** The path parameters of a Hono path, in order. */
export function pathParams(path: string): string[] {
  return [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
}

/** `/v1/orders/:id/track` → `/v1/orders/{id}/track`. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}
