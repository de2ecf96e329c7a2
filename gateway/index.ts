/**
 * The gateway: xianda's edge. Hono HTTP API and websockets on one server, JWT auth (HS256),
 * courier fixes in, live push frames out. See README.md ("Gateway") for the routes and frames.
 */
export { createGateway } from "./gateway.ts";
export { signToken, verifyToken, bearerToken } from "./auth.ts";
export type { TokenClaims, TokenOptions } from "./auth.ts";
export { createFallbackRateLimiter, createMemoryRateLimiter } from "./rate-limit.ts";
export type { MemoryRateLimiterOptions } from "./rate-limit.ts";
export { ApiError, AuthError } from "./errors.ts";
export { CloseCode } from "./live/connection.ts";
export { gatewayLimits } from "./options.ts";
export { createFileProofStore, sniffImage } from "./http/proof-store.ts";
export type { ImageType, ProofStore, StoredProof } from "./http/proof-store.ts";
export {
  WebhookService,
  kvDeadLetters,
  memoryDeadLetters,
  deadLetterBucket,
  parseWebhookEndpoints,
  signWebhook,
  verifyWebhookSignature,
} from "./webhooks/index.ts";
export type {
  DeadLetter,
  RetryPolicy,
  WebhookDeadLetters,
  WebhookEndpoint,
  WebhookPayload,
  WebhookServiceOptions,
  WebhookStats,
} from "./webhooks/index.ts";
export type {
  Gateway,
  GatewayLimits,
  GatewayOptions,
  GatewayRateLimiter,
  GatewayStats,
  StaticApp,
  StaticAsset,
} from "./types.ts";
