/**
 * A small Kafka broker for the round-trip test (no Kafka server can be installed here: there is no
 * Debian package, and only the npm registry and Debian are reachable). One node, one topic
 * (`orders`, one partition) kept in memory, one consumer group; it answers what kafkajs sends for a
 * producer's send and a consumer group's poll: ApiVersions, Metadata, Produce, Fetch,
 * FindCoordinator, JoinGroup, SyncGroup, Heartbeat, OffsetFetch, OffsetCommit, ListOffsets and
 * LeaveGroup. Requests are read with the dissector's own parser (a misread would make kafkajs
 * fail); answers are written with the test-side encoder (kafkajs checks them).
 *
 * Run as `node kafka-broker.ts HOST PORT`: prints `listening`, then a JSON line per request as it
 * comes ({ event: 'request', port, correlationId, apiKey, apiVersion, topics }) and another when it
 * is answered (event 'answer'): the test's record of what kafkajs really sent.
 */
import { createServer, type Socket } from 'node:net';
import { parseRequest, type ParsedRequest } from '../../src/remote-agent/dissect/kafka/message.ts';
import { encodeResponse } from './kafka-wire.ts';

const [host = '127.0.0.1', portText = '9092'] = process.argv.slice(2);
const PORT = Number(portText);
const NODE_ID = 1;
const TOPIC = 'orders';

/** The versions advertised: kafkajs 2.2.4's highest of each (it picks min(its max, ours)). */
const VERSIONS: readonly [number, number][] = [
  [0, 7], [1, 11], [2, 3], [3, 6], [8, 5], [9, 4], [10, 2], [11, 5], [12, 3], [13, 3], [14, 3], [18, 2],
];

const log: { key: string | null; value: string | null }[] = [];
const committed = new Map<number, number>();
let generation = 0;

type Body = Record<string, unknown>;
const list = (v: unknown): Body[] => (Array.isArray(v) ? (v as Body[]) : []);

function topicsOf(req: ParsedRequest): string[] {
  const p = req.payload;
  return [...list(p['topics']), ...list(p['topicData'])].map((t) => String(t['topic'] ?? t['name'] ?? ''));
}

