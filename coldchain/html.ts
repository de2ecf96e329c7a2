/**
 * The certificate as a printable page for the customer, the store and an inspector: one
 * self-contained HTML document (inline CSS and SVG, no scripts, fonts or images to fetch), so it
 * prints and archives the same anywhere, also offline.
 *
 * The page shows; it proves nothing. It says so, and tells how to verify the JSON document it
 * was made from. Times are Asia/Shanghai wall-clock time whatever the viewer's zone, as the
 * people who read it speak of that clock.
 */
import { toShanghaiIso } from "./certificate.ts";
import type {
  Certificate,
  CertificateCompartmentClass,
  CertificateTemperatureClass,
  ClippedExcursion,
  ExcursionKind,
  TemperatureRange,
} from "./certificate.ts";

export type CertificateLocale = "zh-CN" | "en";

export type RenderCertificateOptions = {
  /** Default `zh-CN`. */
  locale?: CertificateLocale;
};

type Labels = {
  title: string;
  order: string;
  temperatureClass: Record<CertificateTemperatureClass, string>;
  vehicle: string;
  compartment: string;
  compartmentClass: Record<CertificateCompartmentClass, string>;
  range: string;
  unmonitored: string;
  handedOff: string;
  delivered: string;
  timeZone: string;
  verdictOk: string;
  verdictExcursion: string;
  summary: string;
  duration: string;
  coverage: string;
  aboveRange: string;
  belowRange: string;
  doorOpen: string;
  minMaxMean: string;
  readingCount: string;
  excursions: string;
  none: string;
  excursionKind: Record<ExcursionKind, string>;
  kind: string;
  from: string;
  to: string;
  peak: string;
  lasted: string;
  ongoing: string;
  beforeHandoffExcursion: string;
  chart: string;
  chartLabel: string;
  noReadings: string;
  readings: string;
  index: string;
  time: string;
  temperature: string;
  door: string;
  doorStates: [closed: string, open: string];
  hashPrefix: string;
  beforeHandoff: string;
  outOfRange: string;
  verification: string;
  finalHash: string;
  keyId: string;
  issued: string;
  howToVerify: string;
  notProof: string;
  duration_units: [hours: string, minutes: string, seconds: string];
};

