import type { GatewayLimits } from "./types.ts";

/** The one place where the gateway's limits get their defaults. */
export function gatewayLimits(limits: Partial<GatewayLimits> = {}): GatewayLimits {
  return {
    maxFrameBytes: limits.maxFrameBytes ?? 16 * 1024,
    maxBodyBytes: limits.maxBodyBytes ?? 64 * 1024,
    maxPhotoBytes: limits.maxPhotoBytes ?? 5 * 1024 * 1024,
    bodyIdleMs: limits.bodyIdleMs ?? 10_000,
    maxConnectionsPerIp: limits.maxConnectionsPerIp ?? 200,
    maxChannelsPerConnection: limits.maxChannelsPerConnection ?? 256,
    locationRate: limits.locationRate ?? 20,
    clientQueue: limits.clientQueue ?? 256,
    socketHighWater: limits.socketHighWater ?? 256 * 1024,
  };
}

/** A shopper's tracking link keeps working this long after its order ends (delivered, ...). */
export const TRACKING_GRACE_MS = 2 * 60 * 60 * 1000;
/** Default lifetime of a tracking token. */
export const TRACKING_TOKEN_TTL_S = 24 * 60 * 60;
/** The server pings every socket this often and drops one that did not answer the last ping. */
export const PING_INTERVAL_MS = 15_000;
/** At most one `location_ack` per connection per this many ms; counts in between coalesce. */
export const ACK_INTERVAL_MS = 1000;
/** How long an authorization check may wait for an actor's state. */
export const ACTOR_QUERY_TIMEOUT_MS = 2_000;
/** A shopper connection re-checks that its order is still trackable this often. */
export const SHOPPER_RECHECK_MS = 60_000;
