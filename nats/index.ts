export { AckedPublisher } from "./acked.ts";
export { BatchingPublisher, CoalescingPublisher } from "./coalesce.ts";
export type { AckedPublisherOptions, PublishOptions } from "./acked.ts";
export { connectNats } from "./connection.ts";
export type { NatsOptions } from "./connection.ts";
export {
  JS_MESSAGE_TOO_LARGE,
  JS_WRONG_LAST_SEQUENCE,
  PublishRefusedError,
  PublishInterruptedError,
  PublishTimeoutError,
  TopologyError,
  TopologyMissingError,
} from "./errors.ts";
export { fnv1a32, partitionOf, Subjects } from "./subjects.ts";
export { domainApi, ensureHubHistory, hubHistoryConfigs, hubHistoryNames } from "./hub.ts";
export type { CityHistorySource, HubHistoryOptions, HubHistoryStreams } from "./hub.ts";
export { destroyTopology, ensureTopology, Topology, topologyDefaults } from "./topology.ts";
export type { TopologyHandles, TopologyMode, TopologyOptions } from "./topology.ts";
export type { ActorAddress, PubAck } from "./types.ts";
export {
  deadLetterBucket,
  SERVICE_ROLES,
  sensorPermissions,
  servicePermissions,
} from "./permissions.ts";
export type { RolePermissions, ServiceRole, SubjectPermission } from "./permissions.ts";