const LABELS: Record<CertificateLocale, Labels> = {
  "zh-CN": {
    title: "冷链温度证书",
    order: "订单",
    temperatureClass: { chilled: "冷藏", frozen: "冷冻" },
    vehicle: "车辆",
    compartment: "车厢",
    compartmentClass: { frozen: "冷冻", chilled: "冷藏", custom: "自定义", ambient: "常温" },
    range: "温度范围",
    unmonitored: "不监控",
    handedOff: "装车交接",
    delivered: "送达",
    timeZone: "北京时间",
    verdictOk: "合格",
    verdictExcursion: "有温度异常",
    summary: "概要",
    duration: "运输时长",
    coverage: "读数覆盖",
    aboveRange: "高于范围",
    belowRange: "低于范围",
    doorOpen: "开门时间",
    minMaxMean: "最低 / 最高 / 平均",
    readingCount: "读数条数",
    excursions: "温度异常",
    none: "无",
    excursionKind: { temperature: "温度超出范围", sensor_silent: "传感器无信号" },
    kind: "类型",
    from: "开始",
    to: "结束",
    peak: "峰值",
    lasted: "持续",
    ongoing: "送达时仍在持续",
    beforeHandoffExcursion: "交接前已开始",
    chart: "温度曲线",
    chartLabel: "温度随时间变化曲线，阴影为允许范围，红色区域为温度异常",
    noReadings: "无读数",
    readings: "读数明细",
    index: "序号",
    time: "时间",
    temperature: "温度",
    door: "车门",
    doorStates: ["关", "开"],
    hashPrefix: "哈希（前 12 位）",
    beforeHandoff: "交接前最后一条",
    outOfRange: "超出范围",
    verification: "核验",
    finalHash: "读数链末哈希",
    keyId: "签名密钥 ID",
    issued: "签发时间",
    howToVerify:
      "核验方法：取得本证书的 JSON 文件，在 xianda 代码库中运行 npm run verify-certificate -- <文件>（可加 --key <jwks.json> 核对签发方公钥）。",
    notProof: "本页仅供阅读与打印；以带签名的 JSON 文件为准，任何改动都会使核验失败。",
    duration_units: ["小时", "分", "秒"],
  },
  en: {
    title: "Cold-chain certificate",
    order: "Order",
    temperatureClass: { chilled: "chilled", frozen: "frozen" },
    vehicle: "Vehicle",
    compartment: "Compartment",
    compartmentClass: {
      frozen: "frozen",
      chilled: "chilled",
      custom: "custom",
      ambient: "ambient",
    },
    range: "Range",
    unmonitored: "not monitored",
    handedOff: "Handed off",
    delivered: "Delivered",
    timeZone: "Beijing time (UTC+8)",
    verdictOk: "Compliant",
    verdictExcursion: "Temperature excursion",
    summary: "Summary",
    duration: "In transit",
    coverage: "Covered by readings",
    aboveRange: "Above range",
    belowRange: "Below range",
    doorOpen: "Door open",
    minMaxMean: "Min / max / mean",
    readingCount: "Readings",
    excursions: "Excursions",
    none: "none",
    excursionKind: { temperature: "out of range", sensor_silent: "sensor silent" },
    kind: "Kind",
    from: "From",
    to: "To",
    peak: "Peak",
    lasted: "Lasted",
    ongoing: "still going at delivery",
    beforeHandoffExcursion: "began before hand-off",
    chart: "Temperature",
    chartLabel:
      "Temperature over time; the shaded band is the allowed range, red areas are excursions",
    noReadings: "no readings",
    readings: "Readings",
    index: "#",
    time: "Time",
    temperature: "Temperature",
    door: "Door",
    doorStates: ["closed", "open"],
    hashPrefix: "Hash (first 12)",
    beforeHandoff: "last before hand-off",
    outOfRange: "out of range",
    verification: "Verification",
    finalHash: "Final hash of the reading chain",
    keyId: "Signing key id",
    issued: "Issued",
    howToVerify:
      "To verify: take this certificate's JSON file and run npm run verify-certificate -- <file> in the xianda repository (add --key <jwks.json> to check the issuer's key).",
    notProof:
      "This page is for reading and printing; the signed JSON file is the certificate, and any change to it makes verification fail.",
    duration_units: ["h", "min", "s"],
  },
};

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Every value that reaches the page goes through this, attributes included. */
function esc(value: string | number): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** `2025-01-01 09:00:00` in Asia/Shanghai. */
function localTime(epochMs: number): string {
  const iso = toShanghaiIso(epochMs);
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

function celsius(value: number | null): string {
  return value === null ? "–" : `${value} °C`;
}

function rangeText(range: TemperatureRange, t: Labels): string {
  if (range.minC !== null && range.maxC !== null) return `${range.minC} – ${range.maxC} °C`;
  if (range.maxC !== null) return `≤ ${range.maxC} °C`;
  if (range.minC !== null) return `≥ ${range.minC} °C`;
  return t.unmonitored;
}

function durationText(ms: number, t: Labels): string {
  const total = Math.round(ms / 1000);
  const [h, m, s] = [Math.floor(total / 3600), Math.floor((total % 3600) / 60), total % 60];
  const [hu, mu, su] = t.duration_units;
  const parts = [h > 0 ? `${h} ${hu}` : "", h > 0 || m > 0 ? `${m} ${mu}` : "", `${s} ${su}`];
  return parts.filter((p) => p !== "").join(" ");
}

function outOfRange(value: number, range: TemperatureRange): boolean {
  return (range.maxC !== null && value > range.maxC) || (range.minC !== null && value < range.minC);
}

export function renderCertificateHtml(
  cert: Certificate,
  options: RenderCertificateOptions = {},
): string {
  const locale = options.locale ?? "zh-CN";
  const t = LABELS[locale];
  const { summary, window, compartment } = cert;
  const verdictOk = summary.verdict === "ok";
  const coveragePct =
    summary.durationMs > 0 ? Math.round((summary.coveredMs / summary.durationMs) * 1000) / 10 : 100;

  const facts: [string, string][] = [
    [t.order, `${esc(cert.order.id)} · ${esc(t.temperatureClass[cert.order.temperatureClass])}`],
    [t.vehicle, esc(cert.vehicle.id)],
    [
      t.compartment,
      `${esc(compartment.id)} · ${esc(t.compartmentClass[compartment.class])} · ${t.range} ${esc(rangeText(compartment.range, t))}`,
    ],
    [t.handedOff, `${esc(localTime(window.handedOffAt))} <small>${esc(t.timeZone)}</small>`],
    [t.delivered, `${esc(localTime(window.deliveredAt))} <small>${esc(t.timeZone)}</small>`],
  ];

  const summaryRows: [string, string][] = [
    [t.duration, esc(durationText(summary.durationMs, t))],
    [t.coverage, `${esc(durationText(summary.coveredMs, t))} (${esc(coveragePct)}%)`],
    [t.aboveRange, esc(durationText(summary.aboveRangeMs, t))],
    [t.belowRange, esc(durationText(summary.belowRangeMs, t))],
    [t.doorOpen, esc(durationText(summary.doorOpenMs, t))],
    [
      t.minMaxMean,
      esc(`${celsius(summary.minC)} / ${celsius(summary.maxC)} / ${celsius(summary.meanC)}`),
    ],
    [t.readingCount, esc(summary.readingCount)],
    [t.excursions, summary.excursions.length === 0 ? esc(t.none) : esc(summary.excursions.length)],
  ];

  return `<!doctype html>
<html lang="${esc(locale)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(t.title)} · ${esc(cert.order.id)}</title>
<style>${STYLE}</style>
</head>
<body>
<main class="sheet">
<header>
  <div>
    <h1>${esc(t.title)}</h1>
    <p class="sub">${esc(t.order)} ${esc(cert.order.id)}</p>
  </div>
  <span class="badge ${verdictOk ? "ok" : "bad"}">${esc(verdictOk ? t.verdictOk : t.verdictExcursion)}</span>
</header>
<dl class="facts">
${facts.map(([k, v]) => `  <dt>${esc(k)}</dt><dd>${v}</dd>`).join("\n")}
</dl>
<section>
<h2>${esc(t.summary)}</h2>
<table class="summary"><tbody>
${summaryRows.map(([k, v]) => `  <tr><th scope="row">${esc(k)}</th><td>${v}</td></tr>`).join("\n")}
</tbody></table>
${summary.excursions.length > 0 ? excursionTable(summary.excursions, t) : ""}
</section>
<section>
<h2>${esc(t.chart)}</h2>
${chart(cert, t)}
</section>
<section>
<h2>${esc(t.readings)}</h2>
${readingsTable(cert, t)}
</section>
<section class="verify">
<h2>${esc(t.verification)}</h2>
<dl class="facts">
  <dt>${esc(t.finalHash)}</dt><dd><code>${esc(cert.chain.finalHash)}</code></dd>
  <dt>${esc(t.keyId)}</dt><dd><code>${esc(cert.signature.kid)}</code></dd>
  <dt>${esc(t.issued)}</dt><dd>${esc(localTime(cert.issuedAt))} <small>${esc(t.timeZone)}</small></dd>
</dl>
<p>${esc(t.howToVerify)}</p>
<p class="note">${esc(t.notProof)}</p>
</section>
</main>
</body>
</html>
`;
}

function excursionTable(excursions: readonly ClippedExcursion[], t: Labels): string {
  const rows = excursions.map((e) => {
    const notes = [
      e.startedBeforeHandoff ? t.beforeHandoffExcursion : "",
      e.ongoingAtDelivery ? t.ongoing : "",
    ].filter((n) => n !== "");
    return `  <tr><td>${esc(t.excursionKind[e.kind])}</td><td>${esc(localTime(e.startedAt))}</td><td>${esc(localTime(e.endedAt))}${notes.length > 0 ? ` <small>(${esc(notes.join(", "))})</small>` : ""}</td><td>${esc(durationText(e.durationMs, t))}</td><td>${esc(celsius(e.peakC))}</td></tr>`;
  });
  return `<table class="grid excursions">
<thead><tr><th>${esc(t.kind)}</th><th>${esc(t.from)}</th><th>${esc(t.to)}</th><th>${esc(t.lasted)}</th><th>${esc(t.peak)}</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody></table>`;
}

function readingsTable(cert: Certificate, t: Labels): string {
  if (cert.readings.length === 0) return `<p>${esc(t.noReadings)}</p>`;
  const range = cert.compartment.range;
  const rows = cert.readings.map((r, i) => {
    const out = outOfRange(r.celsius, range);
    const before = r.at < cert.window.handedOffAt;
    const notes = [before ? t.beforeHandoff : "", out ? t.outOfRange : ""].filter((n) => n !== "");
    return `  <tr${out ? ' class="out"' : ""}><td>${i + 1}</td><td>${esc(localTime(r.at))}${notes.length > 0 ? ` <small>(${esc(notes.join(", "))})</small>` : ""}</td><td class="num">${esc(r.celsius)}</td><td>${esc(t.doorStates[r.doorOpen ? 1 : 0])}</td><td><code>${esc(r.hash.slice(0, 12))}</code></td></tr>`;
  });
  return `<table class="grid readings">
<thead><tr><th>${esc(t.index)}</th><th>${esc(t.time)}</th><th>${esc(t.temperature)} (°C)</th><th>${esc(t.door)}</th><th>${esc(t.hashPrefix)}</th></tr></thead>
<tbody>
${rows.join("\n")}
</tbody></table>`;
}

// ---------------------------------------------------------------------------------------------
// The chart: a step line, as the summary reads readings (a value holds until the next one).

const W = 760;
const H = 260;
const PAD = { left: 52, right: 14, top: 12, bottom: 30 };

/** A step of 1, 2 or 5 × 10ⁿ giving at most `maxTicks` ticks over `span`. */
function niceStep(span: number, maxTicks: number): number {
  const raw = span / maxTicks;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

const TIME_STEPS_MIN = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440];
const SHANGHAI_OFFSET_MS = 8 * 3_600_000;

function chart(cert: Certificate, t: Labels): string {
  const { handedOffAt: start, deliveredAt: end } = cert.window;
  const range = cert.compartment.range;
  // The readings that describe the window, as in the summary: the one held at hand-off and
  // those inside.
  const shown = cert.readings.filter((r, i) => {
    const holdsUntil = Math.min(cert.readings[i + 1]?.at ?? end, end);
    return (r.at >= start && r.at <= end) || holdsUntil > Math.max(r.at, start);
  });
  // A loop, not Math.min(...values): a day of readings would overflow the argument list.
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of [...shown.map((r) => r.celsius), range.minC, range.maxC]) {
    if (v === null) continue;
    lo = Math.min(lo, v - 1);
    hi = Math.max(hi, v + 1);
  }
  if (lo > hi) [lo, hi] = [-1, 1];
  const step = niceStep(hi - lo, 6);
  const yMin = Math.floor(lo / step) * step;
  const yMax = Math.ceil(hi / step) * step;
  const span = Math.max(1, end - start);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const x = (ms: number) =>
    PAD.left + ((Math.min(Math.max(ms, start), end) - start) / span) * plotW;
  const y = (c: number) => PAD.top + ((yMax - c) / (yMax - yMin)) * plotH;
  const f = (n: number) => n.toFixed(1);
  const parts: string[] = [];

  // Allowed range.
  if (range.minC !== null || range.maxC !== null) {
    const top = y(Math.min(range.maxC ?? yMax, yMax));
    const bottom = y(Math.max(range.minC ?? yMin, yMin));
    parts.push(
      `<rect class="band" x="${f(PAD.left)}" y="${f(top)}" width="${f(plotW)}" height="${f(Math.max(0, bottom - top))}"/>`,
    );
  }
  // Excursions.
  for (const e of cert.summary.excursions) {
    parts.push(
      `<rect class="exc" x="${f(x(e.startedAt))}" y="${f(PAD.top)}" width="${f(Math.max(1, x(e.endedAt) - x(e.startedAt)))}" height="${f(plotH)}"><title>${esc(t.excursionKind[e.kind])} ${esc(localTime(e.startedAt))} – ${esc(localTime(e.endedAt))}</title></rect>`,
    );
  }
  // Y grid and labels.
  for (let v = yMin; v <= yMax + step / 2; v += step) {
    const value = Math.round(v * 1000) / 1000 + 0;
    parts.push(
      `<line class="grid" x1="${f(PAD.left)}" x2="${f(W - PAD.right)}" y1="${f(y(value))}" y2="${f(y(value))}"/>`,
      `<text class="tick" x="${f(PAD.left - 6)}" y="${f(y(value) + 4)}" text-anchor="end">${esc(value)}</text>`,
    );
  }
  // X ticks at round local times.
  const stepMin = TIME_STEPS_MIN.find((m) => span / (m * 60_000) <= 7) ?? TIME_STEPS_MIN.at(-1)!;
  const stepMs = stepMin * 60_000;
  const firstTick = Math.ceil((start + SHANGHAI_OFFSET_MS) / stepMs) * stepMs - SHANGHAI_OFFSET_MS;
  for (let tick = firstTick; tick <= end; tick += stepMs) {
    parts.push(
      `<line class="grid" x1="${f(x(tick))}" x2="${f(x(tick))}" y1="${f(PAD.top)}" y2="${f(PAD.top + plotH)}"/>`,
      `<text class="tick" x="${f(x(tick))}" y="${f(H - 10)}" text-anchor="middle">${esc(localTime(tick).slice(11, 16))}</text>`,
    );
  }
  // The step line and the readings.
  if (shown.length === 0) {
    parts.push(
      `<text class="empty" x="${f(PAD.left + plotW / 2)}" y="${f(PAD.top + plotH / 2)}" text-anchor="middle">${esc(t.noReadings)}</text>`,
    );
  } else {
    let d = `M${f(x(shown[0]!.at))} ${f(y(shown[0]!.celsius))}`;
    for (const r of shown.slice(1)) d += ` H${f(x(r.at))} V${f(y(r.celsius))}`;
    d += ` H${f(x(end))}`;
    parts.push(`<path class="line" d="${d}"/>`);
    for (const r of shown) {
      if (r.at < start) continue;
      parts.push(
        `<circle class="${outOfRange(r.celsius, range) ? "pt out" : "pt"}" cx="${f(x(r.at))}" cy="${f(y(r.celsius))}" r="2.5"><title>${esc(localTime(r.at))} ${esc(r.celsius)} °C</title></circle>`,
      );
    }
  }
  parts.push(
    `<rect class="frame" x="${f(PAD.left)}" y="${f(PAD.top)}" width="${f(plotW)}" height="${f(plotH)}"/>`,
  );
  return `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(t.chartLabel)}" xmlns="http://www.w3.org/2000/svg">
${parts.join("\n")}
</svg>`;
}

