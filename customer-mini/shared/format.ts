import type { Locale } from "./types.ts";

/** Orders are delivered in mainland China: every time on a screen is Beijing time. */
export const TIME_ZONE = "Asia/Shanghai";
/** Asia/Shanghai has had no daylight saving since 1991: a fixed offset is the fallback. */
const SHANGHAI_OFFSET_MS = 8 * 3_600_000;

const clockFormats = new Map<Locale, Intl.DateTimeFormat | null>();

function clockFormat(locale: Locale): Intl.DateTimeFormat | null {
  if (!clockFormats.has(locale)) {
    let format: Intl.DateTimeFormat | null = null;
    try {
      format = new Intl.DateTimeFormat(locale, {
        timeZone: TIME_ZONE,
        hour: "2-digit",
        minute: "2-digit",
        hourCycle: "h23",
      });
    } catch {
      // Some mini-program JS engines ship Intl without time zone data.
      format = null;
    }
    clockFormats.set(locale, format);
  }
  return clockFormats.get(locale) ?? null;
}

/** "12:40" in Beijing time. */
export function formatClock(ms: number, locale: Locale = "zh-CN"): string {
  const format = clockFormat(locale);
  if (format) {
    const parts = format.formatToParts(new Date(ms));
    const hour = parts.find((p) => p.type === "hour")?.value;
    const minute = parts.find((p) => p.type === "minute")?.value;
    if (hour !== undefined && minute !== undefined) return `${hour.padStart(2, "0")}:${minute}`;
  }
  const local = new Date(ms + SHANGHAI_OFFSET_MS);
  const hh = String(local.getUTCHours()).padStart(2, "0");
  const mm = String(local.getUTCMinutes()).padStart(2, "0");
  return `${hh}:${mm}`;
}

/** Money is integer fen: 6100 → "¥61.00". */
export function formatFen(fen: number): string {
  const sign = fen < 0 ? "-" : "";
  const abs = Math.abs(Math.round(fen));
  return `${sign}¥${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

/** "2.5°C", "-18.0°C". */
export function formatCelsius(celsius: number): string {
  return `${celsius.toFixed(1)}°C`;
}
