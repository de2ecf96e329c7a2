/** Private nats-server processes for tests that restart or kill the server itself. */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createConnection } from "node:net";
import { connect } from "@nats-io/transport-node";

export interface PrivateNats {
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  /** SIGTERM and wait; the store stays for a restart. */
  stop(): Promise<void>;
  kill(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and deletes its store. */
  destroy(): Promise<void>;
}

export interface PrivateNatsOptions {
  /** Also listen for MQTT here (nats-server's MQTT listener needs a server name and JetStream). */
  readonly mqttPort?: number;
  /**
   * A whole config file (the production one, with accounts) instead of flags: it must listen on
   * `port` and name its own store directory (nats-server refuses `-sd` beside `store_dir`).
   * Readiness is then the server's INFO on the port, since an anonymous client may be refused.
   */
  readonly configFile?: string;
}

export async function startPrivateNats(
  port: number,
  options: PrivateNatsOptions = {},
): Promise<PrivateNats> {
  const storeDir = mkdtempSync(join(tmpdir(), "xianda-nats-"));
  const args =
    options.configFile !== undefined
      ? ["-c", options.configFile]
      : ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", storeDir];
  if (options.configFile === undefined && options.mqttPort !== undefined) {
    // MQTT can only be configured in a file; flags still set the rest.
    const file = join(storeDir, "mqtt.conf");
    writeFileSync(
      file,
      `server_name: xianda-test-${port}\nmqtt { listen: 127.0.0.1:${options.mqttPort} }\n`,
    );
    args.push("-c", file);
  }
  let child: ChildProcess | null = null;
  const url = `nats://127.0.0.1:${port}`;
  const exit = (signal: NodeJS.Signals) =>
    new Promise<void>((resolve) => {
      if (!child || child.exitCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill(signal);
    });
  const server: PrivateNats = {
    url,
    port,
    storeDir,
    async start() {
      child = spawn("nats-server", args, { stdio: "ignore" });
      for (let i = 0; i < 100; i++) {
        try {
          if (options.configFile !== undefined) {
            await serverInfo(port);
          } else {
            const nc = await connect({ servers: url, reconnect: false, timeout: 500 });
            await nc.close();
          }
          return;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      throw new Error(`nats-server on ${port} did not start`);
    },
    stop: () => exit("SIGTERM"),
    kill: () => exit("SIGKILL"),
    async destroy() {
      await exit("SIGKILL");
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

/** Resolves once a server on `port` greets with its INFO line (no authentication needed). */
function serverInfo(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    const timer = setTimeout(() => socket.destroy(new Error("no INFO")), 500);
    socket.once("data", (chunk) => {
      clearTimeout(timer);
      socket.destroy();
      if (chunk.toString().startsWith("INFO")) resolve();
      else reject(new Error("not a nats-server"));
    });
    socket.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
