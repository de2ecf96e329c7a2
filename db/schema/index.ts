/** Every table of xianda's history database. drizzle-kit reads this file to generate migrations. */
export * from "./common.ts";
export * from "./stores.ts";
export * from "./fleet.ts";
export * from "./zones.ts";
export * from "./orders.ts";
export * from "./dispatch.ts";
export * from "./audit.ts";
export * from "./cold-chain.ts";
