/**
 * What a van's temperature logger publishes, read into readings. Pure: the bridge calls it for
 * every TELEMETRY message, tests call it directly.
 *
 * MQTT topic `fleet/vehicle/<vehicleId>/temp` (NATS subject `fleet.vehicle.<vehicleId>.temp`),
 * payload JSON, one of:
 *
 *   {"compartment":"C","celsius":2.4,"at":1763600000000,"door":false}     one reading
 *   {"readings":[{"compartment":"F","celsius":-19.1,"at":...}, ...]}       several compartments
 *   [{"compartment":"F",...}, ...]                                           the same, bare
 *
 * Field names loggers use differ, so each has aliases: `compartment` | `compartmentId`;
 * `celsius` | `temp`; `at` | `ts` (epoch milliseconds; a number below 10^11 is taken as epoch
 * seconds, which many loggers send; or an ISO 8601 string with its offset); `door` | `doorOpen`
 * (boolean, or "open"/"closed"). Anything else is rejected with a reason; nothing is guessed.
 */
import { ActorId } from "../protocol/ids.ts";
import type { ReadingRejection } from "../protocol/actors/vehicle.ts";

/** A reading as read from the payload, before the vehicle actor judges it. */
export interface ParsedReading {
  readonly compartmentId: string;
  readonly celsius: number;
  readonly at: number;
  readonly doorOpen?: boolean;
}

export type ParseResult =
  | { readonly ok: true; readonly vehicleId: string; readonly readings: ParsedReading[] }
  | {
      readonly ok: false;
      readonly vehicleId: string | null;
      readonly reason: ReadingRejection;
      readonly detail: string;
    };

/** More readings than this in one message is not a logger but a mistake (or an attack). */
export const MAX_READINGS_PER_MESSAGE = 64;
const SECONDS_BELOW = 1e11;

/** The vehicle id in a telemetry subject, or null when the subject is not one. */
export function vehicleOfSubject(subject: string, prefix = ""): string | null {
  if (!subject.startsWith(prefix)) return null;
  const parts = subject.slice(prefix.length).split(".");
  if (parts.length !== 4 || parts[0] !== "fleet" || parts[1] !== "vehicle" || parts[3] !== "temp")
    return null;
  return ActorId.safeParse(parts[2]).success ? parts[2]! : null;
}

type Fail = { reason: ReadingRejection; detail: string };

function fail(reason: ReadingRejection, detail: string): Fail {
  return { reason, detail };
}

function readTime(value: unknown): number | Fail {
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0)
      return fail("malformed", `time ${value} is not a time`);
    return Math.round(value < SECONDS_BELOW ? value * 1000 : value);
  }
  if (typeof value === "string") {
    // An offset is required: a logger's local time without one is ambiguous.
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)$/.test(value))
      return fail("malformed", `time "${value.slice(0, 40)}" is not ISO 8601 with an offset`);
    const ms = Date.parse(value);
    return Number.isFinite(ms) ? ms : fail("malformed", `time "${value}" is not a date`);
  }
  return fail("malformed", "a reading needs a time (`at` or `ts`)");
}

function readDoor(value: unknown): boolean | undefined | Fail {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "boolean") return value;
  if (value === "open") return true;
  if (value === "closed") return false;
  return fail("malformed", 'door must be true/false or "open"/"closed"');
}

function readOne(raw: unknown): ParsedReading | Fail {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    return fail("malformed", "a reading must be a JSON object");
  const r = raw as Record<string, unknown>;
  const compartment = r.compartment ?? r.compartmentId;
  if (typeof compartment !== "string" || compartment.length === 0 || compartment.length > 64)
    return fail("malformed", "a reading needs `compartment` (a string of 1-64 characters)");
  const celsius = r.celsius ?? r.temp;
  if (typeof celsius !== "number") {
    // JSON has no NaN: loggers send null, "NaN" or an error string for a broken probe.
    return fail(
      "not_a_number",
      `celsius ${JSON.stringify(celsius ?? null).slice(0, 40)} is not a number`,
    );
  }
  const at = readTime(r.at ?? r.ts);
  if (typeof at !== "number") return at;
  const door = readDoor(r.door ?? r.doorOpen);
  if (typeof door === "object") return door;
  return {
    compartmentId: compartment,
    celsius,
    at,
    ...(door === undefined ? {} : { doorOpen: door }),
  };
}

/** Reads one TELEMETRY message. A message with one bad reading is rejected whole. */
export function parseTelemetry(subject: string, payload: Uint8Array, prefix = ""): ParseResult {
  const vehicleId = vehicleOfSubject(subject, prefix);
  if (vehicleId === null)
    return {
      ok: false,
      vehicleId: null,
      reason: "malformed",
      detail: `subject ${subject} names no vehicle`,
    };
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    return { ok: false, vehicleId, reason: "malformed", detail: "payload is not JSON" };
  }
  const list = Array.isArray(body)
    ? body
    : typeof body === "object" &&
        body !== null &&
        Array.isArray((body as { readings?: unknown }).readings)
      ? (body as { readings: unknown[] }).readings
      : [body];
  if (list.length === 0)
    return { ok: false, vehicleId, reason: "malformed", detail: "no readings in the message" };
  if (list.length > MAX_READINGS_PER_MESSAGE)
    return {
      ok: false,
      vehicleId,
      reason: "malformed",
      detail: `${list.length} readings in one message (at most ${MAX_READINGS_PER_MESSAGE})`,
    };
  const readings: ParsedReading[] = [];
  for (const raw of list) {
    const r = readOne(raw);
    if ("reason" in r) return { ok: false, vehicleId, ...r };
    readings.push(r);
  }
  return { ok: true, vehicleId, readings };
}
