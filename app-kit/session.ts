/**
 * The signed-in courier: a token handed over in the link (`/driver#token=…`) or pasted, kept in
 * localStorage. The claims are read (not verified: the gateway verifies) to show who is signed in
 * and to know which channel is one's own.
 */
import { TokenClaims } from "../protocol/index.ts";
import type { Role } from "../protocol/index.ts";

export interface Session {
  token: string;
  claims: TokenClaims;
}

/** The token in a location hash such as `#token=eyJ…` (other hash parameters are ignored). */
export function tokenFromHash(hash: string): string | null {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const token = params.get("token")?.trim();
  return token === undefined || token === "" ? null : token;
}

export function decodeClaims(token: string): TokenClaims | null {
  const payload = token.trim().split(".")[1];
  if (payload === undefined) return null;
  try {
    const base64 = payload.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
    const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
    const parsed = TokenClaims.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export type SessionProblem = "malformed" | "wrong_role" | "expired";

/** A session from a token, or why the token cannot be used here. */
export function sessionFromToken(
  token: string,
  roles: readonly Role[],
  nowMs: number,
): Session | { problem: SessionProblem } {
  const claims = decodeClaims(token);
  if (claims === null) return { problem: "malformed" };
  if (!roles.includes(claims.role)) return { problem: "wrong_role" };
  if (claims.exp * 1000 <= nowMs) return { problem: "expired" };
  return { token: token.trim(), claims };
}
