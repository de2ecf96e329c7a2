/**
 * The errors that leave the db module. Callers test with `instanceof`, never by message text.
 * "Not found" is never an error here: lookups return `null`.
 */

/** Base class of every error the db module throws. */
export class DbError extends Error {
  override readonly name: string = "DbError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The database could not be opened or reached (bad URL, server down, corrupt PGlite store). */
export class DatabaseConnectError extends DbError {
  override readonly name = "DatabaseConnectError";
}

/** Applying the migrations failed; `cause` holds the driver's error. */
export class MigrationError extends DbError {
  override readonly name = "MigrationError";
}

/** The handle was used after `close()`. */
export class DatabaseClosedError extends DbError {
  override readonly name = "DatabaseClosedError";
}

/** Base class of every error raised by the Redis helpers. */
export class RedisStoreError extends DbError {
  override readonly name: string = "RedisStoreError";
}

/** Redis could not be reached. */
export class RedisConnectError extends RedisStoreError {
  override readonly name = "RedisConnectError";
}

/**
 * A caller tried to complete or release an idempotency key it no longer holds: its claim
 * expired and another request may have claimed the key since.
 */
export class IdempotencyKeyNotHeldError extends RedisStoreError {
  override readonly name = "IdempotencyKeyNotHeldError";
  constructor(
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(
      `idempotency key ${key} is not held by this claim (it expired or was taken over)`,
      options,
    );
  }
}
