// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { sessionFromToken, tokenFromHash } from "../../app-kit/session.ts";

function token(claims: Record<string, unknown>): string {
  const encode = (value: unknown): string =>
    Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${encode({ alg: "HS256", typ: "JWT" })}.${encode(claims)}.signature`;
}

const NOW = 1_700_000_000_000;
const dispatcher = { sub: "d1", role: "dispatcher", mkt: "km", exp: NOW / 1000 + 3600 };
const ROLES = ["dispatcher", "admin"] as const;

describe("console session", () => {
  it("reads the token from the link's hash", () => {
    expect(tokenFromHash("#token=abc.def.ghi")).toBe("abc.def.ghi");
  });

  it("signs in dispatchers and admins, not couriers", () => {
    expect(sessionFromToken(token(dispatcher), ROLES, NOW)).toMatchObject({
      claims: { sub: "d1", mkt: "km" },
    });
    expect(sessionFromToken(token({ ...dispatcher, role: "admin" }), ROLES, NOW)).toMatchObject({
      claims: { role: "admin" },
    });
    expect(sessionFromToken(token({ ...dispatcher, role: "courier" }), ROLES, NOW)).toEqual({
      problem: "wrong_role",
    });
  });
});
