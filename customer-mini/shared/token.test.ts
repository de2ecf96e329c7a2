import { describe, expect, it } from "vitest";
import { decodeTrackingToken, isTokenExpired } from "./token.ts";

function jwt(payload: object): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${b64({ alg: "HS256", typ: "JWT" })}.${b64(payload)}.c2lnbmF0dXJl`;
}

describe("tracking token", () => {
  it("reads the order from the `ord` claim", () => {
    const claims = decodeTrackingToken(
      jwt({ sub: "用户-1", role: "shopper", ord: "o-42", exp: 1_900_000_000 }),
    );
    expect(claims).toEqual({ ord: "o-42", sub: "用户-1", role: "shopper", exp: 1_900_000_000 });
  });

  it("refuses what is not a tracking token", () => {
    expect(decodeTrackingToken("abc")).toBeNull();
    expect(decodeTrackingToken(jwt({ sub: "u", role: "courier" }))).toBeNull();
    expect(decodeTrackingToken(jwt({ ord: "bad id!" }))).toBeNull();
    expect(decodeTrackingToken("a.%%%.c")).toBeNull();
  });

  it("tells when the token says it has expired", () => {
    const claims = decodeTrackingToken(jwt({ ord: "o-1", exp: 1000 }))!;
    expect(isTokenExpired(claims, 999_000)).toBe(false);
    expect(isTokenExpired(claims, 1_000_000)).toBe(true);
  });
});
