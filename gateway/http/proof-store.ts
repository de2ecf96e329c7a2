/**
 * Proof-of-delivery photos. The project has no blob store and the database no photo table, so
 * photos are content-addressed files: `<dir>/<sha256 hex>`, referred to as `sha256:<hex>` (the
 * `photoRef` the order actor records). Anything else that can keep bytes by digest (an object
 * store) fits the same interface.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile, rename, stat, writeFile, rm } from "node:fs/promises";
import { join } from "node:path";

export type ImageType = "image/jpeg" | "image/png" | "image/webp";
export const IMAGE_TYPES: readonly ImageType[] = ["image/jpeg", "image/png", "image/webp"];

export interface StoredProof {
  /** `sha256:<64 hex>` of the bytes. */
  readonly ref: string;
  readonly bytes: number;
  readonly contentType: ImageType;
}

export interface ProofStore {
  /** Keeps the photo; the same bytes twice are kept once, under the same ref. */
  put(bytes: Uint8Array, contentType: ImageType): Promise<StoredProof>;
  /** Whether a photo with this ref is kept. */
  has(ref: string): Promise<boolean>;
  /** The photo, or null when there is none. */
  get(ref: string): Promise<{ bytes: Uint8Array; contentType: ImageType } | null>;
}

const REF = /^sha256:([0-9a-f]{64})$/;

/** The image type the bytes start with (magic numbers), or null when they are none of ours. */
export function sniffImage(bytes: Uint8Array): ImageType | null {
  const at = (i: number) => bytes[i];
  if (bytes.length >= 3 && at(0) === 0xff && at(1) === 0xd8 && at(2) === 0xff) return "image/jpeg";
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length >= 8 && png.every((b, i) => at(i) === b)) return "image/png";
  const ascii = (from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));
  if (bytes.length >= 12 && ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") return "image/webp";
  return null;
}

export function proofRef(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** Photos as files under `dir` (created on first use), written atomically (temp file, rename). */
export function createFileProofStore(dir: string): ProofStore {
  let ready: Promise<unknown> | null = null;
  const ensureDir = () => (ready ??= mkdir(dir, { recursive: true }));
  const pathOf = (ref: string): string | null => {
    const hex = REF.exec(ref)?.[1];
    return hex ? join(dir, hex) : null;
  };
  return {
    async put(bytes, contentType) {
      const ref = proofRef(bytes);
      const path = pathOf(ref)!;
      await ensureDir();
      const exists = await stat(path).then(
        () => true,
        () => false,
      );
      if (!exists) {
        const temp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
        try {
          await writeFile(temp, bytes);
          await rename(temp, path);
        } finally {
          await rm(temp, { force: true });
        }
      }
      return { ref, bytes: bytes.length, contentType };
    },
    async has(ref) {
      const path = pathOf(ref);
      if (!path) return false;
      return stat(path).then(
        (s) => s.isFile(),
        () => false,
      );
    },
    async get(ref) {
      const path = pathOf(ref);
      if (!path) return null;
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await readFile(path));
      } catch {
        return null;
      }
      const contentType = sniffImage(bytes);
      return contentType ? { bytes, contentType } : null;
    },
  };
}
