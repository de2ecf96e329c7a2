/**
 * For `npm start` on a fresh machine: use the NATS at NATS_URL when it answers, else start a
 * nats-server from PATH with JetStream and its store under DATA_DIR.
 */
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { connect } from "@nats-io/transport-node";

export interface LocalNats {
  /** The URL to connect to. */
  readonly url: string;
  /** The process we started, or null when one was already running. */
  readonly child: ChildProcess | null;
  stop(): Promise<void>;
}

export class NatsServerMissingError extends Error {
  override readonly name = "NatsServerMissingError";
}

async function reachable(url: string): Promise<boolean> {
  try {
    const nc = await connect({ servers: url, timeout: 1000, reconnect: false });
    await nc.close();
    return true;
  } catch {
    return false;
  }
}

export async function ensureNats(url: string, dataDir: string): Promise<LocalNats> {
  if (await reachable(url)) return { url, child: null, stop: async () => {} };
  if (spawnSync("nats-server", ["--version"]).error) {
    throw new NatsServerMissingError(
      [
        `No NATS answers at ${url} and there is no nats-server on PATH.`,
        "Install it, then run npm start again:",
        "  Debian/Ubuntu:  sudo apt-get install nats-server",
        "  macOS:          brew install nats-server",
        "  other:          https://docs.nats.io/running-a-nats-service/introduction/installation",
        "or point NATS_URL at a running server with JetStream enabled.",
      ].join("\n"),
    );
  }
  const { hostname, port } = new URL(url.split(",")[0]!.replace(/^nats:/, "http:"));
  const storeDir = resolve(join(dataDir, "nats"));
  mkdirSync(storeDir, { recursive: true });
  const child = spawn(
    "nats-server",
    [
      "-a",
      hostname || "127.0.0.1",
      "-p",
      port || "4222",
      "-js",
      "-sd",
      storeDir,
      "-l",
      join(storeDir, "server.log"),
    ],
    { stdio: "ignore" },
  );
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null)
      throw new Error(`nats-server exited with ${child.exitCode}; see ${storeDir}/server.log`);
    if (await reachable(url)) {
      return {
        url,
        child,
        stop: () =>
          new Promise<void>((done) => {
            child.once("exit", () => done());
            child.kill("SIGTERM");
          }),
      };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill("SIGKILL");
  throw new Error(`nats-server did not start within 10 s; see ${storeDir}/server.log`);
}
