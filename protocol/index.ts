export * from "./ids.ts";
export * from "./envelope.ts";
