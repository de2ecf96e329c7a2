/**
 * Runs the planner in a worker thread so that live dispatch never waits on a plan. The instance's
 * typed arrays are copied to the worker (structured clone); the plan comes back the same way.
 */
import { Worker } from "node:worker_threads";
import type { PdptwInstance, PlanOptions, PlanResult } from "./types.ts";

/** Named error for a planner worker that failed or was stopped before it answered. */
export class PlannerWorkerError extends Error {
  override readonly name = "PlannerWorkerError";
}

export function planInWorker(
  instance: PdptwInstance,
  options: PlanOptions = {},
  signal?: AbortSignal,
): Promise<PlanResult> {
  const source = import.meta.url.endsWith(".ts");
  const entry = new URL(source ? "./worker.ts" : "./worker.js", import.meta.url);
  return new Promise<PlanResult>((resolve, reject) => {
    if (signal?.aborted) {
      reject(new PlannerWorkerError("planning aborted", { cause: signal.reason }));
      return;
    }
    // Under tsx the worker must load TypeScript too. Node 20 ignores `--import tsx` in a worker's
    // execArgv (nodejs/node#47747), so a tiny bootstrap loads the entry through tsx's API.
    const worker = source
      ? new Worker(
          `import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))}).then(({ tsImport }) => tsImport(${JSON.stringify(entry.href)}, ${JSON.stringify(import.meta.url)}));`,
          { eval: true, workerData: { instance, options } },
        )
      : new Worker(entry, { workerData: { instance, options } });
    let settled = false;
    const onAbort = () => {
      settled = true;
      void worker.terminate();
      reject(new PlannerWorkerError("planning aborted", { cause: signal?.reason }));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    worker.once("message", (result: PlanResult) => {
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      resolve(result);
      void worker.terminate();
    });
    worker.once("error", (error) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      reject(new PlannerWorkerError("planner worker failed", { cause: error }));
    });
    worker.once("exit", (code) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      reject(new PlannerWorkerError(`planner worker exited with code ${code} before answering`));
    });
  });
}