/** The answer to one request (a body by the dissector's field names). */
async function answer(req: ParsedRequest): Promise<Body> {
  const p = req.payload;
  switch (req.apiKey) {
    case 18:
      return { errorCode: 0, apiKeys: VERSIONS.map(([apiKey, maxVersion]) => ({ apiKey, minVersion: 0, maxVersion })), throttleTimeMs: 0 };
    case 3: {
      const asked = list(p['topics']).map((t) => String(t['name']));
      const names = asked.length === 0 ? [TOPIC] : asked;
      return {
        brokers: [{ nodeId: NODE_ID, host, port: PORT, rack: null }],
        clusterId: 'test-cluster',
        controllerId: NODE_ID,
        topics: names.map((name) => ({
          errorCode: name === TOPIC ? 0 : 3,
          name,
          isInternal: false,
          partitions: name === TOPIC ? [{ errorCode: 0, partition: 0, leaderId: NODE_ID, leaderEpoch: 0, replicaNodes: [NODE_ID], isrNodes: [NODE_ID], offlineReplicas: [] }] : [],
        })),
      };
    }
    case 0: {
      const responses = list(p['topicData']).map((t) => ({
        topic: t['topic'],
        partitions: list(t['partitions']).map((part) => {
          const base = log.length;
          const records = part['records'] as { sample?: { key: string | null; value: string | null }[] } | null;
          for (const r of records?.sample ?? []) log.push({ key: r.key, value: r.value });
          return { partition: part['partition'], errorCode: t['topic'] === TOPIC ? 0 : 3, baseOffset: base, logAppendTimeMs: -1, logStartOffset: 0 };
        }),
      }));
      return { responses, throttleTimeMs: 0 };
    }
    case 1: {
      const maxWaitMs = typeof p['maxWaitMs'] === 'number' ? p['maxWaitMs'] : 100;
      const wanted = list(p['topics']).flatMap((t) => list(t['partitions']).map((part) => Number(part['fetchOffset'])));
      if (wanted.every((offset) => offset >= log.length)) await new Promise((r) => setTimeout(r, Math.min(maxWaitMs, 200)));
      return {
        throttleTimeMs: 0, errorCode: 0, sessionId: 0,
        responses: list(p['topics']).map((t) => ({
          topic: t['topic'],
          partitions: list(t['partitions']).map((part) => {
            const from = Number(part['fetchOffset']);
            const records = log.slice(from);
            return {
              partition: part['partition'], errorCode: 0, highWatermark: log.length, lastStableOffset: log.length, logStartOffset: 0,
              abortedTransactions: [], preferredReadReplica: -1,
              records: { baseOffset: from, records },
            };
          }),
        })),
      };
    }
    case 2:
      return {
        throttleTimeMs: 0,
        topics: list(p['topics']).map((t) => ({
          topic: t['topic'],
          partitions: list(t['partitions']).map((part) => ({
            partition: part['partition'], errorCode: 0, oldStyleOffsets: [0], timestamp: -1,
            offset: Number(part['timestamp']) === -2 ? 0 : log.length, leaderEpoch: 0,
          })),
        })),
      };
    case 10:
      return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, nodeId: NODE_ID, host, port: PORT };
    case 11: {
      generation++;
      const memberId = typeof p['memberId'] === 'string' && p['memberId'] !== '' ? p['memberId'] : 'member-1';
      const protocol = list(p['protocols'])[0] ?? {};
      return {
        throttleTimeMs: 0, errorCode: 0, generationId: generation, protocolName: protocol['name'], leader: memberId, memberId,
        members: [{ memberId, groupInstanceId: null, metadata: protocol['metadata'] }],
      };
    }
    case 14: {
      const mine = list(p['assignments']).find((a) => a['memberId'] === p['memberId']);
      return { throttleTimeMs: 0, errorCode: 0, assignment: mine?.['assignment'] ?? new Uint8Array(0) };
    }
    case 12:
      return { throttleTimeMs: 0, errorCode: 0 };
    case 13:
      return { throttleTimeMs: 0, errorCode: 0, members: list(p['members']).map((m) => ({ memberId: m['memberId'], groupInstanceId: null, errorCode: 0 })) };
    case 9:
      return {
        throttleTimeMs: 0, errorCode: 0,
        topics: list(p['topics']).map((t) => ({
          name: t['name'],
          partitions: (Array.isArray(t['partitionIndexes']) ? (t['partitionIndexes'] as number[]) : []).map((i) => ({ partition: i, committedOffset: committed.get(i) ?? -1, metadata: '', errorCode: 0 })),
        })),
      };
    case 8:
      return {
        throttleTimeMs: 0,
        topics: list(p['topics']).map((t) => ({
          name: t['name'],
          partitions: list(t['partitions']).map((part) => {
            committed.set(Number(part['partition']), Number(part['committedOffset']));
            return { partition: part['partition'], errorCode: 0 };
          }),
        })),
      };
    default:
      throw new Error(`the test broker does not answer API key ${req.apiKey}`);
  }
}

function serve(socket: Socket): void {
  let held = Buffer.alloc(0);
  let queue = Promise.resolve();
  socket.on('data', (chunk: Buffer) => {
    held = Buffer.concat([held, chunk]);
    while (held.length >= 4 && held.length >= 4 + held.readInt32BE(0)) {
      const message = held.subarray(0, 4 + held.readInt32BE(0));
      held = held.subarray(message.length);
      const req = parseRequest(message, message.length - 4, 1 << 20);
      if (req === null || req.decoded !== 'body') {
        process.stderr.write(`unreadable request: ${JSON.stringify(req)}\n`);
        socket.destroy();
        return;
      }
      const record = { port: socket.remotePort, correlationId: req.correlationID, apiKey: req.apiKey, apiVersion: req.apiVersion, topics: topicsOf(req) };
      process.stdout.write(`${JSON.stringify({ event: 'request', ...record })}\n`);
      // One at a time, in order: a broker answers a connection's requests in the order they came.
      queue = queue.then(async () => {
        const body = await answer(req);
        if (req.apiKey === 0 && req.payload['acks'] === 0) return;
        const bytes = encodeResponse(req.apiKey, req.apiVersion, req.correlationID, body);
        if (socket.destroyed) return;
        socket.write(bytes);
        process.stdout.write(`${JSON.stringify({ event: 'answer', ...record })}\n`);
      }).catch((e: unknown) => {
        process.stderr.write(`${String(e)}\n`);
        socket.destroy();
      });
    }
  });
  socket.on('error', () => {});
}

createServer(serve).listen(PORT, host, () => process.stdout.write('listening\n'));
