/**
 * Opening hours in Asia/Shanghai local time. China has used UTC+08:00 all year since 1991 (no
 * daylight saving), so local time is the instant plus a fixed offset: no time-zone database.
 */
import type { OpenHours, OpenInterval } from "../../protocol/actors/store.ts";

export const SHANGHAI_OFFSET_MS = 8 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface LocalTime {
  /** ISO weekday: 1 = Monday ... 7 = Sunday. */
  readonly isoWeekday: 1 | 2 | 3 | 4 | 5 | 6 | 7;
  /** Minutes since local midnight, 0-1439. */
  readonly minuteOfDay: number;
}

export function shanghaiLocalTime(now: number): LocalTime {
  const local = now + SHANGHAI_OFFSET_MS;
  const day = Math.floor(local / DAY_MS);
  // Day 0 (1970-01-01) was a Thursday, ISO weekday 4.
  const isoWeekday = ((((day + 3) % 7) + 7) % 7) + 1;
  const minuteOfDay = Math.floor((local - day * DAY_MS) / 60_000);
  return { isoWeekday: isoWeekday as LocalTime["isoWeekday"], minuteOfDay };
}

/** `"08:30"` → 510; `"24:00"` → 1440. */
export function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(":");
  return Number(h) * 60 + Number(m);
}

function dayKey(isoWeekday: number): keyof OpenHours {
  return String(isoWeekday) as keyof OpenHours;
}

const runsPastMidnight = (i: OpenInterval): boolean => minutesOf(i.close) <= minutesOf(i.open);

/** Whether `now` falls inside the opening hours (an interval may run past midnight). */
export function isOpenAt(hours: OpenHours, now: number): boolean {
  const { isoWeekday, minuteOfDay } = shanghaiLocalTime(now);
  for (const interval of hours[dayKey(isoWeekday)] ?? []) {
    const open = minutesOf(interval.open);
    const close = minutesOf(interval.close);
    if (
      runsPastMidnight(interval) ? minuteOfDay >= open : minuteOfDay >= open && minuteOfDay < close
    ) {
      return true;
    }
  }
  const yesterday = isoWeekday === 1 ? 7 : isoWeekday - 1;
  for (const interval of hours[dayKey(yesterday)] ?? []) {
    if (runsPastMidnight(interval) && minuteOfDay < minutesOf(interval.close)) return true;
  }
  return false;
}

/** A description of what is wrong with the hours, or null when they are usable. */
export function openHoursProblem(hours: OpenHours): string | null {
  for (const [day, intervals] of Object.entries(hours)) {
    for (const interval of intervals ?? []) {
      if (interval.open === "24:00") return `day ${day}: an interval cannot open at 24:00`;
      if (interval.open === interval.close) {
        return `day ${day}: an interval must not open and close at the same time`;
      }
    }
  }
  return null;
}
