// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { decodeClaims, sessionFromToken, tokenFromHash } from "./session.ts";

function token(claims: Record<string, unknown>): string {
  const encode = (value: unknown): string =>
    Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${encode({ alg: "HS256", typ: "JWT" })}.${encode(claims)}.signature`;
}

const NOW = 1_700_000_000_000;
const courier = { sub: "c1", role: "courier", mkt: "km", exp: NOW / 1000 + 3600 };

describe("session", () => {
  it("reads the token from the link's hash", () => {
    expect(tokenFromHash("#token=abc.def.ghi")).toBe("abc.def.ghi");
    expect(tokenFromHash("#lang=en&token=abc")).toBe("abc");
    expect(tokenFromHash("")).toBeNull();
    expect(tokenFromHash("#token=")).toBeNull();
  });

  it("decodes the claims of a courier token", () => {
    expect(decodeClaims(token(courier))).toEqual(courier);
  });

  it("signs in a courier and says why other tokens cannot", () => {
    expect(sessionFromToken(` ${token(courier)}\n`, ["courier"], NOW)).toMatchObject({
      token: token(courier),
      claims: { sub: courier.sub, mkt: "km" },
    });
    expect(sessionFromToken("garbage", ["courier"], NOW)).toEqual({ problem: "malformed" });
    expect(sessionFromToken(token({ ...courier, role: "dispatcher" }), ["courier"], NOW)).toEqual({
      problem: "wrong_role",
    });
    expect(sessionFromToken(token({ ...courier, exp: NOW / 1000 - 1 }), ["courier"], NOW)).toEqual({
      problem: "expired",
    });
  });
});
