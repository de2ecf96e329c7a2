/** The machine a benchmark ran on, and `bench/results.json` (rows merged by bench name). */
import { execFileSync } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";

export interface ResultRow {
  bench: string;
  figure: string;
  value: number;
  unit: string;
  target: number | null;
  better: "higher" | "lower";
  ceiling?: number;
  ratio?: number;
}

export function machine(): Record<string, string> {
  let nats = "unknown";
  try {
    nats = execFileSync("nats-server", ["--version"], { encoding: "utf8" }).trim();
  } catch {
    nats = "nats-server not on PATH";
  }
  return {
    cores: String(cpus().length),
    cpu: cpus()[0]?.model ?? "unknown",
    memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
    node: process.version,
    nats,
  };
}

const RESULTS = new URL("./results.json", import.meta.url);

export async function saveResults(bench: string, rows: ResultRow[]): Promise<void> {
  let existing: ResultRow[] = [];
  try {
    existing = JSON.parse(await readFile(RESULTS, "utf8")) as ResultRow[];
  } catch {
    existing = [];
  }
  const merged = [...existing.filter((r) => r.bench !== bench), ...rows];
  await writeFile(RESULTS, `${JSON.stringify(merged, null, 2)}\n`);
}

export function printTable(rows: ResultRow[]): void {
  const fmt = (v: number | null | undefined) =>
    v === null || v === undefined
      ? ""
      : Number.isInteger(v)
        ? String(v)
        : v.toFixed(v < 10 ? 2 : 0);
  const table = rows.map((r) => ({
    bench: r.bench,
    figure: r.figure,
    value: `${fmt(r.value)} ${r.unit}`,
    target: r.target === null ? "" : `${r.better === "higher" ? "≥" : "≤"} ${fmt(r.target)}`,
    ceiling: fmt(r.ceiling),
    ratio: r.ratio === undefined ? "" : `${(r.ratio * 100).toFixed(0)} %`,
    met:
      r.target === null
        ? ""
        : (r.better === "higher" ? r.value >= r.target : r.value <= r.target)
          ? "yes"
          : "NO",
  }));
  console.table(table);
}

/** p-th percentile from a Prometheus histogram's cumulative buckets, interpolated in a bucket. */
export function histogramQuantile(
  buckets: readonly { le: number; count: number }[],
  q: number,
): number {
  const total = buckets[buckets.length - 1]?.count ?? 0;
  if (total === 0) return Number.NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of buckets) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return prevLe;
      const inBucket = b.count - prevCount;
      return prevLe + (b.le - prevLe) * (inBucket === 0 ? 0 : (rank - prevCount) / inBucket);
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}
