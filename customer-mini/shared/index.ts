export * from "./types.ts";
export * from "./i18n.ts";
export * from "./format.ts";
export * from "./token.ts";
export * from "./reconnect.ts";
export * from "./session.ts";
export * from "./view.ts";
export * from "./connection.ts";
