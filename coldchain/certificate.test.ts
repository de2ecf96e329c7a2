import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { calculateJwkThumbprint, decodeProtectedHeader } from "jose";
import {
  CertificateInputError,
  CertificateKeyError,
  buildCertificate,
  canonicalJson,
  canonicalReading,
  chainReadings,
  loadSigner,
  publicJwks,
  summarize,
  verifyCertificate,
} from "./index.ts";
import type {
  Certificate,
  CertificateInput,
  CertificateReading,
  CertificateSigner,
  SummaryInput,
} from "./index.ts";

const T0 = Date.UTC(2025, 0, 1, 1, 0, 0); // 2025-01-01 09:00:00 in Shanghai
const SEC = 1000;
const MIN = 60 * SEC;

function newPem(): string {
  return generateKeyPairSync("ed25519")
    .privateKey.export({ type: "pkcs8", format: "pem" })
    .toString();
}

let signer: CertificateSigner;
let otherSigner: CertificateSigner;
beforeAll(async () => {
  signer = await loadSigner({ pem: newPem() });
  otherSigner = await loadSigner({ pem: newPem() });
});

/** A 10-minute chilled delivery: in range, one reading above it, one closed excursion. */
function input(overrides: Partial<CertificateInput> = {}): CertificateInput {
  return {
    orderId: "O-1",
    temperatureClass: "chilled",
    vehicleId: "V-1",
    compartmentId: "C1",
    compartmentClass: "chilled",
    range: { minC: 0, maxC: 4 },
    handedOffAt: T0,
    deliveredAt: T0 + 10 * MIN,
    readings: [
      { seq: 101, at: T0 - 20 * SEC, celsius: 3, doorOpen: false },
      { seq: 102, at: T0 + 1 * MIN, celsius: 2.5, doorOpen: true },
      { seq: 103, at: T0 + 2 * MIN, celsius: 5.5, doorOpen: false },
      { seq: 104, at: T0 + 4 * MIN, celsius: 3.75, doorOpen: false },
      { seq: 105, at: T0 + 7 * MIN, celsius: 1.2, doorOpen: false },
    ],
    excursions: [
      { kind: "temperature", startedAt: T0 + 2 * MIN, endedAt: T0 + 4 * MIN, peakC: 5.5 },
    ],
    ...overrides,
  };
}

/** The certificate as a verifier gets it: parsed back from its JSON file. */
async function issued(
  overrides: Partial<CertificateInput> = {},
  by = signer,
): Promise<Certificate> {
  const cert = await buildCertificate(input(overrides), by, { issuedAt: T0 + 15 * MIN });
  return JSON.parse(JSON.stringify(cert)) as Certificate;
}

const CHAIN_PROBLEM = "does not match the chain";

describe("canonicalJson", () => {
  it("sorts object keys at every depth and keeps array order", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });

  it("leaves out undefined members and refuses numbers JSON cannot carry", () => {
    expect(canonicalJson({ a: undefined, b: "x" })).toBe('{"b":"x"}');
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(TypeError);
    expect(() => canonicalJson([Infinity])).toThrow(TypeError);
  });
});

