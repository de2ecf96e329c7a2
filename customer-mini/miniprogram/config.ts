/**
 * Where the gateway lives. A mini-program may only reach domains registered in its admin
 * console, so this is fixed per build rather than read at run time.
 */
export const GATEWAY_ORIGIN = "https://api.xianda.example";

/** Map centre before the courier is known: Kunming, GCJ-02. */
export const DEFAULT_CENTER = { latitude: 25.0406, longitude: 102.7123 } as const;
