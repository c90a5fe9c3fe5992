/**
 * Conformance with tshark on the public PostgreSQL captures (test/fixtures/pcaps/postgresql): every
 * transaction pdml_truth.py groups from tshark's pgsql messages (a startup with its authentication,
 * an SSL/GSS encryption request, a Query, an extended-query run up to Sync, a Terminate; answered up
 * to ReadyForQuery) must be one of our entries, in the same order on the same connection, with the
 * same kind, SQL text, startup parameters, command tags, DataRow count, error (severity, SQLSTATE,
 * message), message counts on both sides and the same ending. Prints per file how many matched.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { PostgresqlEntry } from '../../src/remote-agent/dissect/postgresql/entry.ts';
import { readEntries } from '../helpers/read-entries.ts';
import { readIndex, readTruth, sharedPcapsDir } from '../helpers/shared-pcaps.ts';

/** A tshark PostgreSQL transaction (pdml_truth.py, "postgresql" kind). */
interface TruthRecord {
  readonly tcp_stream: number;
  readonly client_ip: string;
  readonly client_port: number;
  readonly server_ip: string;
  readonly server_port: number;
  readonly kind: string;
  readonly frame_request: number | null;
  readonly frontend_messages: readonly string[];
  readonly queries: readonly (string | null)[];
  readonly startup_parameters: Readonly<Record<string, string>> | null;
  readonly backend_messages: readonly string[];
  readonly command_tags: readonly string[];
  readonly data_rows: number;
  readonly error: { severity: string; code: string; message: string } | null;
  readonly ended_by: string | null;
}

/** Why a tshark transaction may be missing or different, named per file; empty means 100% is required. */
const EXCEPTIONS: Readonly<Record<string, string>> = {};

const KINDS: Readonly<Record<string, string>> = {
  startup: 'startup',
  ssl_request: 'ssl-request',
  gss_encrypt_request: 'gssenc-request',
  cancel_request: 'cancel',
  simple_query: 'simple-query',
  extended_query: 'extended-query',
  terminate: 'terminate',
};

function differences(t: TruthRecord, e: PostgresqlEntry): string[] {
  const out: string[] = [];
  const check = (what: string, ours: unknown, theirs: unknown): void => {
    if (JSON.stringify(ours) !== JSON.stringify(theirs)) out.push(`${what}: ours ${JSON.stringify(ours)}, tshark ${JSON.stringify(theirs)}`);
  };
  const req = e.request;
  const res = e.response;
  check('kind', req.kind, KINDS[t.kind]);
  check('frontend messages', req.messages.length, t.frontend_messages.length);
  if (t.kind === 'simple_query') check('query', req.query, t.queries[0]);
  if (t.kind === 'extended_query') check('parsed queries', (req.prepares ?? []).map((p) => p.query), t.queries);
  if (t.startup_parameters !== null) check('startup parameters', req.parameters, t.startup_parameters);
  // tshark shows no message for the one-byte answer to an encryption request; we name it.
  const backend = res === null ? 0 : res.encryptionAnswer !== undefined ? res.messageCount - 1 : res.messageCount;
  check('backend messages', backend, t.backend_messages.length);
  check('command tags', res?.commandTags ?? [], t.command_tags);
  check('data rows', res?.rows ?? 0, t.data_rows);
  const err = res?.error ?? null;
  check('error', err === null ? null : { severity: err.severity, code: err.code, message: err.message }, t.error);
  check('ended by ReadyForQuery', (res?.transactionStatus ?? '') !== '', t.ended_by === 'Ready for query');
  return out;
}

const dir = sharedPcapsDir();
const FILES = readIndex(dir).filter((r) => r.protocol === 'postgresql');

test('tshark conformance on PostgreSQL captures', async (t) => {
  assert.ok(FILES.length >= 3, 'the corpus lists the PostgreSQL captures');
  const summary: string[] = [];
  for (const index of FILES) {
    await t.test(index.file, async () => {
      const truth = readTruth<TruthRecord>(dir, index.truth);
      const { all, result } = await readEntries([join(dir, index.file)]);
      const entries = all.filter((e): e is PostgresqlEntry => e.protocol.name === 'postgresql');
      assert.equal(result.stats.packets, index.packets, 'every frame read');
      const problems: string[] = [];
      let matched = 0;
      // Per connection, in order: tshark's transactions and our entries (ids number them in order).
      const ordinal = (e: PostgresqlEntry): number => Number(e.id.split('-').pop());
      for (const port of new Set(truth.map((x) => x.client_port))) {
        const theirs = truth.filter((x) => x.client_port === port);
        const ours = entries.filter((e) => e.src.port === port).sort((a, b) => ordinal(a) - ordinal(b));
        theirs.forEach((tx, i) => {
          const e = ours[i];
          if (e === undefined) return problems.push(`missing ${tx.kind} #${i} on port ${port}`);
          if (e.src.ip !== tx.client_ip || e.dst.ip !== tx.server_ip || e.dst.port !== tx.server_port) problems.push(`${e.id}: other endpoints`);
          const diff = differences(tx, e);
          if (diff.length > 0) problems.push(`${e.id} (${tx.kind}): ${diff.join('; ')}`);
          else matched++;
        });
        if (ours.length > theirs.length) problems.push(`port ${port}: ${ours.length - theirs.length} entries beyond tshark's`);
      }
      const line = `${index.file}: ${matched}/${truth.length} tshark transactions matched, ${entries.length} entries`;
      summary.push(line);
      t.diagnostic(line);
      const exception = EXCEPTIONS[index.file];
      if (exception === undefined) {
        assert.deepEqual(problems, [], `${index.file} differs from tshark`);
        assert.equal(entries.length, truth.length, 'no entry beyond tshark transactions');
        assert.equal(result.stats.undissected.connections['postgresql'] ?? 0, 0, 'no PostgreSQL connection left undissected');
        assert.equal(result.stats.dissectionErrors, 0, 'no violations');
      } else {
        t.diagnostic(`${index.file}: exception: ${exception}; ${problems.join('; ')}`);
      }
    });
  }
  process.stdout.write(`# conformance summary\n${summary.map((l) => `#   ${l}`).join('\n')}\n`);
});