describe("chainReadings", () => {
  const subject = { orderId: "O-1", vehicleId: "V-1", compartmentId: "C1" };
  const readings: CertificateReading[] = [
    { seq: 5023, at: 1735693200000, celsius: 3.25, doorOpen: false },
    { seq: 5024, at: 1735693230000, celsius: -18.5, doorOpen: true },
  ];

  it("follows the documented formula (pinned vectors)", () => {
    expect(canonicalReading(readings[0]!)).toBe("5023|1735693200000|3.25|false");
    const chain = chainReadings(subject, readings);
    // sha256hex("xianda-cert-v1|O-1|V-1|C1"), then sha256hex(previous + "|" + canonical reading).
    expect(chain.genesis).toBe("2ecba51528a7fa2e758ce672b041bdbe2d2b64551ffd7f121511333eb23b00a4");
    expect(chain.links).toEqual([
      "5293e97c6354700538cfe72dcfc501bbd1c8b21e85b17548544cc85309c87bd0",
      "84f885227dbb20dc2aa3ea6cb90593aac6bf509db859bae7425f45196d6866ef",
    ]);
    expect(chain.finalHash).toBe(chain.links[1]);
  });

  it("gives the same hashes for readings parsed back from JSON, awkward numbers included", () => {
    const awkward: CertificateReading[] = [
      { seq: 1, at: 10, celsius: 0.1 + 0.2, doorOpen: false },
      { seq: 2, at: 20, celsius: -0, doorOpen: false },
      { seq: 3, at: 30, celsius: 1e-7, doorOpen: true },
      { seq: 4, at: 40, celsius: -18.000000000000004, doorOpen: false },
    ];
    const roundTripped = JSON.parse(JSON.stringify(awkward)) as CertificateReading[];
    expect(chainReadings(subject, roundTripped)).toEqual(chainReadings(subject, awkward));
  });

  it("ends at the genesis when there are no readings", () => {
    const chain = chainReadings(subject, []);
    expect(chain.links).toEqual([]);
    expect(chain.finalHash).toBe(chain.genesis);
  });

  it("binds the readings to their order: the same readings of another order chain differently", () => {
    const other = chainReadings({ ...subject, orderId: "O-2" }, readings);
    expect(other.finalHash).not.toBe(chainReadings(subject, readings).finalHash);
  });
});

