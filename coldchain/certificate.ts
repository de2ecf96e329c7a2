/**
 * The cold-chain certificate: a signed JSON document stating what temperatures one order's
 * compartment held from hand-off into the van until delivery, that anyone can check offline.
 *
 * Decisions:
 * - The document is its own contract (`version: 1`), so it defines its own schemas instead of
 *   reusing the wire schemas of `protocol/`: a certificate issued today must still validate after
 *   the wire contract has moved on.
 * - Readings form a SHA-256 hash chain (see `chainReadings`). The chain lets a verifier point at
 *   the one reading that was changed, removed or inserted, and its final hash is a short
 *   fingerprint of the whole series that can be recorded elsewhere (an order event, a receipt).
 * - The whole document except `signature` is signed with Ed25519 as a compact JWS whose payload
 *   is `canonicalJson` of that document. Every field is covered, so editing anything (a reading,
 *   the summary, the final hash) breaks the signature, and the verifier also recomputes the chain
 *   and the summary to say which part no longer adds up.
 * - The verdict follows the vehicle's excursions (which apply its grace period and hysteresis),
 *   not raw out-of-range time: a door opened for loading briefly leaves the range without
 *   spoiling anything, and the vehicle actor is the one place that judges that.
 * - Times are epoch milliseconds of the sensor clock, as everywhere in xianda; ISO strings in
 *   Asia/Shanghai (+08:00, no daylight saving time since 1991) sit beside them for people.
 */
import { createHash } from "node:crypto";
import { calculateJwkThumbprint, compactVerify, decodeProtectedHeader, importJWK } from "jose";
import type { JWK } from "jose";
import { z } from "zod";

export const CERTIFICATE_KIND = "xianda.cold-chain-certificate";
export const CERTIFICATE_VERSION = 1;
/** Prefix of the chain's genesis string; bump with the document version. */
export const CHAIN_DOMAIN = "xianda-cert-v1";

const SHANGHAI_OFFSET_MS = 8 * 3_600_000;

// ---------------------------------------------------------------------------------------------
// Errors

/** The input given to `buildCertificate` cannot make a truthful certificate. */
export class CertificateInputError extends Error {
  override readonly name = "CertificateInputError";
  constructor(
    /** One human-readable line per problem. */
    readonly issues: string[],
    options?: ErrorOptions,
  ) {
    super(`invalid certificate input: ${issues.join("; ")}`, options);
  }
}

/** A key (signing key, embedded or trusted public key) is missing, malformed or not Ed25519. */
export class CertificateKeyError extends Error {
  override readonly name = "CertificateKeyError";
}

// ---------------------------------------------------------------------------------------------
// Schemas

const EpochMs = z.number().int().nonnegative();
const Celsius = z.number().finite();
const Hex256 = z.string().regex(/^[0-9a-f]{64}$/, "a lowercase hex SHA-256 digest");
/** Same character set as actor ids: also keeps `|` out of the chain's genesis string. */
const EntityId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, "an id: letters, digits, '_' or '-', 1-64 chars");
const ShanghaiIso = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+08:00$/, "an ISO time with +08:00");

export const CertificateTemperatureClass = z.enum(["chilled", "frozen"]);
export type CertificateTemperatureClass = z.infer<typeof CertificateTemperatureClass>;
export const CertificateCompartmentClass = z.enum(["frozen", "chilled", "custom", "ambient"]);
export type CertificateCompartmentClass = z.infer<typeof CertificateCompartmentClass>;

/** A bound of `null` means the range is open on that side (frozen: `{minC: null, maxC: -18}`). */
export const TemperatureRange = z
  .strictObject({ minC: Celsius.nullable(), maxC: Celsius.nullable() })
  .refine((r) => r.minC === null || r.maxC === null || r.minC < r.maxC, {
    message: "minC must be below maxC",
  });
export type TemperatureRange = z.infer<typeof TemperatureRange>;

/** One sensor reading of the compartment. */
export const CertificateReading = z.object({
  /** The reading's sequence in the telemetry stream: with `part`, unique, and the tie-break for equal times. */
  seq: z.number().int().nonnegative(),
  /** Its place among the readings of one stream message (a logger may send several at once). */
  part: z.number().int().min(1).max(1023).optional(),
  /** Sensor time, epoch ms. */
  at: EpochMs,
  celsius: Celsius,
  doorOpen: z.boolean(),
});
export type CertificateReading = z.infer<typeof CertificateReading>;

