import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.ts";

describe("configuration from the environment", () => {
  it("has working defaults for a laptop", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      NATS_URL: "nats://127.0.0.1:4222",
      XIANDA_PARTITIONS: 32,
      LEASE_TTL_MS: 3000,
      LEASE_RENEW_MS: 1000,
      DATA_DIR: "./.data",
    });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.HOST_ID).toMatch(/-\d+$/);
  });

  it("reads numbers and refuses nonsense with the variable's name", () => {
    expect(loadConfig({ XIANDA_PARTITIONS: "64" }).XIANDA_PARTITIONS).toBe(64);
    expect(() => loadConfig({ XIANDA_PARTITIONS: "zero" })).toThrow(ConfigError);
    expect(() => loadConfig({ LEASE_TTL_MS: "10" })).toThrow(/LEASE_TTL_MS/);
    expect(() => loadConfig({ XIANDA_NAMESPACE: "Bad.NS" })).toThrow(/XIANDA_NAMESPACE/);
  });
});
