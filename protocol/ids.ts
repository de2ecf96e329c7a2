import { z } from "zod";

/**
 * Actor ids and types become NATS subject tokens (`cmd.<p>.<type>.<id>`), so they are limited to
 * characters that are safe in a token and in a KV key.
 */
export const ActorType = z
  .string()
  .regex(/^[a-z][a-z0-9]{0,31}$/, "actor type: lowercase letters and digits, 1-32 chars");
export const ActorId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, "actor id: letters, digits, '_' or '-', 1-64 chars");
/** Command ids are deduplication keys: unique per command, stable across a client's retries. */
export const CommandId = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,128}$/, "command id: letters, digits, '_.:-', 1-128 chars");

export const ActorRefSchema = z.object({ type: ActorType, id: ActorId });

export const PrincipalSchema = z.object({
  role: z.enum(["courier", "dispatcher", "store", "shopper", "admin", "system"]),
  id: z.string().min(1).max(128),
});

/** Money is integer fen (1 CNY = 100 fen). */
export const Fen = z.number().int().nonnegative();

/** WGS-84 coordinates inside the system (GCJ-02 is converted at the edges). */
export const LatLng = z.object({
  lat: z.number().finite().min(-90).max(90),
  lng: z.number().finite().min(-180).max(180),
});
export type LatLng = z.infer<typeof LatLng>;

export const TemperatureClass = z.enum(["ambient", "chilled", "frozen"]);
export type TemperatureClass = z.infer<typeof TemperatureClass>;