export const ExcursionKind = z.enum(["temperature", "sensor_silent"]);
export type ExcursionKind = z.infer<typeof ExcursionKind>;

const excursionShape = {
  kind: ExcursionKind,
  startedAt: EpochMs,
  /** `null` while still open. */
  endedAt: EpochMs.nullable(),
  /** The reading farthest outside the range; `null` for a silent sensor. */
  peakC: Celsius.nullable(),
};
const excursionEndsAfterStart = [
  (e: { startedAt: number; endedAt: number | null }) =>
    e.endedAt === null || e.endedAt >= e.startedAt,
  { message: "an excursion cannot end before it starts" },
] as const;

/** An excursion as the vehicle actor reported it (unclipped; `peakC` over its whole length). */
export const CertificateExcursion = z.object(excursionShape).refine(...excursionEndsAfterStart);
export type CertificateExcursion = z.infer<typeof CertificateExcursion>;

export const CertificateInput = z
  .object({
    orderId: EntityId,
    temperatureClass: CertificateTemperatureClass,
    vehicleId: EntityId,
    compartmentId: EntityId,
    compartmentClass: CertificateCompartmentClass,
    range: TemperatureRange,
    /** When the order went into the compartment. */
    handedOffAt: EpochMs,
    /** When it was handed to the customer. */
    deliveredAt: EpochMs,
    /**
     * The compartment's readings from hand-off to delivery, plus the last one before hand-off
     * (the temperature at hand-off) if there is one; sorted by `at`, then `seq`.
     */
    readings: z.array(CertificateReading),
    /** The compartment's excursions that overlap the window, as the vehicle reported them. */
    excursions: z.array(CertificateExcursion),
  })
  .superRefine((input, ctx) => {
    for (const message of windowIssues(input.handedOffAt, input.deliveredAt)) {
      ctx.addIssue({ code: "custom", message, path: ["deliveredAt"] });
    }
    for (const message of readingOrderIssues(
      input.readings,
      input.handedOffAt,
      input.deliveredAt,
    )) {
      ctx.addIssue({ code: "custom", message, path: ["readings"] });
    }
  });
export type CertificateInput = z.infer<typeof CertificateInput>;

const ClippedExcursion = z.strictObject({
  kind: ExcursionKind,
  /** Clipped to the window. */
  startedAt: EpochMs,
  /** Clipped to the window; an excursion still open at delivery ends at `deliveredAt`. */
  endedAt: EpochMs,
  durationMs: z.number().int().nonnegative(),
  peakC: Celsius.nullable(),
  startedBeforeHandoff: z.boolean(),
  /** Still going at delivery (open, or ended after it). */
  ongoingAtDelivery: z.boolean(),
});
export type ClippedExcursion = z.infer<typeof ClippedExcursion>;

export const CertificateVerdict = z.enum(["ok", "excursion"]);
export type CertificateVerdict = z.infer<typeof CertificateVerdict>;

/**
 * What the readings and excursions say about the window [handedOffAt, deliveredAt]. Readings
 * are a step function: each value holds from its time until the next reading (the last until
 * delivery).
 */
export const CertificateSummary = z.strictObject({
  /** deliveredAt − handedOffAt. */
  durationMs: z.number().int().nonnegative(),
  /** The part of the window a reading's value describes (all of it but the time before the first). */
  coveredMs: z.number().int().nonnegative(),
  aboveRangeMs: z.number().int().nonnegative(),
  belowRangeMs: z.number().int().nonnegative(),
  doorOpenMs: z.number().int().nonnegative(),
  /** Readings that describe some part of the window: those inside it, and the one held at hand-off. */
  readingCount: z.number().int().nonnegative(),
  minC: Celsius.nullable(),
  maxC: Celsius.nullable(),
  /** Time-weighted over `coveredMs`, rounded to 0.01 °C; `null` when nothing is covered. */
  meanC: Celsius.nullable(),
  excursions: z.array(ClippedExcursion),
  /** `excursion` when any excursion overlaps the window. */
  verdict: CertificateVerdict,
});
export type CertificateSummary = z.infer<typeof CertificateSummary>;

