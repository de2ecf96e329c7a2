import { describe, expect, it } from "vitest";
import { parseWebhookEndpoints } from "./config.ts";

describe("webhook endpoints configuration", () => {
  it("reads store id → url and secret", () => {
    const endpoints = parseWebhookEndpoints(
      JSON.stringify({ "s-1": { url: "https://shop.example/xianda", secret: "0123456789abcdef" } }),
    );
    expect(endpoints.get("s-1")).toEqual({
      url: "https://shop.example/xianda",
      secret: "0123456789abcdef",
    });
  });

  it("refuses a short secret, a non-http URL or a bad store id, naming the entry", () => {
    const bad = (v: unknown) => () => parseWebhookEndpoints(JSON.stringify(v));
    expect(bad({ "s-1": { url: "https://a.example", secret: "short" } })).toThrow(/s-1\.secret/);
    expect(bad({ "s-1": { url: "ftp://a.example", secret: "0123456789abcdef" } })).toThrow(
      /s-1\.url/,
    );
    expect(bad({ "s 1": { url: "https://a.example", secret: "0123456789abcdef" } })).toThrow(
      /webhook endpoints/,
    );
  });
});
