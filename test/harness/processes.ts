/**
 * xianda's own processes as children we can SIGKILL: gateways (`bin/gateway.ts`) and projectors
 * (`bin/projector.ts`); actor hosts are test/hosts.ts. Each is ready when its log says so.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";

export interface ServiceProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** The first capture group of the ready pattern (a port, say). */
  readonly ready: string;
  output(): string;
  kill(signal: NodeJS.Signals): void;
  readonly exited: Promise<number | null>;
}

export async function startService(
  name: string,
  script: string,
  env: Record<string, string>,
  ready: RegExp,
  timeoutMs = 30_000,
): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    env: { ...process.env, LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const captured = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${name} did not start:\n${out.slice(-4000)}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.length > 2_000_000) out = out.slice(-1_000_000);
      const match = ready.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] ?? "");
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}:\n${out.slice(-4000)}`));
    });
  });
  return {
    name,
    child,
    ready: captured,
    output: () => out,
    kill: (signal) => child.kill(signal),
    exited,
  };
}

/** A gateway process on a free port; `ready` is the port. */
export function startGateway(name: string, env: Record<string, string>) {
  return startService(name, "bin/gateway.ts", { GATEWAY_PORT: "0", ...env }, /"port":(\d+)/);
}

export function startProjector(name: string, env: Record<string, string>) {
  return startService(name, "bin/projector.ts", env, /"msg":"projector (running)"/);
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
export async function stopProcess(
  p: { child: ChildProcess; exited: Promise<number | null> },
  graceMs = 5000,
): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill("SIGTERM");
  const timer = setTimeout(() => p.child.kill("SIGKILL"), graceMs);
  await p.exited;
  clearTimeout(timer);
}