/** Only the public members of an Ed25519 key: a certificate never carries private material. */
export const Ed25519PublicJwk = z.strictObject({
  kty: z.literal("OKP"),
  crv: z.literal("Ed25519"),
  x: z.string().regex(/^[A-Za-z0-9_-]{43}$/, "a base64url Ed25519 public key"),
});
export type Ed25519PublicJwk = z.infer<typeof Ed25519PublicJwk>;

const SignedReading = z.strictObject({
  seq: z.number().int().nonnegative(),
  part: z.number().int().min(1).max(1023).optional(),
  at: EpochMs,
  celsius: Celsius,
  doorOpen: z.boolean(),
  /** This reading's link in the chain. */
  hash: Hex256,
});

const CertificateBody = z.strictObject({
  version: z.literal(CERTIFICATE_VERSION),
  kind: z.literal(CERTIFICATE_KIND),
  order: z.strictObject({ id: EntityId, temperatureClass: CertificateTemperatureClass }),
  vehicle: z.strictObject({ id: EntityId }),
  compartment: z.strictObject({
    id: EntityId,
    class: CertificateCompartmentClass,
    range: TemperatureRange,
  }),
  window: z.strictObject({
    handedOffAt: EpochMs,
    deliveredAt: EpochMs,
    handedOffAtIso: ShanghaiIso,
    deliveredAtIso: ShanghaiIso,
  }),
  readings: z.array(SignedReading),
  /** The vehicle's excursions as given (unclipped), from which `summary.excursions` derive. */
  excursions: z.array(z.strictObject(excursionShape).refine(...excursionEndsAfterStart)),
  summary: CertificateSummary,
  chain: z.strictObject({
    algorithm: z.literal("sha256"),
    genesis: Hex256,
    finalHash: Hex256,
    count: z.number().int().nonnegative(),
  }),
  issuedAt: EpochMs,
  issuedAtIso: ShanghaiIso,
});
/** Everything the signature covers. */
export type UnsignedCertificate = z.infer<typeof CertificateBody>;

export const CertificateSignature = z.strictObject({
  alg: z.literal("EdDSA"),
  kid: z.string().min(1).max(256),
  publicKeyJwk: Ed25519PublicJwk,
  /** Compact JWS over `canonicalJson` of the document without `signature`. */
  jws: z.string().regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, "a compact JWS"),
});
export type CertificateSignature = z.infer<typeof CertificateSignature>;

export const Certificate = CertificateBody.extend({ signature: CertificateSignature });
export type Certificate = z.infer<typeof Certificate>;

/** Signs certificate payloads. A KMS-backed signer fits as well as `loadSigner`'s local key. */
export type CertificateSigner = {
  /** Put in the JWS header and the document; `loadSigner` uses the key's JWK thumbprint. */
  kid: string;
  /** The public key (only `kty`, `crv` and `x` are copied into certificates). */
  publicKeyJwk: JWK;
  /** Returns a compact JWS (`alg: EdDSA`, `kid`) over exactly these bytes. */
  sign(payload: Uint8Array): Promise<string>;
};

// ---------------------------------------------------------------------------------------------
// Canonical forms and the hash chain

/**
 * JSON with object keys sorted (by UTF-16 code units) at every depth and no whitespace: for
 * the plain data of a certificate this is RFC 8785 (JCS), so other languages can reproduce it.
 * `undefined` members are left out as JSON.stringify does; non-finite numbers are refused since
 * JSON cannot carry them back.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
    case "string":
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${value} is not JSON`);
      return JSON.stringify(value);
    case "object": {
      if (Array.isArray(value)) {
        return `[${value.map((item) => (item === undefined ? "null" : canonicalJson(item))).join(",")}]`;
      }
      const record = value as Record<string, unknown>;
      const members = Object.keys(record)
        .filter((key) => record[key] !== undefined)
        .sort()
        .map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`);
      return `{${members.join(",")}}`;
    }
    default:
      throw new TypeError(`canonicalJson: a ${typeof value} is not JSON`);
  }
}

function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** Whose readings a chain holds: it seeds the genesis, so a chain cannot be moved to another order. */
export type ChainSubject = { orderId: string; vehicleId: string; compartmentId: string };

