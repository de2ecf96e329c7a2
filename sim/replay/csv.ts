/**
 * CSV as the scenarios use it: a header row, comma-separated fields, optional double quotes
 * (RFC 4180, "" for a quote inside). Every row keeps its line number for error messages.
 */
import { ScenarioError } from "./errors.ts";

export interface CsvRow {
  /** 1-based line where the row starts. */
  readonly line: number;
  readonly fields: Readonly<Record<string, string>>;
}

export interface CsvTable {
  readonly header: readonly string[];
  readonly rows: readonly CsvRow[];
}

/** Splits CSV text into records of fields, with the line each record starts on. */
function records(text: string, file: string): { line: number; fields: string[] }[] {
  const out: { line: number; fields: string[] }[] = [];
  let fields: string[] = [];
  let field = "";
  let quoted = false;
  let line = 1;
  let startLine = 1;
  let fieldStarted = false;
  const endRecord = () => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === "" && !fieldStarted)) {
      out.push({ line: startLine, fields });
    }
    fields = [];
    field = "";
    fieldStarted = false;
  };
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (quoted) {
      if (ch === '"') {
        if (body[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (ch === "\n") line++;
        field += ch;
      }
      continue;
    }
    if (ch === '"' && field === "") {
      quoted = true;
      fieldStarted = true;
    } else if (ch === ",") {
      fields.push(field);
      field = "";
      fieldStarted = true;
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && body[i + 1] === "\n") i++;
      endRecord();
      line++;
      startLine = line;
    } else {
      field += ch;
      fieldStarted = true;
    }
  }
  if (quoted) throw new ScenarioError(file, startLine, "a quoted field is never closed");
  if (field !== "" || fields.length > 0 || fieldStarted) endRecord();
  return out;
}

/**
 * Parses a CSV file that must have at least the `required` columns (others are kept: optional
 * columns). Rows with a different number of fields than the header are errors.
 */
export function parseCsv(text: string, file: string, required: readonly string[]): CsvTable {
  const all = records(text, file);
  const head = all[0];
  if (head === undefined) throw new ScenarioError(file, null, "the file is empty (no header row)");
  const header = head.fields.map((h) => h.trim());
  const seen = new Set<string>();
  for (const h of header) {
    if (seen.has(h)) throw new ScenarioError(file, head.line, `column "${h}" appears twice`);
    seen.add(h);
  }
  const missing = required.filter((r) => !seen.has(r));
  if (missing.length > 0) {
    throw new ScenarioError(
      file,
      head.line,
      `missing column${missing.length > 1 ? "s" : ""} ${missing.map((m) => `"${m}"`).join(", ")} (header: ${header.join(",")})`,
    );
  }
  const rows: CsvRow[] = [];
  for (const r of all.slice(1)) {
    if (r.fields.length !== header.length) {
      throw new ScenarioError(
        file,
        r.line,
        `${r.fields.length} fields where the header has ${header.length}`,
      );
    }
    const fields: Record<string, string> = {};
    header.forEach((h, i) => (fields[h] = r.fields[i]!.trim()));
    rows.push({ line: r.line, fields });
  }
  return { header, rows };
}

/** One CSV line; quotes a field only when it needs them. */
export function csvLine(fields: readonly string[]): string {
  return fields.map((f) => (/[",\r\n]/.test(f) ? `"${f.replaceAll('"', '""')}"` : f)).join(",");
}
