/** `npm start` as a newcomer runs it: it comes up, does work, and stops cleanly on Ctrl-C. */
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { destroyTopology, Topology } from "../nats/index.ts";
import { connectForTest, NATS_URL } from "./nats-helpers.ts";

describe("npm start", () => {
  it("runs the demo city live, prints the app links, and stops on SIGINT", async () => {
    const namespace = `start${Math.random().toString(36).slice(2, 8)}`;
    const child = spawn(process.execPath, ["--import", "tsx", "bin/start.ts"], {
      env: {
        ...process.env,
        NATS_URL,
        XIANDA_NAMESPACE: namespace,
        GATEWAY_PORT: "0",
        DATA_DIR: `/tmp/xianda-start-${namespace}`,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    try {
      const deadline = Date.now() + 30_000;
      while (!/fixes [1-9]/.test(out) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(out).toMatch(/using NATS at/);
      expect(out).toMatch(/dispatcher console +http:\/\/127\.0\.0\.1:\d+\/console#token=/);
      expect(out).toMatch(/shopper tracking +http:\/\/127\.0\.0\.1:\d+\/t\//);
      expect(out).toMatch(/partitions 32\/32 +fixes [1-9]/);
      child.kill("SIGINT");
      expect(await exited).toBe(0);
      expect(out).not.toMatch(/"level":50/);
    } finally {
      child.kill("SIGKILL");
      const nc = await connectForTest("start.test");
      await destroyTopology(nc, new Topology({ namespace, partitions: 32 }));
      await nc.close();
      rmSync(`/tmp/xianda-start-${namespace}`, { recursive: true, force: true });
    }
  }, 60_000);
});
