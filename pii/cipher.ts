/**
 * Field-level encryption of personal data: AES-256-GCM (node:crypto), a fresh 96-bit IV per
 * value, the key named in the ciphertext, and the record and field as associated data, so a
 * ciphertext copied to another order or another column does not decrypt.
 *
 *   v1.<kid>.<iv>.<ciphertext>.<tag>       (each part base64url, no padding)
 *
 * The format is plain ASCII without `.` inside a part, so it fits a text column, a JSON string
 * and the order actor's schema (`PiiCiphertext` in protocol/actors/order.ts) as it is.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { PiiAuthenticationError, PiiFormatError, UnknownPiiKeyError } from "./errors.ts";
import type { PiiKeyring } from "./keyring.ts";

const VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;
const PART = /^[A-Za-z0-9_-]*$/;

/** What a value belongs to: bound into its ciphertext as associated data. */
export interface PiiContext {
  /** The record, e.g. the order id. */
  readonly recordId: string;
  /** The field, e.g. `phone`. */
  readonly field: string;
}

function aad(context: PiiContext): Buffer {
  // Lengths first, so ("a.b", "c") and ("a", "b.c") can never give the same bytes.
  return Buffer.from(
    `xianda-pii/${VERSION}/${context.recordId.length}:${context.recordId}/${context.field.length}:${context.field}`,
    "utf8",
  );
}

interface Parsed {
  readonly kid: string;
  readonly iv: Buffer;
  readonly body: Buffer;
  readonly tag: Buffer;
}

function parse(ciphertext: string): Parsed {
  const parts = ciphertext.split(".");
  if (parts.length !== 5 || parts[0] !== VERSION || !parts.every((p) => PART.test(p))) {
    throw new PiiFormatError("not a personal-data ciphertext (v1.<kid>.<iv>.<ct>.<tag>)");
  }
  const [, kid, iv, body, tag] = parts as [string, string, string, string, string];
  const parsed = {
    kid,
    iv: Buffer.from(iv, "base64url"),
    body: Buffer.from(body, "base64url"),
    tag: Buffer.from(tag, "base64url"),
  };
  if (kid === "" || parsed.iv.length !== IV_BYTES || parsed.tag.length !== TAG_BYTES) {
    throw new PiiFormatError("personal-data ciphertext: wrong key id, IV or tag length");
  }
  return parsed;
}

export class PiiCipher {
  readonly #keyring: PiiKeyring;

  constructor(keyring: PiiKeyring) {
    this.#keyring = keyring;
  }

  /** The id new values are encrypted under. */
  get currentKeyId(): string {
    return this.#keyring.current;
  }

  /** Encrypts `plaintext` under the current key, bound to `context`. */
  encrypt(plaintext: string, context: PiiContext): string {
    const kid = this.#keyring.current;
    const key = this.#keyring.key(kid)!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(context));
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, kid, iv, body, tag]
      .map((p) => (typeof p === "string" ? p : p.toString("base64url")))
      .join(".");
  }

  /**
   * The plaintext of `ciphertext`, written for `context`. Throws PiiFormatError (not a
   * ciphertext), UnknownPiiKeyError (its key is not in the ring) or PiiAuthenticationError
   * (altered, or written for another record or field).
   */
  decrypt(ciphertext: string, context: PiiContext): string {
    const { kid, iv, body, tag } = parse(ciphertext);
    const key = this.#keyring.key(kid);
    if (key === null) throw new UnknownPiiKeyError(kid);
    const decipher = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad(context));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(body), decipher.final()]).toString("utf8");
    } catch (error) {
      throw new PiiAuthenticationError(
        `personal-data ciphertext for ${context.field} of ${context.recordId} does not authenticate`,
        { cause: error },
      );
    }
  }

  /** The key id a ciphertext names; PiiFormatError if it is not one. */
  keyIdOf(ciphertext: string): string {
    return parse(ciphertext).kid;
  }

  /** Whether `ciphertext` is under an older key than the current one. */
  needsRotation(ciphertext: string): boolean {
    return this.keyIdOf(ciphertext) !== this.#keyring.current;
  }

  /**
   * The value re-encrypted under the current key; the same string when it already is (so a
   * rotation run twice writes nothing the second time).
   */
  rotate(ciphertext: string, context: PiiContext): string {
    if (!this.needsRotation(ciphertext)) return ciphertext;
    return this.encrypt(this.decrypt(ciphertext, context), context);
  }
}