describe("summarize", () => {
  const base: SummaryInput = {
    range: { minC: 0, maxC: 4 },
    handedOffAt: 1_000,
    deliveredAt: 11_000,
    readings: [],
    excursions: [],
  };
  const r = (seq: number, at: number, celsius: number, doorOpen = false) => ({
    seq,
    at,
    celsius,
    doorOpen,
  });

  it("holds each value until the next reading, from the one held at hand-off to delivery", () => {
    const summary = summarize({
      ...base,
      readings: [r(1, 0, 5), r(2, 3_000, 2), r(3, 6_000, -1, true), r(4, 9_000, 3)],
    });
    // 5 °C over [1000, 3000), 2 over [3000, 6000), -1 over [6000, 9000), 3 over [9000, 11000].
    expect(summary).toEqual({
      durationMs: 10_000,
      coveredMs: 10_000,
      aboveRangeMs: 2_000,
      belowRangeMs: 3_000,
      doorOpenMs: 3_000,
      readingCount: 4,
      minC: -1,
      maxC: 5,
      meanC: 1.9, // (5·2000 + 2·3000 − 1·3000 + 3·2000) / 10000
      excursions: [],
      verdict: "ok",
    });
  });

  it("ignores a reading superseded before the hand-off and clips the one held at hand-off", () => {
    const summary = summarize({
      ...base,
      handedOffAt: 1_000,
      deliveredAt: 5_000,
      readings: [r(1, 0, 10), r(2, 500, 1), r(3, 2_000, 3), r(4, 4_000, 6)],
    });
    // 10 °C never holds inside the window; 1 over [1000, 2000), 3 over [2000, 4000), 6 over [4000, 5000].
    expect(summary.readingCount).toBe(3);
    expect(summary.maxC).toBe(6);
    expect(summary.minC).toBe(1);
    expect(summary.coveredMs).toBe(4_000);
    expect(summary.aboveRangeMs).toBe(1_000);
    expect(summary.meanC).toBe(3.25); // (1·1000 + 3·2000 + 6·1000) / 4000
  });

  it("leaves the time before the first reading uncovered and averages over the covered time", () => {
    const summary = summarize({
      ...base,
      handedOffAt: 0,
      deliveredAt: 10_000,
      readings: [r(1, 4_000, 2)],
    });
    expect(summary.durationMs).toBe(10_000);
    expect(summary.coveredMs).toBe(6_000);
    expect(summary.meanC).toBe(2);
  });

  it("counts a reading taken exactly at delivery although it holds for no time", () => {
    const summary = summarize({ ...base, readings: [r(1, 1_000, 2), r(2, 11_000, 7)] });
    expect(summary.readingCount).toBe(2);
    expect(summary.maxC).toBe(7);
    expect(summary.aboveRangeMs).toBe(0);
    expect(summary.meanC).toBe(2);
  });

  it("rounds the time-weighted mean to 0.01 °C", () => {
    const summary = summarize({
      ...base,
      handedOffAt: 0,
      deliveredAt: 3_000,
      readings: [r(1, 0, 1), r(2, 1_000, 2), r(3, 2_000, 2)],
    });
    expect(summary.meanC).toBe(1.67); // 5/3
  });

  it("has no temperatures when no reading describes the window", () => {
    const summary = summarize(base);
    expect(summary).toMatchObject({
      coveredMs: 0,
      readingCount: 0,
      minC: null,
      maxC: null,
      meanC: null,
      verdict: "ok",
    });
  });

  it("clips excursions to the window and ends an open one at delivery", () => {
    const summary = summarize({
      ...base,
      handedOffAt: 10_000,
      deliveredAt: 70_000,
      excursions: [
        { kind: "sensor_silent", startedAt: 50_000, endedAt: null, peakC: null },
        { kind: "temperature", startedAt: 0, endedAt: 20_000, peakC: 7.5 },
        { kind: "temperature", startedAt: 5_000, endedAt: 10_000, peakC: 6 }, // ended at hand-off
        { kind: "temperature", startedAt: 70_000, endedAt: null, peakC: 5 }, // began at delivery
        { kind: "temperature", startedAt: 60_000, endedAt: 90_000, peakC: 4.5 },
      ],
    });
    expect(summary.excursions).toEqual([
      {
        kind: "temperature",
        startedAt: 10_000,
        endedAt: 20_000,
        durationMs: 10_000,
        peakC: 7.5,
        startedBeforeHandoff: true,
        ongoingAtDelivery: false,
      },
      {
        kind: "sensor_silent",
        startedAt: 50_000,
        endedAt: 70_000,
        durationMs: 20_000,
        peakC: null,
        startedBeforeHandoff: false,
        ongoingAtDelivery: true,
      },
      {
        kind: "temperature",
        startedAt: 60_000,
        endedAt: 70_000,
        durationMs: 10_000,
        peakC: 4.5,
        startedBeforeHandoff: false,
        ongoingAtDelivery: true,
      },
    ]);
    expect(summary.verdict).toBe("excursion");
  });

  it("passes time out of range within the vehicle's grace period: the verdict follows excursions", () => {
    const summary = summarize({ ...base, readings: [r(1, 1_000, 6), r(2, 2_000, 3)] });
    expect(summary.aboveRangeMs).toBe(1_000);
    expect(summary.verdict).toBe("ok");
  });

  it("never counts time out of range for an unmonitored compartment", () => {
    const summary = summarize({
      ...base,
      range: { minC: null, maxC: null },
      readings: [r(1, 1_000, 30)],
    });
    expect(summary.aboveRangeMs).toBe(0);
    expect(summary.belowRangeMs).toBe(0);
  });
});

