import { generateKeyPairSync } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { buildCertificate, loadSigner, renderCertificateHtml } from "./index.ts";
import type { Certificate, CertificateInput } from "./index.ts";

const T0 = Date.UTC(2025, 0, 1, 1, 0, 0); // 2025-01-01 09:00:00 in Shanghai
const MIN = 60_000;

function input(overrides: Partial<CertificateInput> = {}): CertificateInput {
  return {
    orderId: "O-42",
    temperatureClass: "frozen",
    vehicleId: "V-7",
    compartmentId: "F1",
    compartmentClass: "frozen",
    range: { minC: null, maxC: -18 },
    handedOffAt: T0,
    deliveredAt: T0 + 30 * MIN,
    readings: [
      { seq: 1, at: T0 - 10_000, celsius: -20.5, doorOpen: false },
      { seq: 2, at: T0 + 5 * MIN, celsius: -19, doorOpen: true },
      { seq: 3, at: T0 + 10 * MIN, celsius: -16.25, doorOpen: false },
      { seq: 4, at: T0 + 20 * MIN, celsius: -21, doorOpen: false },
    ],
    excursions: [],
    ...overrides,
  };
}

let ok: Certificate;
let excursion: Certificate;
beforeAll(async () => {
  const pem = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" });
  const signer = await loadSigner({ pem: pem.toString() });
  ok = await buildCertificate(input(), signer, { issuedAt: T0 + 31 * MIN });
  excursion = await buildCertificate(
    input({
      excursions: [{ kind: "temperature", startedAt: T0 + 12 * MIN, endedAt: null, peakC: -16.25 }],
    }),
    signer,
    { issuedAt: T0 + 31 * MIN },
  );
});

describe("renderCertificateHtml", () => {
  it("renders a complete page in Simplified Chinese by default, times in Shanghai", () => {
    const html = renderCertificateHtml(ok);
    expect(html).toMatch(/^<!doctype html>\n<html lang="zh-CN">/);
    expect(html).toContain("<title>冷链温度证书 · O-42</title>");
    expect(html).toContain('<span class="badge ok">合格</span>');
    expect(html).toContain("F1 · 冷冻 · 温度范围 ≤ -18 °C");
    expect(html).toContain("2025-01-01 09:00:00 <small>北京时间</small>");
    expect(html).toContain("2025-01-01 09:30:00 <small>北京时间</small>");
    expect(html).toContain("npm run verify-certificate -- &lt;文件&gt;");
    expect(html).toContain(ok.chain.finalHash);
    expect(html).toContain(ok.signature.kid);
    expect(html.trimEnd()).toMatch(/<\/html>$/);
  });

  it("renders in English as the second locale", () => {
    const html = renderCertificateHtml(ok, { locale: "en" });
    expect(html).toContain('<html lang="en">');
    expect(html).toContain("<h1>Cold-chain certificate</h1>");
    expect(html).toContain('<span class="badge ok">Compliant</span>');
    expect(html).toContain("npm run verify-certificate -- &lt;file&gt;");
    expect(html).not.toMatch(/[\u4e00-\u9fff]/);
  });

  it("shows an excursion in the badge, the excursion table and the chart", () => {
    const zh = renderCertificateHtml(excursion);
    expect(zh).toContain('<span class="badge bad">有温度异常</span>');
    expect(zh).toContain("送达时仍在持续");
    expect(zh).toMatch(
      /<rect class="exc" [^>]+><title>温度超出范围 2025-01-01 09:12:00 – 2025-01-01 09:30:00<\/title>/,
    );
    const en = renderCertificateHtml(excursion, { locale: "en" });
    expect(en).toContain('<span class="badge bad">Temperature excursion</span>');
    expect(en).toContain("still going at delivery");
  });

  it("draws the range band and one point per reading inside the window", () => {
    const html = renderCertificateHtml(ok);
    expect(html).toContain('<rect class="band"');
    expect(html.match(/<circle class="pt/g)).toHaveLength(3); // the hand-off reading starts the line
    expect(html.match(/<circle class="pt out"/g)).toHaveLength(1); // -16.25 °C is above -18
    expect(html).toContain('<path class="line" d="M');
  });

  it("lists every reading with time, temperature, door and hash prefix", () => {
    const html = renderCertificateHtml(ok);
    const rows = html.match(/<tr(?: class="out")?><td>\d+<\/td>.*<\/tr>/g) ?? [];
    expect(rows).toHaveLength(4);
    expect(rows[0]).toContain("2025-01-01 08:59:50 <small>(交接前最后一条)</small>");
    expect(rows[1]).toContain("<td>开</td>");
    expect(rows[2]).toContain('<tr class="out">');
    expect(rows[2]).toContain(`<code>${ok.readings[2]!.hash.slice(0, 12)}</code>`);
  });

  it("is self-contained and printable: no scripts, no external assets, a print stylesheet", () => {
    const html = renderCertificateHtml(excursion);
    expect(html).not.toMatch(/<script|<link|<img|@import|url\(|src=|href=/i);
    expect(html).toContain("@media print");
    expect(html).toContain("@page");
  });

  it("escapes every value it shows", () => {
    const hostile = structuredClone(ok);
    hostile.order.id = `<script>alert("x")</script>&'`;
    hostile.signature.kid = `"><img src=x onerror=alert(1)>`;
    const html = renderCertificateHtml(hostile);
    expect(html).not.toContain("<script>");
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;");
    expect(html).toContain("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;");
  });
});
