/**
 * The shopper's tracking token is a JWT whose `ord` claim names the one order it may see. The
 * client reads the payload only to know which channel to subscribe; the gateway verifies it.
 */

export interface TrackingClaims {
  readonly ord: string;
  readonly sub: string | null;
  readonly role: string | null;
  /** Seconds since the epoch, when present. */
  readonly exp: number | null;
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** base64url → bytes, without atob/Buffer (absent in some mini-program engines). */
export function base64UrlToBytes(text: string): Uint8Array | null {
  const clean = text.replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  const out: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const ch of clean) {
    const value = ALPHABET.indexOf(ch);
    if (value < 0) return null;
    buffer = (buffer << 6) | value;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push((buffer >> bits) & 0xff);
    }
  }
  return Uint8Array.from(out);
}

/** UTF-8 bytes → string, without TextDecoder (absent in older mini-program base libraries). */
export function utf8Decode(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length;) {
    const b0 = bytes[i++]!;
    let code: number;
    if (b0 < 0x80) code = b0;
    else if (b0 < 0xe0) code = ((b0 & 0x1f) << 6) | (bytes[i++]! & 0x3f);
    else if (b0 < 0xf0)
      code = ((b0 & 0x0f) << 12) | ((bytes[i++]! & 0x3f) << 6) | (bytes[i++]! & 0x3f);
    else
      code =
        ((b0 & 0x07) << 18) |
        ((bytes[i++]! & 0x3f) << 12) |
        ((bytes[i++]! & 0x3f) << 6) |
        (bytes[i++]! & 0x3f);
    out += String.fromCodePoint(code);
  }
  return out;
}

/** The claims of a tracking token, or null when it is not a JWT with an `ord` claim. */
export function decodeTrackingToken(token: string): TrackingClaims | null {
  const parts = token.split(".");
  if (parts.length !== 3 || !parts[1]) return null;
  const bytes = base64UrlToBytes(parts[1]);
  if (!bytes) return null;
  let payload: unknown;
  try {
    payload = JSON.parse(utf8Decode(bytes));
  } catch {
    return null;
  }
  if (typeof payload !== "object" || payload === null) return null;
  const claims = payload as Record<string, unknown>;
  if (typeof claims.ord !== "string" || !/^[A-Za-z0-9_-]{1,64}$/.test(claims.ord)) return null;
  return {
    ord: claims.ord,
    sub: typeof claims.sub === "string" ? claims.sub : null,
    role: typeof claims.role === "string" ? claims.role : null,
    exp: typeof claims.exp === "number" ? claims.exp : null,
  };
}

/** True when the token says it has expired (a hint: the gateway has the last word). */
export function isTokenExpired(claims: TrackingClaims, nowMs: number): boolean {
  return claims.exp !== null && claims.exp * 1000 <= nowMs;
}
