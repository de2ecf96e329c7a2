/**
 * `npm run pii:rotate [-- --batch 500] [--dry-run]`
 *
 * Re-encrypts every shopper contact in Postgres (`orders.*_enc`) under the current key of the
 * personal-data keyring (the first in XIANDA_PII_KEYS), in batches of `--batch` rows, each row
 * written only if it still holds what was read. Idempotent: values already under the current key
 * are left alone, so running it again writes nothing, and an interrupted run resumes by running
 * again. Prints what it did; exits 0 when every row is under the current key, 1 when some could
 * not be decrypted (their key is not in the ring: put it back, run again), 2 on a usage error.
 */
import { parseArgs } from "node:util";
import { ordersToReencrypt, replaceOrderCiphertexts } from "../db/index.ts";
import { PiiCipher, rotateContacts } from "../pii/index.ts";
import { loadConfig } from "./config.ts";
import { openHistory } from "./history.ts";
import { piiKeyring } from "./pii.ts";

const usage = "usage: npm run pii:rotate -- [--batch <rows, default 500>] [--dry-run]";

async function main(): Promise<number> {
  let batch = 500;
  let dryRun = false;
  try {
    const { values } = parseArgs({
      options: { batch: { type: "string" }, "dry-run": { type: "boolean" } },
      strict: true,
    });
    if (values.batch !== undefined) {
      batch = Number(values.batch);
      if (!Number.isInteger(batch) || batch < 1 || batch > 10_000) {
        throw new Error(`--batch: a whole number of rows from 1 to 10000, not ${values.batch}`);
      }
    }
    dryRun = values["dry-run"] ?? false;
  } catch (err) {
    console.error(`${(err as Error).message}\n${usage}`);
    return 2;
  }
  const config = loadConfig();
  const cipher = new PiiCipher(await piiKeyring(config));
  const history = await openHistory(config);
  try {
    const started = Date.now();
    const report = await rotateContacts(
      cipher,
      {
        page: (kid, after, limit) => ordersToReencrypt(history.db, kid, after, limit),
        replace: (before, after) => replaceOrderCiphertexts(history.db, before, after),
      },
      {
        batchSize: batch,
        dryRun,
        onBatch: (r) =>
          console.log(
            `… ${r.examined} rows examined, ${r.rotated} re-encrypted, ${r.failed.length} failed`,
          ),
      },
    );
    console.log(
      `${dryRun ? "dry run: " : ""}${report.examined} orders under an older key, ` +
        `${report.rotated} re-encrypted under "${cipher.currentKeyId}", ` +
        `${report.skipped} changed meanwhile (run again), ${report.failed.length} could not be decrypted ` +
        `(${history.driver}, ${Date.now() - started} ms)`,
    );
    for (const f of report.failed.slice(0, 20)) console.error(`  ${f.id}: ${f.error}`);
    return report.failed.length > 0 ? 1 : 0;
  } finally {
    await history.close();
  }
}

process.exitCode = await main();
