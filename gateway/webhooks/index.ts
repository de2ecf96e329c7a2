/**
 * Signed webhooks to the shops' back ends: every order status change, from the EVT stream through
 * a durable consumer, HMAC-signed, retried with back-off, in order per endpoint, given up into
 * dead letters. `verifyWebhookSignature` is what a shop's back end runs on each request.
 */
export { WebhookService } from "./service.ts";
export type { WebhookStats } from "./service.ts";
export {
  DEFAULT_TOLERANCE_S,
  ATTEMPT_HEADER,
  DELIVERY_HEADER,
  EVENT_HEADER,
  SIGNATURE_HEADER,
  signWebhook,
  verifyWebhookSignature,
} from "./signature.ts";
export { backoffMs, deliverWebhook, retryPolicy } from "./deliver.ts";
export type { DeliveryDeps, DeliveryResult } from "./deliver.ts";
export { deadLetterBucket, kvDeadLetters, memoryDeadLetters } from "./dead-letters.ts";
export { WEBHOOK_EVENTS, webhookPayload } from "./payload.ts";
export { parseWebhookEndpoints, WebhookEndpointsConfig } from "./config.ts";
export type {
  DeadLetter,
  RetryPolicy,
  WebhookDeadLetters,
  WebhookEndpoint,
  WebhookPayload,
  WebhookServiceOptions,
} from "./types.ts";
