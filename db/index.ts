/**
 * xianda's storage: the history database (PostgreSQL via postgres.js, or PGlite) filled by the
 * projector, and Redis for presence, rate limits and idempotency keys. Other modules import
 * only this file.
 */
export { openDatabase, migrate, queryRows } from "./client.ts";
export type { Database, DatabaseHandle, DriverName, Schema } from "./client.ts";
export { databaseOptions } from "./options.ts";
export type { DatabaseOptions, MigrateOptions, ResolvedDatabaseOptions } from "./options.ts";
export {
  DbError,
  DatabaseConnectError,
  DatabaseClosedError,
  MigrationError,
  RedisStoreError,
  RedisConnectError,
  IdempotencyKeyNotHeldError,
} from "./errors.ts";
export {
  appendAudit,
  findOrder,
  findOrderByShopOrderId,
  insertOrderEvents,
  insertTemperatureReadings,
  lastOrderEventSequence,
  lastReadingSequence,
  listAudit,
  listOrderEvents,
} from "./history.ts";
export type { AuditQuery } from "./history.ts";
export {
  insertOrders,
  latestOrderEvents,
  ordersToReencrypt,
  replaceOrderCiphertexts,
  setOrderStatus,
  setOrderTimes,
} from "./orders.ts";
export type { OrderCiphertexts } from "./orders.ts";
export {
  findCertificate,
  insertCertificate,
  lastReadingBefore,
  listExcursions,
  listReadings,
  readingKeyOf,
  readingsBySequence,
  upsertExcursion,
} from "./cold-chain.ts";
export type { ReadingsQuery } from "./cold-chain.ts";
export * as schema from "./schema/index.ts";
export type * from "./types.ts";
export * from "./redis/index.ts";
