import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCertificate, loadSigner, publicJwks } from "../coldchain/index.ts";
import type { Certificate } from "../coldchain/index.ts";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const T0 = Date.UTC(2025, 0, 1, 1, 0, 0);

type Run = { code: number; stdout: string; stderr: string };

/** Runs the CLI as `npm run verify-certificate` does. */
function verify(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "bin/verify-certificate.ts", ...args],
      { cwd: root },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const newPem = () =>
  generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();

let dir: string;
let cert: Certificate;
const file = (name: string) => join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "xianda-verify-certificate-"));
  const signer = await loadSigner({ pem: newPem() });
  const stranger = await loadSigner({ pem: newPem() });
  cert = await buildCertificate(
    {
      orderId: "O-7",
      temperatureClass: "chilled",
      vehicleId: "V-1",
      compartmentId: "C1",
      compartmentClass: "chilled",
      range: { minC: 0, maxC: 4 },
      handedOffAt: T0,
      deliveredAt: T0 + 600_000,
      readings: [
        { seq: 10, at: T0 - 5_000, celsius: 3, doorOpen: false },
        { seq: 11, at: T0 + 60_000, celsius: 3.5, doorOpen: false },
        { seq: 12, at: T0 + 120_000, celsius: 2.25, doorOpen: true },
      ],
      excursions: [],
    },
    signer,
    { issuedAt: T0 + 700_000 },
  );
  const edited = structuredClone(cert);
  edited.readings[1]!.celsius = 3.4;
  await writeFile(file("good.json"), JSON.stringify(cert, null, 2));
  await writeFile(file("edited.json"), JSON.stringify(edited, null, 2));
  await writeFile(file("jwks.json"), JSON.stringify(publicJwks(signer)));
  await writeFile(file("stranger.jwk.json"), JSON.stringify(publicJwks(stranger).keys[0]));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("npm run verify-certificate", () => {
  it("exits 0 for a good certificate, printing order, readings, final hash and verdict", async () => {
    const run = await verify(file("good.json"));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`OK: ${file("good.json")} verifies`);
    expect(run.stdout).toMatch(/order +O-7 \(chilled\)/);
    expect(run.stdout).toMatch(/readings +3\n/);
    expect(run.stdout).toContain(cert.chain.finalHash);
    expect(run.stdout).toMatch(/verdict +ok\n/);
    expect(run.stderr).toContain("warning: authenticity not checked");
  });

  it("exits 1 for an edited certificate, listing each problem", async () => {
    const run = await verify(file("edited.json"));
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("does not verify");
    expect(run.stdout).toContain("  - reading #2 (seq 11) does not match the chain");
    expect(run.stdout).toContain("  - the signature does not cover this document");
  });

  it("checks the issuer with --key: a JWKS of the issuer passes, another key fails", async () => {
    const trusted = await verify(file("good.json"), "--key", file("jwks.json"));
    expect(trusted.code).toBe(0);
    expect(trusted.stdout).toContain("(a trusted key)");
    expect(trusted.stderr).toBe("");

    const stranger = await verify(file("good.json"), "--key", file("stranger.jwk.json"));
    expect(stranger.code).toBe(1);
    expect(stranger.stdout).toContain("is not one of the 1 trusted key(s)");
  });

  it("exits 2 on usage and I/O errors", async () => {
    const missing = await verify(file("missing.json"));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("cannot read certificate");
    expect((await verify()).code).toBe(2);
    expect((await verify(file("good.json"), "--key", file("missing.json"))).code).toBe(2);
  });
});
