export { Projector, ProjectorMetrics } from "./projector.ts";
export type { ProjectorOptions } from "./projector.ts";
