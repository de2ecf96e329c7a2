/**
 * The personal-data keyring: AES-256 keys by id, the first one current (new data is encrypted
 * under it), the others kept to decrypt what was written before a rotation.
 *
 * Written as `XIANDA_PII_KEYS="<kid>:<base64 key>,<kid>:<base64 key>,..."`, each key 32 random
 * bytes in base64 or base64url (`openssl rand -base64 32`). A development stack keeps its
 * keyring in a file, made on first use (`loadKeyring({ file })`).
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { PiiKeyringError } from "./errors.ts";

/** Key ids go into every ciphertext: short, and free of the format's `.` separator. */
export const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const KEY_BYTES = 32;

export interface PiiKeyring {
  /** The id new ciphertexts are written under (the first in the ring). */
  readonly current: string;
  /** Every key id, the current one first. */
  readonly ids: readonly string[];
  /** The key with this id, or null. */
  key(kid: string): Buffer | null;
}

/** Parses `kid:base64,kid:base64,...`; throws PiiKeyringError naming what is wrong (never the key). */
export function parseKeyring(text: string): PiiKeyring {
  const entries = text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter((s) => s !== "" && !s.startsWith("#"));
  if (entries.length === 0) throw new PiiKeyringError("the personal-data keyring is empty");
  const keys = new Map<string, Buffer>();
  entries.forEach((entry, i) => {
    const colon = entry.indexOf(":");
    if (colon < 0) {
      throw new PiiKeyringError(`keyring entry ${i + 1}: expected <kid>:<base64 key>`);
    }
    const kid = entry.slice(0, colon);
    const encoded = entry.slice(colon + 1);
    if (!KEY_ID.test(kid)) {
      throw new PiiKeyringError(
        `keyring entry ${i + 1}: key id must be 1-32 of A-Z a-z 0-9 _ - (got "${kid.slice(0, 40)}")`,
      );
    }
    if (keys.has(kid)) throw new PiiKeyringError(`keyring: key id "${kid}" appears twice`);
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded)) {
      throw new PiiKeyringError(`keyring key "${kid}": not base64`);
    }
    const key = Buffer.from(encoded.replace(/-/g, "+").replace(/_/g, "/"), "base64");
    if (key.length !== KEY_BYTES) {
      throw new PiiKeyringError(
        `keyring key "${kid}": ${key.length} bytes; AES-256 needs ${KEY_BYTES} (openssl rand -base64 32)`,
      );
    }
    keys.set(kid, key);
  });
  const ids = [...keys.keys()];
  return { current: ids[0]!, ids, key: (kid) => keys.get(kid) ?? null };
}

/** A new keyring entry `<kid>:<base64 key>` with a fresh random key. */
export function newKeyringEntry(kid: string): string {
  if (!KEY_ID.test(kid)) throw new PiiKeyringError(`key id must be 1-32 of A-Z a-z 0-9 _ -`);
  return `${kid}:${randomBytes(KEY_BYTES).toString("base64")}`;
}

export interface LoadKeyringOptions {
  /** The keyring text (`XIANDA_PII_KEYS`). Give this or `file`, not both. */
  readonly keys?: string;
  /**
   * Where a development keyring is kept: read if it exists, else made with one random key
   * (mode 0600, its folder 0700), so a development stack keeps reading what it wrote.
   */
  readonly file?: string;
}

/** Throws PiiKeyringError when the keyring is missing, unreadable or malformed. */
export async function loadKeyring(options: LoadKeyringOptions): Promise<PiiKeyring> {
  if (options.keys !== undefined && options.file !== undefined) {
    throw new PiiKeyringError("give the personal-data keyring as keys or as file, not both");
  }
  if (options.keys !== undefined) return parseKeyring(options.keys);
  if (options.file !== undefined) return parseKeyring(await readOrCreate(options.file));
  throw new PiiKeyringError("no personal-data keyring: give keys or file");
}

async function readOrCreate(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    if (!isErrno(error, "ENOENT")) {
      throw new PiiKeyringError(`cannot read the personal-data keyring ${file}`, { cause: error });
    }
  }
  const text = `${newKeyringEntry(`dev-${randomBytes(4).toString("hex")}`)}\n`;
  try {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    // `wx`: two processes starting together end up with the same keyring, never two.
    await writeFile(file, text, { mode: 0o600, flag: "wx" });
    return text;
  } catch (error) {
    if (isErrno(error, "EEXIST")) return readFile(file, "utf8");
    throw new PiiKeyringError(`cannot write a new personal-data keyring to ${file}`, {
      cause: error,
    });
  }
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}