/** `sha256hex("xianda-cert-v1|<orderId>|<vehicleId>|<compartmentId>")`. */
export function chainGenesis(subject: ChainSubject): string {
  return sha256Hex(
    `${CHAIN_DOMAIN}|${subject.orderId}|${subject.vehicleId}|${subject.compartmentId}`,
  );
}

/**
 * `<seq>|<at>|<celsius>|<doorOpen>`, numbers as JSON writes them (shortest round-trip form, so
 * the value parsed back from the document gives the same string; -0 prints as 0), doorOpen as
 * `true`/`false`. Example: `5023|1735693200000|3.25|false`.
 */
export function canonicalReading(reading: CertificateReading): string {
  // For finite numbers `${n}` is exactly JSON's number form (both are ECMAScript Number::toString).
  return `${readingKey(reading)}|${reading.at}|${reading.celsius}|${reading.doorOpen}`;
}

/** `sha256hex(previous + "|" + canonicalReading(reading))`. */
export function chainLink(previous: string, reading: CertificateReading): string {
  return sha256Hex(`${previous}|${canonicalReading(reading)}`);
}

export type ReadingChain = {
  genesis: string;
  /** `links[i]` is reading i's hash. */
  links: string[];
  /** The last link, or the genesis when there are no readings. */
  finalHash: string;
};

export function chainReadings(
  subject: ChainSubject,
  readings: readonly CertificateReading[],
): ReadingChain {
  const genesis = chainGenesis(subject);
  const links: string[] = [];
  let previous = genesis;
  for (const reading of readings) {
    previous = chainLink(previous, reading);
    links.push(previous);
  }
  return { genesis, links, finalHash: previous };
}

// ---------------------------------------------------------------------------------------------
// Summary

/** What `summarize` reads: the input, or the same facts taken back out of a certificate. */
export type SummaryInput = Pick<
  CertificateInput,
  "range" | "handedOffAt" | "deliveredAt" | "readings" | "excursions"
>;

/** `-0 + 0` is `0`: keeps a rounded -0 out of the document. */
function round2(value: number): number {
  return Math.round(value * 100) / 100 + 0;
}

export function summarize(input: SummaryInput): CertificateSummary {
  const { handedOffAt: start, deliveredAt: end, range, readings } = input;
  let coveredMs = 0;
  let aboveRangeMs = 0;
  let belowRangeMs = 0;
  let doorOpenMs = 0;
  let readingCount = 0;
  let weighted = 0;
  let minC: number | null = null;
  let maxC: number | null = null;
  for (const [i, reading] of readings.entries()) {
    const holdsUntil = readings[i + 1]?.at ?? end;
    const heldMs = Math.max(0, Math.min(holdsUntil, end) - Math.max(reading.at, start));
    const insideWindow = reading.at >= start && reading.at <= end;
    if (!insideWindow && heldMs === 0) continue;
    readingCount += 1;
    minC = minC === null ? reading.celsius : Math.min(minC, reading.celsius);
    maxC = maxC === null ? reading.celsius : Math.max(maxC, reading.celsius);
    coveredMs += heldMs;
    weighted += reading.celsius * heldMs;
    if (range.maxC !== null && reading.celsius > range.maxC) aboveRangeMs += heldMs;
    if (range.minC !== null && reading.celsius < range.minC) belowRangeMs += heldMs;
    if (reading.doorOpen) doorOpenMs += heldMs;
  }

  const excursions: ClippedExcursion[] = [];
  for (const excursion of input.excursions) {
    const from = Math.max(excursion.startedAt, start);
    const to = Math.min(excursion.endedAt ?? end, end);
    // Only an overlap of positive length counts: one that ended exactly at hand-off did not
    // happen to this order.
    if (to <= from) continue;
    excursions.push({
      kind: excursion.kind,
      startedAt: from,
      endedAt: to,
      durationMs: to - from,
      peakC: excursion.peakC,
      startedBeforeHandoff: excursion.startedAt < start,
      ongoingAtDelivery: excursion.endedAt === null || excursion.endedAt > end,
    });
  }
  excursions.sort((a, b) => a.startedAt - b.startedAt || a.endedAt - b.endedAt);

  return {
    durationMs: Math.max(0, end - start),
    coveredMs,
    aboveRangeMs,
    belowRangeMs,
    doorOpenMs,
    readingCount,
    minC,
    maxC,
    meanC: coveredMs > 0 ? round2(weighted / coveredMs) : null,
    excursions,
    verdict: excursions.length > 0 ? "excursion" : "ok",
  };
}