const STYLE = `
:root { color-scheme: light; --ink: #1d2329; --muted: #5b6670; --line: #d5dbe0; --ok: #1a7f37; --bad: #c62828; }
* { box-sizing: border-box; }
body { margin: 0; background: #eef1f4; color: var(--ink);
  font: 14px/1.5 "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", system-ui, sans-serif; }
.sheet { max-width: 820px; margin: 24px auto; padding: 28px 32px; background: #fff; box-shadow: 0 1px 4px rgba(0,0,0,.12); }
header { display: flex; justify-content: space-between; align-items: flex-start; gap: 16px; border-bottom: 2px solid var(--ink); padding-bottom: 12px; }
h1 { margin: 0; font-size: 24px; letter-spacing: .04em; }
h2 { font-size: 16px; margin: 24px 0 8px; border-left: 4px solid var(--ink); padding-left: 8px; }
.sub { margin: 4px 0 0; color: var(--muted); }
.badge { display: inline-block; padding: 6px 16px; border: 2px solid; border-radius: 4px; font-size: 18px; font-weight: 700; max-width: 100%; white-space: normal; text-align: center; }
.badge.ok { color: var(--ok); border-color: var(--ok); background: #e8f5ec; }
.badge.bad { color: var(--bad); border-color: var(--bad); background: #fdecea; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 16px 0 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
small { color: var(--muted); }
table { border-collapse: collapse; width: 100%; }
table.summary th { text-align: left; font-weight: normal; color: var(--muted); width: 40%; }
table.summary th, table.summary td { padding: 3px 0; border-bottom: 1px solid var(--line); }
table.grid { margin-top: 8px; font-size: 13px; }
table.grid th, table.grid td { border: 1px solid var(--line); padding: 3px 6px; text-align: left; }
table.grid thead th { background: #f4f6f8; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.out td { color: var(--bad); background: #fdf3f2; }
code { font: 12px/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; overflow-wrap: anywhere; }
svg.chart { width: 100%; height: auto; display: block; }
svg .band { fill: #d8efe0; }
svg .exc { fill: rgba(198, 40, 40, .16); stroke: var(--bad); stroke-width: .5; }
svg .grid { stroke: #e3e7ea; stroke-width: 1; }
svg .frame { fill: none; stroke: #9aa5ae; }
svg .tick, svg .empty { font-size: 11px; fill: var(--muted); }
svg .line { fill: none; stroke: #1f5fa8; stroke-width: 1.6; }
svg .pt { fill: #1f5fa8; }
svg .pt.out { fill: var(--bad); }
.verify p { margin: 8px 0 0; }
.note { color: var(--muted); font-size: 12px; }
@page { size: A4; margin: 14mm; }
@media print {
  body { background: #fff; font-size: 12px; }
  .sheet { max-width: none; margin: 0; padding: 0; box-shadow: none; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  thead { display: table-header-group; }
  tr, svg.chart, .verify { break-inside: avoid; }
  h2 { break-after: avoid; }
}
`;
