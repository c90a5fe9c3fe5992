/**
 * Conformance with tshark on the public Redis captures (test/fixtures/pcaps/redis): every
 * command/reply pair of the truth (tshark's RESP messages paired in order per connection, see
 * PROVENANCE.md) must be one of our entries, in the same order on the same connection, with the
 * same command and argument count, and the same reply type and value (the length for bulk strings
 * and arrays). Commands tshark 4.0 shows as `[fragment]` (inline commands) must be inline commands
 * of ours. Replies without a command in the truth (pub/sub pushes) must be our push entries.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RedisEntry } from '../../src/remote-agent/dissect/redis/entry.ts';
import { dissectRedisCapture } from '../helpers/redis-read.ts';
import { readIndex, readTruth, sharedPcapsDir } from '../helpers/shared-pcaps.ts';

/** A tshark RESP transaction (pdml_truth.py, do_redis). */
interface TruthRecord {
  readonly client_ip: string;
  readonly client_port: number;
  readonly server_ip: string;
  readonly server_port: number;
  readonly frame_request: number | null;
  readonly request_type: 'array' | 'fragment' | null;
  readonly command: string | null;
  readonly arg_count: number | null;
  readonly frame_reply: number | null;
  readonly reply_type: 'simple_string' | 'error' | 'integer' | 'bulk_string' | 'array' | null;
  readonly reply_value: string | number | null;
}

/** Why a tshark pair may be missing or different, named per file; empty means 100% is required. */
const EXCEPTIONS: Readonly<Record<string, string>> = {};

const REPLY_TYPES: Readonly<Record<string, string>> = {
  simple_string: 'Simple String',
  error: 'Error',
  integer: 'Integer',
  bulk_string: 'Bulk String',
  array: 'Array',
};

function differences(t: TruthRecord, e: RedisEntry): string[] {
  const out: string[] = [];
  const check = (what: string, ours: unknown, theirs: unknown): void => {
    if (ours !== theirs) out.push(`${what}: ours ${JSON.stringify(ours)}, tshark ${JSON.stringify(theirs)}`);
  };
  const req = e.request;
  if (req === null) return ['a push where tshark has a command'];
  if (t.request_type === 'fragment') check('request type', req.type, 'Inline');
  else {
    check('command', req.command, t.command?.toUpperCase());
    check('argument count', req.argCount + 1, t.arg_count);
  }
  if (t.frame_reply === null) {
    check('reply', e.response, null);
    return out;
  }
  const r = e.response;
  if (r === null) return [...out, `no reply (${e.error?.msg})`];
  check('reply type', r.type, REPLY_TYPES[t.reply_type ?? '']);
  if (t.reply_type === 'bulk_string' || t.reply_type === 'array') check('reply length', r.size, t.reply_value);
  else check('reply value', r.value, t.reply_value);
  return out;
}

const dir = sharedPcapsDir();
const REDIS_FILES = readIndex(dir).filter((r) => r.protocol === 'redis');
const ordinal = (e: RedisEntry): number => Number(e.id.slice(e.id.lastIndexOf('-') + 1));
const clientOf = (ip: string, port: number): string => `${ip}:${port}`;

test('tshark conformance on Redis captures', async (t) => {
  assert.ok(REDIS_FILES.length >= 5, 'the corpus lists the Redis captures');
  const summary: string[] = [];
  for (const index of REDIS_FILES) {
    await t.test(index.file, () => {
      const truth = readTruth<TruthRecord>(dir, index.truth);
      const { entries, stats } = dissectRedisCapture(join(dir, index.file));
      assert.equal(stats.packets, index.packets, 'every frame read');
      assert.equal(stats.internalErrors, 0, 'no internal errors');
      assert.equal(stats.dissectionErrors, 0, 'no RESP violations');
      // Our entries per connection (by client address), in command order.
      const byClient = new Map<string, RedisEntry[]>();
      for (const e of [...entries].sort((a, b) => ordinal(a) - ordinal(b))) {
        const key = clientOf(e.src.ip, e.src.port);
        byClient.set(key, [...(byClient.get(key) ?? []), e]);
      }
      const cursor = new Map<string, number>();
      const problems: string[] = [];
      let pairs = 0;
      let matched = 0;
      let pushes = 0;
      for (const tx of truth) {
        const key = clientOf(tx.client_ip, tx.client_port);
        const ours = (byClient.get(key) ?? []).filter((e) => (tx.frame_request === null ? e.request === null : e.request !== null));
        const n = cursor.get(`${key}|${tx.frame_request === null}`) ?? 0;
        cursor.set(`${key}|${tx.frame_request === null}`, n + 1);
        const entry = ours[n];
        if (tx.frame_request === null) {
          // A reply tshark found no command for: a push of ours (pub/sub), with the same array length.
          pushes++;
          if (entry === undefined) problems.push(`push from frame ${tx.frame_reply} missing`);
          else if (entry.response?.size !== tx.reply_value) problems.push(`push from frame ${tx.frame_reply}: length ${entry.response?.size}, tshark ${tx.reply_value}`);
          continue;
        }
        pairs++;
        if (entry === undefined) {
          problems.push(`missing ${tx.command} of frame ${tx.frame_request} (${key})`);
          continue;
        }
        const diff = differences(tx, entry);
        if (diff.length > 0) problems.push(`frame ${tx.frame_request} ${tx.command}: ${diff.join('; ')}`);
        else matched++;
      }
      const line = `${index.file}: ${matched}/${pairs} tshark pairs matched, ${pushes} pushes, ${entries.length} entries`;
      summary.push(line);
      t.diagnostic(line);
      const exception = EXCEPTIONS[index.file];
      if (exception === undefined) {
        assert.deepEqual(problems, [], `${index.file} differs from tshark`);
        assert.equal(entries.length, pairs + pushes, 'no entry beyond tshark pairs and pushes');
        assert.equal(stats.undissected.connections['redis'] ?? 0, 0, 'no Redis connection left undissected');
      } else {
        t.diagnostic(`${index.file}: exception: ${exception}; ${problems.join('; ')}`);
      }
    });
  }
  process.stdout.write(`# conformance summary\n${summary.map((l) => `#   ${l}`).join('\n')}\n`);
});