// ---------------------------------------------------------------------------------------------
// Consistency rules shared by the builder and the verifier

/** `seq`, or `seq.part` for the second and later readings of one stream message. */
export function readingKey(reading: { seq: number; part?: number }): string {
  return reading.part ? `${reading.seq}.${reading.part}` : String(reading.seq);
}

function readingName(index: number, reading: { seq: number; part?: number }): string {
  return `reading #${index + 1} (seq ${readingKey(reading)})`;
}

function windowIssues(handedOffAt: number, deliveredAt: number): string[] {
  return deliveredAt < handedOffAt ? ["the delivery is before the hand-off"] : [];
}

/**
 * Readings must be in (at, seq) order, with unique sequences, at most one before the hand-off
 * (the first: the temperature the goods went into) and none after the delivery. A document
 * that breaks these would let a chosen reading decide the step function.
 */
function readingOrderIssues(
  readings: readonly { seq: number; part?: number; at: number }[],
  handedOffAt: number,
  deliveredAt: number,
): string[] {
  const issues: string[] = [];
  const seen = new Set<string>();
  readings.forEach((reading, i) => {
    const name = readingName(i, reading);
    const previous = readings[i - 1];
    if (
      previous !== undefined &&
      (reading.at < previous.at ||
        (reading.at === previous.at &&
          (reading.seq < previous.seq ||
            (reading.seq === previous.seq && (reading.part ?? 0) <= (previous.part ?? 0)))))
    ) {
      issues.push(
        `${name} is out of order: it comes after ${readingName(i - 1, previous)} but is not later by time, then sequence`,
      );
    }
    if (seen.has(readingKey(reading)))
      issues.push(`${name} repeats a sequence number already used`);
    seen.add(readingKey(reading));
    if (i > 0 && reading.at < handedOffAt) {
      issues.push(
        `${name} is from before the hand-off: only the first reading may be (the temperature at hand-off)`,
      );
    }
    if (reading.at > deliveredAt) issues.push(`${name} is from after the delivery`);
  });
  return issues;
}

// ---------------------------------------------------------------------------------------------
// Building

/** `2025-01-01T09:00:00.000+08:00`: Asia/Shanghai is UTC+08:00 all year. */
export function toShanghaiIso(epochMs: number): string {
  return new Date(epochMs + SHANGHAI_OFFSET_MS).toISOString().replace("Z", "+08:00");
}

function publicPartOf(jwk: JWK): Ed25519PublicJwk {
  const parsed = Ed25519PublicJwk.safeParse({ kty: jwk.kty, crv: jwk.crv, x: jwk.x });
  if (!parsed.success) {
    throw new CertificateKeyError("the signing key is not an Ed25519 (OKP) public JWK", {
      cause: parsed.error,
    });
  }
  return parsed.data;
}

function formatIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path
      .map((part, i) =>
        typeof part === "number" ? `[${part}]` : `${i === 0 ? "" : "."}${String(part)}`,
      )
      .join("");
    return path === "" ? issue.message : `${path}: ${issue.message}`;
  });
}

export type BuildCertificateOptions = {
  /** When the certificate is issued, epoch ms. Default: now. */
  issuedAt?: number;
};

/**
 * Builds and signs the certificate, and checks it as a verifier would before returning it, so
 * a misbehaving signer never hands out a certificate that fails verification.
 * Throws CertificateInputError for inconsistent input, CertificateKeyError for a bad signer.
 */
