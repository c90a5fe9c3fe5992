/**
 * Every Kafka API key we know (https://kafka.apache.org/protocol#protocol_api_keys), with the first
 * "flexible" version of its messages (KIP-482: compact strings and arrays, tagged fields, header v2
 * and response header v1) and the highest version a broker of Kafka 4.0 knows, which the mid-stream
 * resync and the sniffer use to tell a plausible request header from other bytes.
 */

export interface ApiKeyInfo {
  /** Kafka's CamelCase name (`Produce`, `Fetch`), as Kubeshark's `apiKeyName`. */
  readonly name: string;
  /** First flexible version; null when no version is. */
  readonly firstFlexible: number | null;
  /** Highest version known: a header with a higher one is decoded as the header only. */
  readonly maxVersion: number;
}

/** [name, first flexible version (-1: none), highest version], by API key. */
const TABLE: readonly (readonly [string, number, number])[] = [
  ['Produce', 9, 12], // 0
  ['Fetch', 12, 17],
  ['ListOffsets', 6, 10],
  ['Metadata', 9, 13],
  ['LeaderAndIsr', 4, 7],
  ['StopReplica', 2, 4], // 5
  ['UpdateMetadata', 6, 8],
  ['ControlledShutdown', 3, 3],
  ['OffsetCommit', 8, 9],
  ['OffsetFetch', 6, 9],
  ['FindCoordinator', 3, 6], // 10
  ['JoinGroup', 6, 9],
  ['Heartbeat', 4, 4],
  ['LeaveGroup', 4, 5],
  ['SyncGroup', 4, 5],
  ['DescribeGroups', 5, 6], // 15
  ['ListGroups', 3, 5],
  ['SaslHandshake', -1, 1],
  ['ApiVersions', 3, 4],
  ['CreateTopics', 5, 7],
  ['DeleteTopics', 4, 6], // 20
  ['DeleteRecords', 2, 2],
  ['InitProducerId', 2, 5],
  ['OffsetForLeaderEpoch', 4, 4],
  ['AddPartitionsToTxn', 3, 5],
  ['AddOffsetsToTxn', 3, 4], // 25
  ['EndTxn', 3, 5],
  ['WriteTxnMarkers', 1, 1],
  ['TxnOffsetCommit', 3, 5],
  ['DescribeAcls', 2, 3],
  ['CreateAcls', 2, 3], // 30
  ['DeleteAcls', 2, 3],
  ['DescribeConfigs', 4, 4],
  ['AlterConfigs', 2, 2],
  ['AlterReplicaLogDirs', 2, 2],
  ['DescribeLogDirs', 2, 4], // 35
  ['SaslAuthenticate', 2, 2],
  ['CreatePartitions', 2, 3],
  ['CreateDelegationToken', 2, 3],
  ['RenewDelegationToken', 2, 2],
  ['ExpireDelegationToken', 2, 2], // 40
  ['DescribeDelegationToken', 2, 3],
  ['DeleteGroups', 2, 2],
  ['ElectLeaders', 2, 2],
  ['IncrementalAlterConfigs', 1, 1],
  ['AlterPartitionReassignments', 0, 0], // 45
  ['ListPartitionReassignments', 0, 0],
  ['OffsetDelete', -1, 0],
  ['DescribeClientQuotas', 1, 1],
  ['AlterClientQuotas', 1, 1],
  ['DescribeUserScramCredentials', 0, 0], // 50
  ['AlterUserScramCredentials', 0, 0],
  ['Vote', 0, 1],
  ['BeginQuorumEpoch', 1, 1],
  ['EndQuorumEpoch', 1, 1],
  ['DescribeQuorum', 0, 2], // 55
  ['AlterPartition', 0, 3],
  ['UpdateFeatures', 0, 1],
  ['Envelope', 0, 0],
  ['FetchSnapshot', 0, 1],
  ['DescribeCluster', 0, 1], // 60
  ['DescribeProducers', 0, 0],
  ['BrokerRegistration', 0, 4],
  ['BrokerHeartbeat', 0, 1],
  ['UnregisterBroker', 0, 0],
  ['DescribeTransactions', 0, 0], // 65
  ['ListTransactions', 0, 1],
  ['AllocateProducerIds', 0, 0],
  ['ConsumerGroupHeartbeat', 0, 1],
  ['ConsumerGroupDescribe', 0, 1],
  ['ControllerRegistration', 0, 0], // 70
  ['GetTelemetrySubscriptions', 0, 0],
  ['PushTelemetry', 0, 0],
  ['AssignReplicasToDirs', 0, 0],
  ['ListClientMetricsResources', 0, 0],
  ['DescribeTopicPartitions', 0, 0], // 75
  ['ShareGroupHeartbeat', 0, 1],
  ['ShareGroupDescribe', 0, 1],
  ['ShareFetch', 0, 1],
  ['ShareAcknowledge', 0, 1],
  ['AddRaftVoter', 0, 0], // 80
  ['RemoveRaftVoter', 0, 0],
  ['UpdateRaftVoter', 0, 0],
  ['InitializeShareGroupState', 0, 0],
  ['ReadShareGroupState', 0, 0],
  ['WriteShareGroupState', 0, 0], // 85
  ['DeleteShareGroupState', 0, 0],
  ['ReadShareGroupStateSummary', 0, 0],
  ['StreamsGroupHeartbeat', 0, 0],
  ['StreamsGroupDescribe', 0, 0],
  ['DescribeShareGroupOffsets', 0, 0], // 90
  ['AlterShareGroupOffsets', 0, 0],
  ['DeleteShareGroupOffsets', 0, 0],
];

const INFOS: readonly ApiKeyInfo[] = TABLE.map(([name, flex, max]) => Object.freeze({ name, firstFlexible: flex < 0 ? null : flex, maxVersion: max }));

export const API_KEY = Object.freeze({
  Produce: 0, Fetch: 1, ListOffsets: 2, Metadata: 3, OffsetCommit: 8, OffsetFetch: 9, FindCoordinator: 10,
  JoinGroup: 11, Heartbeat: 12, LeaveGroup: 13, SyncGroup: 14, SaslHandshake: 17, ApiVersions: 18,
  CreateTopics: 19, DeleteTopics: 20, SaslAuthenticate: 36,
});

/** What we know of `apiKey`; undefined for a key past the table (or negative). */
export function apiKeyInfo(apiKey: number): ApiKeyInfo | undefined {
  return INFOS[apiKey];
}

/** The name people see: Kafka's, or `ApiKey<n>` for a key we do not know. */
export function apiKeyName(apiKey: number): string {
  return INFOS[apiKey]?.name ?? `ApiKey${apiKey}`;
}

/** True when `version` of `apiKey` uses the flexible encoding (compact types, tagged fields). */
export function isFlexible(apiKey: number, version: number): boolean {
  const flex = INFOS[apiKey]?.firstFlexible;
  return flex !== undefined && flex !== null && version >= flex;
}

/**
 * The request header version (0: no client id; 1: client id; 2: client id and tagged fields).
 * Only ControlledShutdown v0 has header v0.
 */
export function requestHeaderVersion(apiKey: number, version: number): 0 | 1 | 2 {
  if (apiKey === 7 && version === 0) return 0;
  return isFlexible(apiKey, version) ? 2 : 1;
}

/** The response header version: 1 (tagged fields after the correlation id) for flexible versions, but never for ApiVersions (KIP-511). */
export function responseHeaderVersion(apiKey: number, version: number): 0 | 1 {
  if (apiKey === API_KEY.ApiVersions) return 0;
  return isFlexible(apiKey, version) ? 1 : 0;
}