describe("buildCertificate", () => {
  it("writes the window in Shanghai time, chains the readings and signs the document without its signature", async () => {
    const cert = await issued();
    expect(cert.version).toBe(1);
    expect(cert.kind).toBe("xianda.cold-chain-certificate");
    expect(cert.window.handedOffAtIso).toBe("2025-01-01T09:00:00.000+08:00");
    expect(cert.window.deliveredAtIso).toBe("2025-01-01T09:10:00.000+08:00");
    expect(cert.issuedAtIso).toBe("2025-01-01T09:15:00.000+08:00");

    const chain = chainReadings(
      { orderId: "O-1", vehicleId: "V-1", compartmentId: "C1" },
      input().readings,
    );
    expect(cert.readings.map((r) => r.hash)).toEqual(chain.links);
    expect(cert.chain).toEqual({
      algorithm: "sha256",
      genesis: chain.genesis,
      finalHash: chain.finalHash,
      count: 5,
    });
    expect(cert.summary).toEqual(summarize(input()));
    expect(cert.summary.verdict).toBe("excursion");

    const { signature, ...unsigned } = cert;
    expect(signature.kid).toBe(signer.kid);
    expect(signature.publicKeyJwk).toEqual({
      kty: "OKP",
      crv: "Ed25519",
      x: signer.publicKeyJwk.x,
    });
    expect(decodeProtectedHeader(signature.jws)).toEqual({ alg: "EdDSA", kid: signer.kid });
    const payload = Buffer.from(signature.jws.split(".")[1]!, "base64url").toString("utf8");
    expect(payload).toBe(canonicalJson(unsigned));
  });

  it("refuses input that would make an untruthful certificate, naming each problem", async () => {
    const bad = input({
      deliveredAt: T0 - 1,
      readings: [
        { seq: 1, at: T0 - 2 * SEC, celsius: 3, doorOpen: false },
        { seq: 2, at: T0 - 1 * SEC, celsius: 3, doorOpen: false },
        { seq: 3, at: T0 + 30 * SEC, celsius: 3, doorOpen: false },
      ],
    });
    const error = await buildCertificate(bad, signer).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CertificateInputError);
    expect((error as CertificateInputError).issues).toEqual([
      "deliveredAt: the delivery is before the hand-off",
      "readings: reading #2 (seq 2) is from before the hand-off: only the first reading may be (the temperature at hand-off)",
      "readings: reading #3 (seq 3) is from after the delivery",
    ]);
  });

  it("refuses readings out of order or with a repeated sequence", async () => {
    const bad = input({
      readings: [
        { seq: 7, at: T0 + 2 * SEC, celsius: 3, doorOpen: false },
        { seq: 8, at: T0 + 1 * SEC, celsius: 3, doorOpen: false },
        { seq: 7, at: T0 + 3 * SEC, celsius: 3, doorOpen: false },
      ],
    });
    const error = (await buildCertificate(bad, signer).catch(
      (e: unknown) => e,
    )) as CertificateInputError;
    expect(error.issues).toEqual([
      "readings: reading #2 (seq 8) is out of order: it comes after reading #1 (seq 7) but is not later by time, then sequence",
      "readings: reading #3 (seq 7) repeats a sequence number already used",
    ]);
  });

  it("refuses a signer whose key is not Ed25519", async () => {
    const ec: CertificateSigner = {
      ...signer,
      publicKeyJwk: { kty: "EC", crv: "P-256", x: "a", y: "b" },
    };
    await expect(buildCertificate(input(), ec)).rejects.toBeInstanceOf(CertificateKeyError);
  });

  it("refuses to hand out a certificate its signer signed wrongly", async () => {
    const liar: CertificateSigner = { ...signer, sign: (payload) => otherSigner.sign(payload) };
    await expect(buildCertificate(input(), liar)).rejects.toThrow(/does not verify/);
  });
});

