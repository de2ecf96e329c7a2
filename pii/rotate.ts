/**
 * Re-encrypting stored personal data under the keyring's current key, in batches, for any store
 * of rows keyed by id (the Postgres `orders` table in `npm run pii:rotate`). Idempotent: a value
 * already under the current key is left alone, so a second run writes nothing, and a run cut off
 * half-way resumes by running again.
 */
import type { PiiCipher } from "./cipher.ts";
import { CONTACT_FIELDS } from "./contact.ts";

/** One row's encrypted contact columns, as `orders` names them. */
export interface ContactCiphertexts {
  readonly id: string;
  readonly shopperNameEnc: string | null;
  readonly shopperPhoneEnc: string | null;
  readonly shopperAddressEnc: string | null;
  readonly shopperDoorNoteEnc: string | null;
}

export interface ContactCiphertextStore {
  /** Rows after `afterId` (ascending ids) with a column not under `currentKid`, at most `limit`. */
  page(currentKid: string, afterId: string | null, limit: number): Promise<ContactCiphertexts[]>;
  /** Writes `after` if the row still holds `before`; false when someone changed it meanwhile. */
  replace(before: ContactCiphertexts, after: Omit<ContactCiphertexts, "id">): Promise<boolean>;
}

export interface RotationReport {
  /** Rows read that had a column under an older key. */
  readonly examined: number;
  /** Rows re-encrypted and written. */
  readonly rotated: number;
  /** Rows changed by someone else between read and write (run again to take them). */
  readonly skipped: number;
  /** Rows whose ciphertext could not be decrypted (unknown key, tampered), by id. */
  readonly failed: readonly { readonly id: string; readonly error: string }[];
}

const COLUMNS = [
  ["shopperNameEnc", CONTACT_FIELDS.name],
  ["shopperPhoneEnc", CONTACT_FIELDS.phone],
  ["shopperAddressEnc", CONTACT_FIELDS.address],
  ["shopperDoorNoteEnc", CONTACT_FIELDS.doorNote],
] as const;

export async function rotateContacts(
  cipher: PiiCipher,
  store: ContactCiphertextStore,
  options: {
    readonly batchSize?: number;
    readonly dryRun?: boolean;
    onBatch?(r: RotationReport): void;
  } = {},
): Promise<RotationReport> {
  const batchSize = options.batchSize ?? 500;
  let examined = 0;
  let rotated = 0;
  let skipped = 0;
  const failed: { id: string; error: string }[] = [];
  for (let after: string | null = null; ;) {
    const rows = await store.page(cipher.currentKeyId, after, batchSize);
    if (rows.length === 0) break;
    for (const row of rows) {
      examined++;
      let next: Omit<ContactCiphertexts, "id">;
      try {
        const out: Record<string, string | null> = {};
        for (const [column, field] of COLUMNS) {
          const value = row[column];
          out[column] = value === null ? null : cipher.rotate(value, { recordId: row.id, field });
        }
        next = out as unknown as Omit<ContactCiphertexts, "id">;
      } catch (err) {
        failed.push({ id: row.id, error: (err as Error).name + ": " + (err as Error).message });
        continue;
      }
      if (options.dryRun) continue;
      if (await store.replace(row, next)) rotated++;
      else skipped++;
    }
    after = rows.at(-1)!.id;
    options.onBatch?.({ examined, rotated, skipped, failed });
  }
  return { examined, rotated, skipped, failed };
}
