/**
 * For `npm start` on a fresh machine: use the NATS at NATS_URL when it answers, else start a
 * nats-server from PATH with JetStream and its store under DATA_DIR.
 */
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { connect } from "@nats-io/transport-node";

export interface LocalNats {
  /** The URL to connect to. */
  readonly url: string;
  /** The process we started, or null when one was already running. */
  readonly child: ChildProcess | null;
  /** The MQTT port of the server we started (vans' loggers), or null when we did not start it. */
  readonly mqttPort: number | null;
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

/** `wanted`, or when it is taken (a mosquitto on 1883), the next free port after it. */
async function freePort(wanted: number, host: string): Promise<number> {
  for (let port = wanted; port < wanted + 20; port++) {
    const free = await new Promise<boolean>((done) => {
      const server = createServer();
      server.once("error", () => done(false));
      server.listen(port, host, () => server.close(() => done(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free MQTT port in ${wanted}-${wanted + 19}; set MQTT_PORT`);
}

export async function ensureNats(
  url: string,
  dataDir: string,
  mqttPort?: number,
): Promise<LocalNats> {
  if (await reachable(url)) return { url, child: null, mqttPort: null, stop: async () => {} };
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
  // MQTT needs a server name and can only be set in a file; the flags set the rest.
  const mqtt = mqttPort ?? (await freePort(1883, hostname || "127.0.0.1"));
  const configFile = join(storeDir, "xianda.conf");
  writeFileSync(
    configFile,
    `server_name: xianda-local\nmqtt { listen: "${hostname || "127.0.0.1"}:${mqtt}" }\n`,
  );
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
      "-c",
      configFile,
    ],
    // Its own process group: a terminal's Ctrl-C reaches `npm start`, which then drains its
    // connections and stops this server last, not both at once.
    { stdio: "ignore", detached: true },
  );
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null)
      throw new Error(`nats-server exited with ${child.exitCode}; see ${storeDir}/server.log`);
    if (await reachable(url)) {
      return {
        url,
        child,
        mqttPort: mqtt,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
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
