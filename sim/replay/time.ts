/**
 * ISO-8601 times as scenarios write them. An offset (Z or ±hh:mm) is required: a time without
 * one would mean the local zone of whatever machine runs the replay. Output keeps the offset of
 * the scenario's start, so a Kunming day reads in Kunming time.
 */

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|([+-])(\d{2}):(\d{2}))$/;

export interface IsoTime {
  readonly ms: number;
  readonly offsetMinutes: number;
}

/** Epoch ms and UTC offset of an ISO-8601 time, or null when the text is not one. */
export function parseIsoTime(text: string): IsoTime | null {
  const m = ISO.exec(text);
  if (m === null) return null;
  const [, y, mo, d, h, mi, s, frac, zone, sign, oh, om] = m;
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = s === undefined ? 0 : Number(s);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) {
    return null;
  }
  const offsetMinutes = zone === "Z" ? 0 : (sign === "-" ? -1 : 1) * (Number(oh) * 60 + Number(om));
  const ms = frac === undefined ? 0 : Number(frac.padEnd(3, "0"));
  const utc = Date.UTC(Number(y), month - 1, day, hour, minute, second, ms);
  // Date.UTC rolls 31 February into March: refuse what does not round-trip.
  const check = new Date(utc);
  if (check.getUTCDate() !== day || check.getUTCMonth() !== month - 1) return null;
  return { ms: utc - offsetMinutes * 60_000, offsetMinutes };
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** `2026-03-10T12:04:30+08:00` (milliseconds only when there are some). */
export function formatIsoTime(epochMs: number, offsetMinutes: number): string {
  const ms = Math.round(epochMs);
  const local = new Date(ms + offsetMinutes * 60_000);
  const frac = local.getUTCMilliseconds();
  const sign = offsetMinutes < 0 ? "-" : "+";
  const abs = Math.abs(offsetMinutes);
  const zone = offsetMinutes === 0 ? "Z" : `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  return (
    `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}` +
    `T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}` +
    (frac === 0 ? "" : `.${pad(frac, 3)}`) +
    zone
  );
}