describe("verifyCertificate", () => {
  it("verifies a certificate read back from its JSON, warning that authenticity was not checked", async () => {
    const result = await verifyCertificate(await issued());
    expect(result.ok).toBe(true);
    expect(result.problems).toEqual([]);
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toMatch(/^authenticity not checked/);
  });

  it("verifies a certificate with no readings", async () => {
    const result = await verifyCertificate(await issued({ readings: [], excursions: [] }));
    expect(result.problems).toEqual([]);
  });

  it("checks authenticity against the trusted keys", async () => {
    const cert = await issued();
    const trusted = await verifyCertificate(cert, { trustedKeys: publicJwks(signer).keys });
    expect(trusted).toEqual({ ok: true, problems: [], warnings: [] });

    const untrusted = await verifyCertificate(cert, { trustedKeys: publicJwks(otherSigner).keys });
    expect(untrusted.ok).toBe(false);
    const thumbprint = await calculateJwkThumbprint(signer.publicKeyJwk);
    expect(untrusted.problems).toEqual([
      `the signing key (thumbprint ${thumbprint}) is not one of the 1 trusted key(s)`,
    ]);
  });

  it("refuses unusable trusted keys instead of treating them as no keys", async () => {
    await expect(
      verifyCertificate(await issued(), { trustedKeys: [{ kty: "OKP" }] }),
    ).rejects.toBeInstanceOf(CertificateKeyError);
  });

  describe("detects tampering and says what was changed", () => {
    it("an edited temperature", async () => {
      const cert = await issued();
      cert.readings[2]!.celsius = 3.9; // was 5.5
      const { ok, problems } = await verifyCertificate(cert);
      expect(ok).toBe(false);
      expect(problems.filter((p) => p.includes(CHAIN_PROBLEM))).toEqual([
        "reading #3 (seq 103) does not match the chain: its values were changed, or a reading before it was removed, inserted or moved",
      ]);
      expect(problems).toContain(
        "chain.finalHash does not match the hash chain recomputed from the readings",
      );
      expect(problems).toContain("summary.maxC is 5.5 but the readings give 3.9");
      expect(problems).toContain(
        "the signature does not cover this document: changed since signing: readings",
      );
    });

    it("a dropped reading", async () => {
      const cert = await issued();
      cert.readings.splice(2, 1);
      const { problems } = await verifyCertificate(cert);
      expect(problems.filter((p) => p.includes(CHAIN_PROBLEM))).toEqual([
        expect.stringMatching(/^reading #3 \(seq 104\) does not match the chain/),
      ]);
      expect(problems).toContain("chain.count says 5 readings but the document has 4");
      expect(problems).toContain(
        "the signature does not cover this document: changed since signing: readings",
      );
    });

    it("reordered readings", async () => {
      const cert = await issued();
      const [second, third] = [cert.readings[1]!, cert.readings[2]!];
      cert.readings[1] = third;
      cert.readings[2] = second;
      const { problems } = await verifyCertificate(cert);
      expect(problems).toContain(
        "reading #3 (seq 102) is out of order: it comes after reading #2 (seq 103) but is not later by time, then sequence",
      );
      expect(problems.filter((p) => p.includes(CHAIN_PROBLEM))).toEqual([
        expect.stringMatching(/^reading #2 \(seq 103\)/),
        expect.stringMatching(/^reading #3 \(seq 102\)/),
        // The stored hash before it moved too.
        expect.stringMatching(/^reading #4 \(seq 104\)/),
      ]);
    });

    it("an edited summary", async () => {
      const cert = await issued();
      cert.summary.aboveRangeMs = 0;
      cert.summary.verdict = "ok";
      const { problems } = await verifyCertificate(cert);
      expect(problems).toEqual([
        "summary.aboveRangeMs is 0 but the readings give 120000",
        'summary.verdict is "ok" but the readings give "excursion"',
        "the signature does not cover this document: changed since signing: summary",
      ]);
    });

    it("a removed excursion", async () => {
      const cert = await issued();
      cert.excursions = [];
      const { problems } = await verifyCertificate(cert);
      expect(problems).toContain(
        "summary.excursions do not match the excursions clipped to the window",
      );
      expect(problems).toContain(
        "the signature does not cover this document: changed since signing: excursions",
      );
    });

    it("an edited final hash", async () => {
      const cert = await issued();
      cert.chain.finalHash = "0".repeat(64);
      const { problems } = await verifyCertificate(cert);
      expect(problems).toEqual([
        "chain.finalHash does not match the hash chain recomputed from the readings",
        "the signature does not cover this document: changed since signing: chain",
      ]);
    });

    it("an edit with the chain and summary recomputed: only the signature catches it", async () => {
      const cert = await issued();
      const readings = cert.readings.map(({ hash: _hash, ...r }) => r);
      readings[2]!.celsius = 3.9;
      const links = chainReadings(
        { orderId: "O-1", vehicleId: "V-1", compartmentId: "C1" },
        readings,
      ).links;
      cert.readings = readings.map((r, i) => ({ ...r, hash: links[i]! }));
      cert.chain.finalHash = links.at(-1)!;
      cert.excursions = [];
      cert.summary = summarize({ ...input(), readings, excursions: [] });
      const { problems } = await verifyCertificate(cert);
      expect(problems).toEqual([
        "the signature does not cover this document: changed since signing: chain, excursions, readings, summary",
      ]);
    });

    it("a signature key swapped for another", async () => {
      const cert = await issued();
      cert.signature.publicKeyJwk = { kty: "OKP", crv: "Ed25519", x: otherSigner.publicKeyJwk.x! };
      const { problems } = await verifyCertificate(cert, {
        trustedKeys: publicJwks(otherSigner).keys,
      });
      expect(problems).toEqual([
        "the signature does not verify with the embedded public key (signature.publicKeyJwk): the signature or the key was replaced",
      ]);
    });

    it("a certificate re-signed with another key verifies as intact but not as authentic", async () => {
      const forged = await issued({}, otherSigner);
      expect((await verifyCertificate(forged)).ok).toBe(true);
      const { ok, problems } = await verifyCertificate(forged, {
        trustedKeys: publicJwks(signer).keys,
      });
      expect(ok).toBe(false);
      expect(problems).toEqual([
        expect.stringMatching(/^the signing key \(thumbprint .+\) is not one of the 1 trusted key/),
      ]);
    });

    it("a time whose ISO form no longer matches", async () => {
      const cert = await issued();
      cert.window.deliveredAtIso = "2025-01-01T09:05:00.000+08:00";
      const { problems } = await verifyCertificate(cert);
      expect(problems).toContain("window.deliveredAtIso does not match window.deliveredAt");
    });

    it("a document of the wrong shape, or with private key material", async () => {
      const cert = await issued();
      const withPrivate = {
        ...cert,
        signature: {
          ...cert.signature,
          publicKeyJwk: { ...cert.signature.publicKeyJwk, d: "secret" },
        },
      };
      expect((await verifyCertificate(withPrivate)).problems).toEqual([
        expect.stringMatching(/^not a valid certificate: signature\.publicKeyJwk: .*"d"/),
      ]);
      const { readings: _readings, ...noReadings } = cert;
      expect((await verifyCertificate(noReadings)).problems).toEqual([
        expect.stringMatching(/^not a valid certificate: readings: /),
      ]);
      expect((await verifyCertificate("hello")).ok).toBe(false);
    });
  });
});

describe("loadSigner", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "xianda-coldchain-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("creates a key file readable only by its owner and signs with the same key next time", async () => {
    const file = join(dir, "keys", "certificate.pem");
    const first = await loadSigner({ file });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, "keys"))).mode & 0o777).toBe(0o700);
    expect(await readFile(file, "utf8")).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const second = await loadSigner({ file });
    expect(second.kid).toBe(first.kid);
    expect(second.publicKeyJwk).toEqual(first.publicKeyJwk);
  });

  it("names the key by its JWK thumbprint and publishes only the public part", async () => {
    expect(signer.kid).toBe(await calculateJwkThumbprint(signer.publicKeyJwk));
    expect(publicJwks(signer)).toEqual({
      keys: [
        {
          kty: "OKP",
          crv: "Ed25519",
          x: signer.publicKeyJwk.x,
          kid: signer.kid,
          alg: "EdDSA",
          use: "sig",
        },
      ],
    });
  });

  it("refuses a key that is not Ed25519, a PEM that is not a key, both sources or none", async () => {
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" })
      .privateKey.export({ type: "pkcs8", format: "pem" })
      .toString();
    await expect(loadSigner({ pem: ec })).rejects.toThrow(/is a ec key; certificates need Ed25519/);
    await expect(loadSigner({ pem: "not a key" })).rejects.toBeInstanceOf(CertificateKeyError);
    await expect(loadSigner({ pem: newPem(), file: join(dir, "x.pem") })).rejects.toBeInstanceOf(
      CertificateKeyError,
    );
    await expect(loadSigner({})).rejects.toBeInstanceOf(CertificateKeyError);
  });
});
