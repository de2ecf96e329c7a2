/**
 * geo/: the ground floor for places and time on the road. H3 courier index and zones, GPS
 * sanity and arrival detection, WGS-84 ⇄ GCJ-02, and ETA windows (OSRM when configured, else a
 * model corrected by speeds learned from couriers' traces). No I/O except the OSRM client's
 * fetch; persistence is `toJSON`/`fromJSON` for the caller to store.
 */
export type { GeoJsonPolygon, LatLng, Mode, Zone } from "./types.ts";
export { MODES } from "./types.ts";
export {
  EARTH_RADIUS_METERS,
  InvalidCoordinateError,
  assertLatLng,
  haversine,
  haversineMeters,
  hourOfWeek,
  isValidLatLng,
  toGcj02,
  toWgs84,
} from "./coords.ts";
export { FixFilter, fixFilterDefaults } from "./fix-filter.ts";
export type {
  AcceptedFix,
  FixFilterOptions,
  FixRejection,
  FixVerdict,
  RawFix,
} from "./fix-filter.ts";
export { ArrivalDetector, arrivalDefaults, arrivalStep, initialArrivalState } from "./arrival.ts";
export type { ArrivalFix, ArrivalOptions, ArrivalState, ArrivalUpdate } from "./arrival.ts";
export { CourierIndex } from "./courier-index.ts";
export type { CourierDistance, CourierIndexOptions, CourierPlace } from "./courier-index.ts";
export { InvalidZoneError, ZoneIndex, polygonContains } from "./zones.ts";
export { OsrmClient, OsrmError } from "./osrm.ts";
export type {
  OsrmClientOptions,
  OsrmFailure,
  TravelTable,
  TravelTime,
  TravelTimeSource,
} from "./osrm.ts";
export { SpeedTable, speedTableDefaults } from "./speeds.ts";
export type {
  LearnedSpeed,
  SpeedObservation,
  SpeedTableJson,
  SpeedTableOptions,
  TimedPoint,
} from "./speeds.ts";
export { DEFAULT_SPEEDS, EtaModel } from "./eta.ts";
export { seededRandom } from "./random.ts";
export type {
  EtaCalibration,
  EtaCalibrationJson,
  EtaEstimate,
  EtaLeg,
  EtaModelOptions,
  EtaSource,
} from "./eta.ts";
