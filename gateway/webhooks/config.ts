/**
 * The webhook configuration: which store's events go where. A store's profile (the store actor)
 * has no webhook field yet, so the endpoints come from a file the entry point reads
 * (`WEBHOOKS_FILE`): `{"<storeId>": {"url": "https://…", "secret": "…"}, …}`.
 */
import { z } from "zod";
import { ActorId } from "../../protocol/index.ts";
import type { WebhookEndpoint } from "./types.ts";

export const WebhookEndpointsConfig = z.record(
  ActorId,
  z.strictObject({
    url: z.url({ protocol: /^https?$/ }),
    secret: z.string().min(16, "a webhook secret needs at least 16 characters"),
  }),
);

/** Store id → endpoint, from the configuration's JSON text; throws with the bad entry's path. */
export function parseWebhookEndpoints(json: string): Map<string, WebhookEndpoint> {
  const parsed = WebhookEndpointsConfig.safeParse(JSON.parse(json));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TypeError(`webhook endpoints: ${issue?.path.join(".")}: ${issue?.message}`);
  }
  return new Map(Object.entries(parsed.data));
}
