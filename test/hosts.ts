/** Actor host processes for fault tests: real `bin/host.ts` processes we can SIGKILL. */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { NATS_URL } from "./nats-helpers.ts";

export interface HostProcess {
  readonly id: string;
  readonly child: ChildProcess;
  readonly metricsPort: number;
  /** Everything the process wrote, for diagnosing a failure. */
  output(): string;
  kill(signal: NodeJS.Signals): void;
  exited: Promise<number | null>;
}

export async function startHost(
  id: string,
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<HostProcess> {
  const child = spawn(
    process.execPath,
    ["--max-semi-space-size=32", "--import", "tsx", "bin/host.ts"],
    {
      env: {
        ...process.env,
        NATS_URL,
        HOST_ID: id,
        METRICS_PORT: "0",
        LOG_LEVEL: "info",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Never leave a half-started host behind: it would hold partitions for ever.
      child.kill("SIGKILL");
      reject(new Error(`host ${id} did not start:\n${out}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.length > 2_000_000) out = out.slice(-1_000_000);
      const match = /"metricsPort":(\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    void exited.then((code) => reject(new Error(`host ${id} exited with ${code}:\n${out}`)));
  });
  return {
    id,
    child,
    metricsPort: port,
    output: () => out,
    kill: (signal) => child.kill(signal),
    exited,
  };
}

/** Reads one counter or gauge (summed over labels) from a host's /metrics. */
export async function scrapeMetric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith(name) && (line[name.length] === " " || line[name.length] === "{")) {
      sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return sum;
}
