/**
 * Private Postgres and Redis servers for runs that stop their services on purpose (the fault
 * suite stops Postgres and Redis for 30 s; the machine's own must stay up for everyone else).
 * Each lives in a temporary directory on its own port and is removed by `destroy`.
 */
import { execFileSync, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createConnection } from "node:net";

export interface PrivateService {
  readonly url: string;
  readonly port: number;
  /** Stops the server (its data stays). */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it and deletes its data. */
  destroy(): Promise<void>;
}

/** Resolves once something accepts TCP connections on the port. */
export async function waitForPort(port: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host: "127.0.0.1", port });
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function postgresBin(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).sort() : [];
  const v = versions.at(-1);
  if (v === undefined)
    throw new Error("no PostgreSQL under /usr/lib/postgresql (apt-get install postgresql)");
  return join(root, v, "bin");
}

/**
 * A Postgres cluster of its own (initdb, trust auth on loopback), as the `postgres` user when
 * run as root (the server refuses to run as root).
 */
export async function startPrivatePostgres(port: number): Promise<PrivateService> {
  const bin = postgresBin();
  const dir = mkdtempSync(join(tmpdir(), "xianda-pg-"));
  const data = join(dir, "data");
  const asRoot = process.getuid?.() === 0;
  if (asRoot) chownSync(dir, uid("postgres"), gid("postgres"));
  const run = (cmd: string, args: string[]) =>
    asRoot
      ? execFileSync("runuser", ["-u", "postgres", "--", join(bin, cmd), ...args], {
          stdio: "pipe",
        })
      : execFileSync(join(bin, cmd), args, { stdio: "pipe" });
  run("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
  const ctl = (action: "start" | "stop") =>
    run("pg_ctl", [
      "-D",
      data,
      "-w",
      "-t",
      "30",
      ...(action === "start"
        ? [
            "-l",
            join(dir, "log"),
            "-o",
            `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`,
          ]
        : ["-m", "fast"]),
      action,
    ]);
  const service: PrivateService = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async start() {
      ctl("start");
      await waitForPort(port);
    },
    async stop() {
      ctl("stop");
    },
    async destroy() {
      try {
        ctl("stop");
      } catch {
        // not running
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await service.start();
  return service;
}

function uid(user: string): number {
  return Number(execFileSync("id", ["-u", user]).toString().trim());
}
function gid(user: string): number {
  return Number(execFileSync("id", ["-g", user]).toString().trim());
}

/** A Redis server of its own: in memory, no persistence. */
export async function startPrivateRedis(port: number): Promise<PrivateService> {
  let child: ChildProcess | null = null;
  const exited = () => child === null || child.exitCode !== null || child.signalCode !== null;
  const service: PrivateService = {
    url: `redis://127.0.0.1:${port}`,
    port,
    async start() {
      child = spawn(
        "redis-server",
        ["--bind", "127.0.0.1", "--port", String(port), "--save", "", "--appendonly", "no"],
        { stdio: "ignore" },
      );
      await waitForPort(port);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited()) return resolve();
        child!.once("exit", () => resolve());
        child!.kill("SIGTERM");
      }),
    destroy: () => service.stop(),
  };
  await service.start();
  return service;
}
