import { timestamp } from "drizzle-orm/pg-core";

/**
 * Value lists shared by several tables. They are stored as `text` with a CHECK constraint rather
 * than a Postgres enum type: adding a value to a CHECK is one ordinary migration, while
 * `ALTER TYPE ... ADD VALUE` cannot be used in the transaction that adds it.
 */
export const TEMPERATURE_CLASSES = ["ambient", "chilled", "frozen"] as const;
export type TemperatureClass = (typeof TEMPERATURE_CLASSES)[number];

/** The roles that can appear as an actor in the audit log and as the author of an assignment. */
export const PRINCIPAL_ROLES = [
  "courier",
  "dispatcher",
  "store",
  "shopper",
  "admin",
  "system",
] as const;
export type PrincipalRole = (typeof PRINCIPAL_ROLES)[number];

/** `timestamp with time zone`, read and written as a JS `Date`. */
export const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

/** SQL list literal for a CHECK constraint: `('a', 'b')`. Values are our own constants. */
export function sqlList(values: readonly string[]): string {
  return `(${values.map((v) => `'${v.replaceAll("'", "''")}'`).join(", ")})`;
}