export async function buildCertificate(
  input: CertificateInput,
  signer: CertificateSigner,
  options: BuildCertificateOptions = {},
): Promise<Certificate> {
  const parsed = CertificateInput.safeParse(input);
  if (!parsed.success) throw new CertificateInputError(formatIssues(parsed.error));
  const data = parsed.data;
  const publicKeyJwk = publicPartOf(signer.publicKeyJwk);
  const issuedAt = options.issuedAt ?? Date.now();

  const chain = chainReadings(data, data.readings);
  const unsigned: UnsignedCertificate = {
    version: CERTIFICATE_VERSION,
    kind: CERTIFICATE_KIND,
    order: { id: data.orderId, temperatureClass: data.temperatureClass },
    vehicle: { id: data.vehicleId },
    compartment: { id: data.compartmentId, class: data.compartmentClass, range: data.range },
    window: {
      handedOffAt: data.handedOffAt,
      deliveredAt: data.deliveredAt,
      handedOffAtIso: toShanghaiIso(data.handedOffAt),
      deliveredAtIso: toShanghaiIso(data.deliveredAt),
    },
    readings: data.readings.map((r, i) => ({
      seq: r.seq,
      ...(r.part ? { part: r.part } : {}),
      at: r.at,
      celsius: r.celsius,
      doorOpen: r.doorOpen,
      hash: chain.links[i]!,
    })),
    excursions: data.excursions.map((e) => ({
      kind: e.kind,
      startedAt: e.startedAt,
      endedAt: e.endedAt,
      peakC: e.peakC,
    })),
    summary: summarize(data),
    chain: {
      algorithm: "sha256",
      genesis: chain.genesis,
      finalHash: chain.finalHash,
      count: data.readings.length,
    },
    issuedAt,
    issuedAtIso: toShanghaiIso(issuedAt),
  };
  const jws = await signer.sign(new TextEncoder().encode(canonicalJson(unsigned)));
  const certificate: Certificate = {
    ...unsigned,
    signature: { alg: "EdDSA", kid: signer.kid, publicKeyJwk, jws },
  };

  const check = await verifyCertificate(certificate);
  if (!check.ok) {
    throw new CertificateKeyError(
      `the signer produced a certificate that does not verify: ${check.problems.join("; ")}`,
    );
  }
  return certificate;
}

// ---------------------------------------------------------------------------------------------
// Verifying

export type VerifyCertificateOptions = {
  /**
   * The issuer's public keys. When given, the certificate must be signed by one of them (by
   * JWK thumbprint). Without them the signature only proves the document is intact, not who
   * issued it, and a warning says so.
   */
  trustedKeys?: readonly JWK[];
};

export type CertificateVerification = {
  /** No problems. */
  ok: boolean;
  /** Each thing that is wrong, one line each, naming the field or reading. */
  problems: string[];
  /** What was not checked. */
  warnings: string[];
};

