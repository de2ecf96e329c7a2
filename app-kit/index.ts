/**
 * What the browser apps share (driver app, dispatcher console): a reconnecting websocket with
 * capped, jittered back-off, live channels that resume from their last offset, token sessions
 * and the page config. Browser code: it imports only protocol/. The Node-side bundler the apps'
 * build scripts use is `app-kit/bundle.ts`, imported directly (it needs esbuild).
 */
export * from "./backoff.ts";
export * from "./config.ts";
export * from "./live.ts";
export * from "./session.ts";
export * from "./socket.ts";
