/** The API's OpenAPI 3.1 document (from the routes' zod schemas) and its Swagger UI. */
export { jsonSchema, openApiDocument } from "./document.ts";
export type { OpenApiOptions } from "./document.ts";
export { openApiRoutes } from "./routes.ts";