function describe(value: unknown): string {
  const text = canonicalJson(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Checks a parsed certificate JSON document; never throws for a bad document (each failure is a
 * problem), only for unusable `trustedKeys` (CertificateKeyError).
 */
export async function verifyCertificate(
  document: unknown,
  options: VerifyCertificateOptions = {},
): Promise<CertificateVerification> {
  const trusted = options.trustedKeys === undefined ? null : await thumbprints(options.trustedKeys);
  const problems: string[] = [];
  const warnings: string[] = [];
  const done = () => ({ ok: problems.length === 0, problems, warnings });

  const parsed = Certificate.safeParse(document);
  if (!parsed.success) {
    problems.push(
      ...formatIssues(parsed.error).map((issue) => `not a valid certificate: ${issue}`),
    );
    return done();
  }
  const cert = parsed.data;
  const { window, readings } = cert;

  // Dates.
  problems.push(...windowIssues(window.handedOffAt, window.deliveredAt));
  if (window.handedOffAtIso !== toShanghaiIso(window.handedOffAt)) {
    problems.push("window.handedOffAtIso does not match window.handedOffAt");
  }
  if (window.deliveredAtIso !== toShanghaiIso(window.deliveredAt)) {
    problems.push("window.deliveredAtIso does not match window.deliveredAt");
  }
  if (cert.issuedAtIso !== toShanghaiIso(cert.issuedAt)) {
    problems.push("issuedAtIso does not match issuedAt");
  }
  problems.push(...readingOrderIssues(readings, window.handedOffAt, window.deliveredAt));

  // Chain: each link is checked against the stored hash before it, so a changed, removed or
  // inserted reading is named where it happened instead of every reading after it.
  const subject = {
    orderId: cert.order.id,
    vehicleId: cert.vehicle.id,
    compartmentId: cert.compartment.id,
  };
  const recomputed = chainReadings(subject, readings);
  if (cert.chain.genesis !== recomputed.genesis) {
    problems.push(
      "chain.genesis does not belong to this order, vehicle and compartment (it was changed or copied from another certificate)",
    );
  }
  readings.forEach((reading, i) => {
    // Where the stored hashes agree with the recomputed chain up to here, the link holds.
    if (
      reading.hash === recomputed.links[i] &&
      (i === 0 || readings[i - 1]!.hash === recomputed.links[i - 1])
    ) {
      return;
    }
    const previous = i === 0 ? recomputed.genesis : readings[i - 1]!.hash;
    if (chainLink(previous, reading) !== reading.hash) {
      problems.push(
        `${readingName(i, reading)} does not match the chain: its values were changed, or a reading before it was removed, inserted or moved`,
      );
    }
  });
  if (cert.chain.finalHash !== recomputed.finalHash) {
    problems.push("chain.finalHash does not match the hash chain recomputed from the readings");
  }
  if (cert.chain.count !== readings.length) {
    problems.push(
      `chain.count says ${cert.chain.count} readings but the document has ${readings.length}`,
    );
  }

  // Summary.
  const expected = summarize({
    range: cert.compartment.range,
    handedOffAt: window.handedOffAt,
    deliveredAt: window.deliveredAt,
    readings,
    excursions: cert.excursions,
  });
  for (const key of Object.keys(expected) as (keyof CertificateSummary)[]) {
    if (canonicalJson(cert.summary[key]) !== canonicalJson(expected[key])) {
      problems.push(
        key === "excursions"
          ? "summary.excursions do not match the excursions clipped to the window"
          : `summary.${key} is ${describe(cert.summary[key])} but the readings give ${describe(expected[key])}`,
      );
    }
  }

  // Signature.
  problems.push(...(await signatureProblems(cert)));

  // Authenticity.
  const keyThumbprint = await calculateJwkThumbprint(cert.signature.publicKeyJwk);
  if (trusted === null) {
    warnings.push(
      `authenticity not checked: no trusted key was given, so the signature only shows the document is intact; anyone could have signed it with their own key (signing key thumbprint ${keyThumbprint})`,
    );
  } else if (!trusted.has(keyThumbprint)) {
    problems.push(
      `the signing key (thumbprint ${keyThumbprint}) is not one of the ${trusted.size} trusted key(s)`,
    );
  }
  return done();
}

async function thumbprints(keys: readonly JWK[]): Promise<Set<string>> {
  const result = new Set<string>();
  for (const [i, key] of keys.entries()) {
    try {
      result.add(await calculateJwkThumbprint(key));
    } catch (error) {
      throw new CertificateKeyError(`trusted key #${i + 1} is not a usable JWK`, { cause: error });
    }
  }
  return result;
}

async function signatureProblems(cert: Certificate): Promise<string[]> {
  const { signature, ...unsigned } = cert;
  let header;
  try {
    header = decodeProtectedHeader(signature.jws);
  } catch {
    return ["signature.jws has no readable JWS header"];
  }
  const problems: string[] = [];
  if (header.alg !== "EdDSA")
    problems.push(`signature.jws is signed with ${header.alg}, not EdDSA`);
  if (header.kid !== signature.kid) {
    problems.push("signature.kid is not the key id in the JWS header");
  }
  if (problems.length > 0) return problems;

  let payload: Uint8Array;
  try {
    const key = await importJWK(signature.publicKeyJwk, "EdDSA");
    ({ payload } = await compactVerify(signature.jws, key, { algorithms: ["EdDSA"] }));
  } catch {
    return [
      "the signature does not verify with the embedded public key (signature.publicKeyJwk): the signature or the key was replaced",
    ];
  }

  const signedText = new TextDecoder().decode(payload);
  if (signedText === canonicalJson(unsigned)) return [];
  let signed: unknown;
  try {
    signed = JSON.parse(signedText);
  } catch {
    return ["the signed content is not JSON, so it cannot be this certificate"];
  }
  const changed = Object.keys({ ...(signed as object), ...unsigned }).filter(
    (key) =>
      canonicalJson((signed as Record<string, unknown>)[key] ?? null) !==
      canonicalJson((unsigned as Record<string, unknown>)[key] ?? null),
  );
  return [
    `the signature does not cover this document: changed since signing: ${changed.sort().join(", ")}`,
  ];
}
