import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * An HTTP error with a stable machine-readable `code`; the one `onError` renders it as
 * `{"error":{"code","message"}}`.
 */
export class ApiError extends HTTPException {
  readonly code: string;
  constructor(
    status: ContentfulStatusCode,
    code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(status, { message, cause: options?.cause });
    this.name = "ApiError";
    this.code = code;
  }
}

/** A token that cannot be used: missing, malformed, badly signed, expired or lacking claims. */
export class AuthError extends Error {
  /** `missing_token`, `invalid_token` or `token_expired`. */
  readonly code: "missing_token" | "invalid_token" | "token_expired";
  constructor(code: AuthError["code"], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "AuthError";
    this.code = code;
  }
}
