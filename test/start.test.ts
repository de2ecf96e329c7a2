/** `npm start` as a newcomer runs it: it comes up, does work, and stops cleanly on Ctrl-C. */
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { destroyTopology, Topology } from "../nats/index.ts";
import { connectForTest, NATS_URL } from "./nats-helpers.ts";

describe("npm start", () => {
  it("runs the platform with a live summary and stops on SIGINT", async () => {
    const namespace = `start${Math.random().toString(36).slice(2, 8)}`;
    const child = spawn(process.execPath, ["--import", "tsx", "bin/start.ts"], {
      env: { ...process.env, NATS_URL, XIANDA_NAMESPACE: namespace, METRICS_PORT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    try {
      const deadline = Date.now() + 30_000;
      while (!/applied [1-9]\d* \(/.test(out) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(out).toMatch(/using NATS at/);
      expect(out).toMatch(/partitions 32\/32 +applied [1-9]/);
      child.kill("SIGINT");
      expect(await exited).toBe(0);
      expect(out).not.toMatch(/"level":50/);
    } finally {
      child.kill("SIGKILL");
      const nc = await connectForTest("start.test");
      await destroyTopology(nc, new Topology({ namespace, partitions: 32 }));
      await nc.close();
    }
  }, 60_000);
});
