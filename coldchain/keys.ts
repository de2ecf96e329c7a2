/**
 * The certificate signing key: an Ed25519 private key in PKCS#8 PEM, given inline (from a
 * secret store) or kept in a file that is created on first use.
 *
 * The key id is the key's JWK thumbprint (RFC 7638), so it needs no registry: a verifier that
 * has the public key can compute it, and a new key gets a new id by itself.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { CompactSign, calculateJwkThumbprint } from "jose";
import type { JWK } from "jose";
import { CertificateKeyError } from "./certificate.ts";
import type { CertificateSigner } from "./certificate.ts";

export type LoadSignerOptions = {
  /** A PKCS#8 PEM Ed25519 private key. Give this or `file`, not both. */
  pem?: string;
  /**
   * Where the PEM is kept. Read if it exists; otherwise a new key is generated and written there
   * (mode 0600, its folder created with mode 0700), so a development stack signs from its first
   * start and keeps signing with the same key across restarts.
   */
  file?: string;
};

/** Throws CertificateKeyError when the key is missing, unreadable or not Ed25519. */
export async function loadSigner(options: LoadSignerOptions): Promise<CertificateSigner> {
  if (options.pem !== undefined && options.file !== undefined) {
    throw new CertificateKeyError("give the signing key as pem or as file, not both");
  }
  if (options.pem !== undefined) return signerFromPem(options.pem, "the given PEM");
  if (options.file !== undefined)
    return signerFromPem(await readOrCreate(options.file), options.file);
  throw new CertificateKeyError("no signing key: give pem or file");
}

/** A JWKS (`/.well-known/jwks.json`) with the signer's public key, for verifiers to trust. */
export function publicJwks(signer: CertificateSigner): { keys: JWK[] } {
  const { kty, crv, x } = signer.publicKeyJwk;
  return { keys: [{ kty, crv, x, kid: signer.kid, alg: "EdDSA", use: "sig" }] };
}

async function readOrCreate(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    if (!isErrno(error, "ENOENT")) {
      throw new CertificateKeyError(`cannot read the signing key ${file}`, { cause: error });
    }
  }
  const { privateKey } = generateKeyPairSync("ed25519");
  const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  try {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    // `wx`: when two processes start together, one writes and the other reads its key, so
    // they never sign with different keys under the same file name.
    await writeFile(file, pem, { mode: 0o600, flag: "wx" });
    return pem;
  } catch (error) {
    if (isErrno(error, "EEXIST")) return readFile(file, "utf8");
    throw new CertificateKeyError(`cannot write a new signing key to ${file}`, { cause: error });
  }
}

async function signerFromPem(pem: string, source: string): Promise<CertificateSigner> {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pem, format: "pem" });
  } catch (error) {
    throw new CertificateKeyError(`${source} is not a PEM private key`, { cause: error });
  }
  if (privateKey.asymmetricKeyType !== "ed25519") {
    throw new CertificateKeyError(
      `${source} is a ${privateKey.asymmetricKeyType ?? "unknown"} key; certificates need Ed25519`,
    );
  }
  const { kty, crv, x } = createPublicKey(privateKey).export({ format: "jwk" });
  const publicKeyJwk: JWK = { kty, crv, x };
  const kid = await calculateJwkThumbprint(publicKeyJwk);
  return {
    kid,
    publicKeyJwk,
    sign: (payload) =>
      new CompactSign(payload).setProtectedHeader({ alg: "EdDSA", kid }).sign(privateKey),
  };
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}
