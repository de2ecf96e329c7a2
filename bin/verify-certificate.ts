/**
 * `npm run verify-certificate -- <certificate.json> [--key <jwks.json | jwk.json>]...`
 *
 * Verifies a cold-chain certificate offline: schema, hash chain, summary, signature, and with
 * `--key` that the issuer's key signed it. Prints what it found; exits 0 when the certificate
 * verifies, 1 when it does not, 2 on a usage error or a file that cannot be read.
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import type { JWK } from "jose";
import { CertificateKeyError, verifyCertificate } from "../coldchain/index.ts";
import type { Certificate, CertificateVerification } from "../coldchain/index.ts";

const usage =
  "usage: npm run verify-certificate -- <certificate.json> [--key <jwks.json | jwk.json>]...";

/** A usage or I/O error: exit 2 with this message. */
class UsageError extends Error {}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw new UsageError(`cannot read ${what} ${file}: ${(error as Error).message}`);
  }
}

async function readJson(file: string, what: string): Promise<unknown> {
  const text = await readText(file, what);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`${what} ${file} is not JSON: ${(error as Error).message}`);
  }
}

/** A JWKS (`{"keys": [...]}`) or a single JWK; only Ed25519 public members are kept. */
async function readTrustedKeys(file: string): Promise<JWK[]> {
  const json = await readJson(file, "key file");
  const candidates =
    typeof json === "object" && json !== null && Array.isArray((json as { keys?: unknown }).keys)
      ? ((json as { keys: unknown[] }).keys as unknown[])
      : [json];
  const keys: JWK[] = [];
  for (const candidate of candidates) {
    const { kty, crv, x } = (candidate ?? {}) as Record<string, unknown>;
    if (kty !== "OKP" || crv !== "Ed25519" || typeof x !== "string") {
      throw new UsageError(`key file ${file} holds a key that is not an Ed25519 JWK`);
    }
    keys.push({ kty, crv, x });
  }
  if (keys.length === 0) throw new UsageError(`key file ${file} holds no keys`);
  return keys;
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        key: { type: "string", multiple: true },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (parsed.values.help) {
    console.log(usage);
    return 0;
  }
  const [file, ...extra] = parsed.positionals;
  if (file === undefined || extra.length > 0) throw new UsageError("give one certificate file");

  const trustedKeys =
    parsed.values.key === undefined
      ? undefined
      : (await Promise.all(parsed.values.key.map(readTrustedKeys))).flat();
  // A certificate file that is read but is not JSON is a certificate that does not verify
  // (exit 1), like any other damage to it; only a file that cannot be read is an I/O error.
  const text = await readText(file, "certificate");
  let document: unknown;
  let result: CertificateVerification;
  try {
    document = JSON.parse(text);
    result = await verifyCertificate(document, { trustedKeys });
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    result = { ok: false, problems: [`not JSON: ${error.message}`], warnings: [] };
  }

  if (!result.ok) {
    const count = result.problems.length;
    console.log(`FAILED: ${file} does not verify (${count} problem${count === 1 ? "" : "s"}):`);
    for (const problem of result.problems) console.log(`  - ${problem}`);
    for (const warning of result.warnings) console.error(`warning: ${warning}`);
    return 1;
  }

  // Verified, so the document has the certificate's shape.
  const cert = document as Certificate;
  const excursions = cert.summary.excursions.length;
  console.log(`OK: ${file} verifies`);
  console.log(`  order       ${cert.order.id} (${cert.order.temperatureClass})`);
  console.log(`  readings    ${cert.chain.count}`);
  console.log(`  final hash  ${cert.chain.finalHash}`);
  console.log(
    `  verdict     ${cert.summary.verdict}${excursions > 0 ? ` (${excursions} excursion${excursions === 1 ? "" : "s"})` : ""}`,
  );
  console.log(
    `  signed by   ${cert.signature.kid}${trustedKeys === undefined ? "" : " (a trusted key)"}`,
  );
  for (const warning of result.warnings) console.error(`warning: ${warning}`);
  return 0;
}

try {
  process.exitCode = await main();
} catch (error) {
  if (error instanceof UsageError || error instanceof CertificateKeyError) {
    console.error(`verify-certificate: ${error.message}\n${usage}`);
    process.exitCode = 2;
  } else {
    throw error;
  }
}
