/** Row types of the history tables: `X` is what a select returns, `NewX` what an insert takes. */
import type {
  assignments,
  auditLog,
  certificates,
  compartments,
  couriers,
  excursions,
  offers,
  orderEvents,
  orders,
  routes,
  stores,
  temperatureReadings,
  vehicles,
  zones,
} from "./schema/index.ts";

export type Store = typeof stores.$inferSelect;
export type NewStore = typeof stores.$inferInsert;
export type Courier = typeof couriers.$inferSelect;
export type NewCourier = typeof couriers.$inferInsert;
export type Vehicle = typeof vehicles.$inferSelect;
export type NewVehicle = typeof vehicles.$inferInsert;
export type Compartment = typeof compartments.$inferSelect;
export type NewCompartment = typeof compartments.$inferInsert;
export type Zone = typeof zones.$inferSelect;
export type NewZone = typeof zones.$inferInsert;
export type Order = typeof orders.$inferSelect;
export type NewOrder = typeof orders.$inferInsert;
export type OrderEvent = typeof orderEvents.$inferSelect;
export type NewOrderEvent = typeof orderEvents.$inferInsert;
export type Offer = typeof offers.$inferSelect;
export type NewOffer = typeof offers.$inferInsert;
export type Assignment = typeof assignments.$inferSelect;
export type NewAssignment = typeof assignments.$inferInsert;
export type Route = typeof routes.$inferSelect;
export type NewRoute = typeof routes.$inferInsert;
export type AuditEntry = typeof auditLog.$inferSelect;
export type NewAuditEntry = typeof auditLog.$inferInsert;
export type TemperatureReading = typeof temperatureReadings.$inferSelect;
export type NewTemperatureReading = typeof temperatureReadings.$inferInsert;
export type Excursion = typeof excursions.$inferSelect;
export type NewExcursion = typeof excursions.$inferInsert;
export type Certificate = typeof certificates.$inferSelect;
export type NewCertificate = typeof certificates.$inferInsert;
