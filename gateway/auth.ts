/**
 * Access tokens: JWTs signed with HS256 by the gateway's secret, carrying `TokenClaims`
 * (protocol/live.ts). Each role needs its own claims: a courier and a dispatcher their market
 * (`mkt`), a shopper the one order it may see (`ord`).
 */
import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import { ActorId, TokenClaims } from "../protocol/index.ts";
import type { Role } from "../protocol/index.ts";
import { AuthError } from "./errors.ts";

export type { TokenClaims } from "../protocol/index.ts";

export interface TokenOptions {
  /** `iss` to set when signing, and to require when verifying. */
  issuer?: string;
  /** ms since the epoch, for `exp` checks. Default Date.now. */
  now?: number;
}

const encoder = new TextEncoder();
const keys = new Map<string, Uint8Array>();

function keyOf(secret: string): Uint8Array {
  let key = keys.get(secret);
  if (!key) {
    if (secret.length < 32) throw new TypeError("the token secret must be at least 32 characters");
    key = encoder.encode(secret);
    keys.set(secret, key);
  }
  return key;
}

/** The claims a role must carry, or a reason why these do not fit. */
export function claimsProblem(claims: {
  role: Role;
  sub: string;
  mkt?: string | undefined;
  ord?: string | undefined;
}): string | null {
  if ((claims.role === "courier" || claims.role === "dispatcher") && !claims.mkt) {
    return `a ${claims.role} token needs a market (mkt)`;
  }
  // A courier or store acts as the actor its `sub` names, so `sub` must be an actor id.
  if (
    (claims.role === "courier" || claims.role === "store") &&
    !ActorId.safeParse(claims.sub).success
  ) {
    return `a ${claims.role} token's sub is its ${claims.role} id: letters, digits, '_' or '-', 1-64 chars`;
  }
  if (claims.role === "shopper" && !claims.ord) return "a shopper token needs an order (ord)";
  if (claims.role !== "shopper" && claims.ord) return "only a shopper token names an order (ord)";
  return null;
}

/** Signs `claims` (`exp` in seconds since the epoch, as in every JWT). */
export async function signToken(
  claims: TokenClaims,
  secret: string,
  options: TokenOptions = {},
): Promise<string> {
  const parsed = TokenClaims.parse(claims);
  const problem = claimsProblem(parsed);
  if (problem) throw new TypeError(problem);
  const { sub, exp, ...rest } = parsed;
  let jwt = new SignJWT(rest)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(sub)
    .setIssuedAt(Math.floor((options.now ?? Date.now()) / 1000))
    .setExpirationTime(exp);
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  return jwt.sign(keyOf(secret));
}

/**
 * Checks the signature, the expiry and the claims.
 * @throws AuthError (`invalid_token`, `token_expired`).
 */
export async function verifyToken(
  token: string,
  secret: string,
  options: TokenOptions = {},
): Promise<TokenClaims> {
  let payload: unknown;
  try {
    const verified = await jwtVerify(token, keyOf(secret), {
      algorithms: ["HS256"],
      currentDate: new Date(options.now ?? Date.now()),
      requiredClaims: ["exp", "sub"],
      ...(options.issuer ? { issuer: options.issuer } : {}),
    });
    payload = verified.payload;
  } catch (cause) {
    if (cause instanceof joseErrors.JWTExpired) {
      throw new AuthError("token_expired", "the token has expired", { cause });
    }
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new AuthError("invalid_token", `the token is not valid: ${reason}`, { cause });
  }
  const claims = TokenClaims.safeParse(payload);
  if (!claims.success) {
    throw new AuthError(
      "invalid_token",
      `the token's claims are not valid: ${claims.error.issues[0]?.message ?? "?"}`,
    );
  }
  const problem = claimsProblem(claims.data);
  if (problem) throw new AuthError("invalid_token", problem);
  return claims.data;
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | undefined | null): string | null {
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1]! : null;
}
