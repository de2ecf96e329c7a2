/**
 * `npm start` as a newcomer runs it: it comes up, the simulated city places orders and its
 * couriers deliver them through the platform, and it stops cleanly on Ctrl-C.
 */
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { destroyTopology, Topology } from "../nats/index.ts";
import { connectForTest, NATS_URL } from "./nats-helpers.ts";

describe("npm start", () => {
  it("runs the simulated city live, delivers orders, prints the links, and stops on SIGINT", async () => {
    const namespace = `start${Math.random().toString(36).slice(2, 8)}`;
    const child = spawn(process.execPath, ["--import", "tsx", "bin/start.ts"], {
      env: {
        ...process.env,
        NATS_URL,
        XIANDA_NAMESPACE: namespace,
        GATEWAY_PORT: "0",
        METRICS_PORT: "0",
        DATA_DIR: `/tmp/xianda-start-${namespace}`,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    try {
      // The first orders go to doors a short ride from the couriers waiting at their stores.
      const deadline = Date.now() + 120_000;
      while (!/送达 delivered [1-9]/.test(out) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(out).toMatch(/using NATS at/);
      expect(out).toMatch(/昆明 Kunming/);
      expect(out).toMatch(/dispatcher console +http:\/\/127\.0\.0\.1:\d+\/console#token=/);
      expect(out).toMatch(/driver app \(c-you\) +http:\/\/127\.0\.0\.1:\d+\/driver#token=/);
      expect(out).toMatch(/shopper tracking +http:\/\/127\.0\.0\.1:\d+\/t\//);
      expect(out).toMatch(
        /24 家门店 stores · 16 个自提点 pickup points · 12 名骑手 couriers \(2 辆冷藏车 vans, loggers over NATS\)/,
      );
      // The summary line counts what the platform says on the market channel.
      const lines = out.split("\n").filter((l) => l.includes("下单 placed"));
      const last = lines.at(-1) ?? "";
      expect(last).toMatch(/下单 placed [1-9]\d* · 送达 delivered [1-9]/);
      expect(last).toMatch(/准时 on-time \d+% · 平均送达 click-to-door \d+\.\d 分钟 min/);
      expect(last).toMatch(/告警 alerts \d+ \(冷链 cold \d+, 调度 dispatch \d+\)/);
      expect(last).toMatch(
        /骑手 couriers 忙 busy \d+ \/ 闲 idle \d+ · 定位 fixes [1-9]\d* · 分区 partitions 32\/32/,
      );
      child.kill("SIGINT");
      expect(await exited).toBe(0);
      expect(out).toMatch(/stopping…/);
      expect(out).not.toMatch(/"level":50/);
    } finally {
      child.kill("SIGKILL");
      const nc = await connectForTest("start.test");
      await destroyTopology(nc, new Topology({ namespace, partitions: 32 }));
      await nc.close();
      rmSync(`/tmp/xianda-start-${namespace}`, { recursive: true, force: true });
    }
  }, 180_000);
});
