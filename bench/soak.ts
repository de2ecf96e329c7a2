/**
 * `npm run bench -- soak`: the simulated city at 20× for 10 minutes on a deployment of real
 * processes (test/harness/city-run.ts: its own nats-server, Postgres and Redis; two actor hosts,
 * two gateways, a projector), with the reliability issue's invariants checked over the history
 * every minute while it runs and at rest after it drains. Reports orders/s sustained (placed and
 * delivered, wall clock), p99 latencies (the city's HTTP calls, placed → first offer, a probe
 * command's send → applied) and the invariant violations (none allowed).
 *
 * Knobs: SOAK_MINUTES (10), SOAK_SPEEDUP (20), SOAK_COURIERS (40), SOAK_START (10:30, before
 * the lunch peak). Not part of `npm run bench` (all): that one has ten minutes in total.
 */
import { describeViolations } from "../test/harness/audit.ts";
import { CityRun, summarize } from "../test/harness/city-run.ts";
import type { ResultRow } from "./report.ts";

const num = (name: string, def: number) => {
  const v = Number(process.env[name] ?? def);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
  return v;
};

export async function benchSoak(): Promise<ResultRow[]> {
  const minutes = num("SOAK_MINUTES", 10);
  const speedup = num("SOAK_SPEEDUP", 20);
  const couriers = Math.round(num("SOAK_COURIERS", 40));
  const start = process.env.SOAK_START ?? "10:30";
  console.log(
    `soak: ${minutes} min at ${speedup}× from ${start}, ${couriers} couriers, 2 hosts, 2 gateways, projector`,
  );
  const run = await CityRun.start({
    name: "soak",
    ports: { nats: 17422, postgres: 17432, redis: 17379 },
    speedup,
    start,
    couriers,
    hosts: 2,
    gateways: 2,
    partitions: 16,
    log: (line) => console.log(`  ${line}`),
  });
  const rows: ResultRow[] = [];
  try {
    const t0 = Date.now();
    const end = t0 + minutes * 60_000;
    let checks = 0;
    let violations = 0;
    while (Date.now() < end) {
      await new Promise((r) => setTimeout(r, Math.min(60_000, end - Date.now())));
      // The history rules while the city runs (the end-state ones need it at rest).
      const report = await run.audit({ quiesced: false, settleMs: 0 });
      checks++;
      violations += report.violations.length;
      console.log(
        `  check ${checks} at ${Math.round((Date.now() - t0) / 1000)} s: ${report.figures.events} events, ` +
          `${report.violations.length} violations${report.violations.length ? `\n${describeViolations(report.violations)}` : ""}`,
      );
    }
    const wallS = (Date.now() - t0) / 1000;
    const placed = run.placed.length;
    const delivered = run.delivered.length;
    console.log(`  draining (up to 90 s) …`);
    await run.drain(90_000);
    await run.probes.stop();
    const probeChecks = await run.probes.check();
    const badProbes = probeChecks.filter((c) => !c.ok);
    const report = await run.audit({ quiesced: true, settleMs: 20_000 });
    const events = await run.events();
    const orders = CityRun.orderLatencies(events);
    const http = summarize(run.http);
    const probe = summarize(run.probes.latency);
    const worst = run.probes.worstGap(t0, Date.now());
    console.log(
      `  probes: longest gap ${worst.gapMs} ms on partition ${worst.partition}, ` +
        `${Math.round((worst.from - t0) / 1000)} s into the run`,
    );
    console.log(
      `  at rest: ${report.figures.delivered}/${report.figures.placed} delivered, ${report.figures.inFlight} in flight; ` +
        `${report.figures.readingsStored}/${report.figures.readingsAccepted} readings stored; ` +
        `${report.figures.certified}/${report.figures.coldDelivered} certificates; ${report.figures.republished} events republished`,
    );
    if (report.violations.length) console.log(describeViolations(report.violations));
    for (const p of badProbes) console.log(`  probe ${p.probe}: ${p.detail}`);
    const row = (
      figure: string,
      value: number,
      unit: string,
      target: number | null = null,
      better: "higher" | "lower" = "lower",
    ): ResultRow => ({ bench: "soak", figure, value, unit, target, better });
    rows.push(
      row("simulated time", (wallS * speedup) / 3600, "h"),
      row("orders placed per second (wall)", placed / wallS, "orders/s", null, "higher"),
      row("orders delivered per second (wall)", delivered / wallS, "orders/s", null, "higher"),
      row("orders placed", placed, "orders", null, "higher"),
      row("HTTP request p99 (city → gateway)", http.p99, "ms"),
      row("HTTP requests", http.count, "requests", null, "higher"),
      row("placed → first offer p99", orders.toOffer.p99, "ms"),
      row("probe command send → applied p99", probe.p99, "ms"),
      row("probe longest gap, any partition", worst.gapMs, "ms", 5000),
      row("readings accepted", report.figures.readingsAccepted, "readings", null, "higher"),
      row(
        "readings accepted, not in Postgres",
        report.figures.readingsAccepted - report.figures.readingsStored,
        "readings",
        0,
      ),
      row("invariant violations while running", violations, "violations", 0),
      row("invariant violations at rest", report.violations.length, "violations", 0),
      row("probe commands not applied once", badProbes.length, "probes", 0),
    );
    return rows;
  } finally {
    await run.stop();
  }
}
