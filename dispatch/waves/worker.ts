/** Worker-thread entry: solves the instance in `workerData` and posts the result back. */
import { parentPort, workerData } from "node:worker_threads";
import { solve } from "./solver.ts";
import type { PdptwInstance, PlanOptions } from "./types.ts";

const { instance, options } = workerData as { instance: PdptwInstance; options: PlanOptions };
parentPort!.postMessage(solve(instance, options));
