/** sim/city: a simulated city live on the platform (places, demand, the running world). */
export * from "./cities.ts";
export * from "./clock.ts";
export * from "./demand.ts";
export * from "./summary.ts";
export * from "./world.ts";
export { GatewayHttp, GatewayUnreachableError, LiveSocket } from "./api.ts";
export type { HttpAnswer, LiveSocketOptions } from "./api.ts";
