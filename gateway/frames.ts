/** Reading up frames: JSON, a known type, the schema, and no field the schema does not know. */
import type { z } from "zod";

export type Read<T> =
  { ok: true; frame: T } | { ok: false; code: string; message: string; ref?: string };

/**
 * Parses one text frame against a discriminated union on `type`. Unknown fields are refused,
 * not stripped: a driver frame naming a courier (`courierId`) is an attempt to speak for
 * someone else and must fail loudly.
 */
export function readFrame<S extends z.ZodType>(
  schema: S,
  types: ReadonlySet<string>,
  data: string,
): Read<z.infer<S>> {
  let raw: unknown;
  try {
    raw = JSON.parse(data);
  } catch (err) {
    return { ok: false, code: "invalid_frame", message: `not JSON: ${(err as Error).message}` };
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return { ok: false, code: "invalid_frame", message: "a frame is a JSON object with a type" };
  }
  const type = (raw as { type?: unknown }).type;
  if (typeof type !== "string") {
    return { ok: false, code: "invalid_frame", message: "type: a string is required" };
  }
  if (!types.has(type)) {
    return {
      ok: false,
      code: "unknown_type",
      message: `unknown frame type "${type.slice(0, 64)}"; expected one of ${[...types].join(", ")}`,
      ref: type.slice(0, 64),
    };
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue?.path.length ? `${issue.path.join(".")}: ` : "";
    return {
      ok: false,
      code: "invalid_frame",
      message: `${at}${issue?.message ?? "invalid"}`,
      ref: type,
    };
  }
  const extra = unknownKey(raw, parsed.data, "");
  if (extra !== null) {
    return { ok: false, code: "invalid_frame", message: `${extra}: unknown field`, ref: type };
  }
  return { ok: true, frame: parsed.data };
}

/** The path of the first key of `raw` that the parsed value (zod strips unknown keys) lacks. */
function unknownKey(raw: unknown, parsed: unknown, path: string): string | null {
  if (Array.isArray(raw) && Array.isArray(parsed)) {
    for (let i = 0; i < raw.length; i++) {
      const found = unknownKey(raw[i], parsed[i], `${path}${path ? "." : ""}${i}`);
      if (found !== null) return found;
    }
    return null;
  }
  if (typeof raw !== "object" || raw === null || typeof parsed !== "object" || parsed === null) {
    return null;
  }
  for (const key of Object.keys(raw)) {
    const here = `${path}${path ? "." : ""}${key}`;
    // Own keys only: `in` would find `constructor`, `__proto__`, `toString` on any object.
    if (!Object.hasOwn(parsed, key)) return here;
    const found = unknownKey(
      (raw as Record<string, unknown>)[key],
      (parsed as Record<string, unknown>)[key],
      here,
    );
    if (found !== null) return found;
  }
  return null;
}
