/**
 * Conformance with tshark on the public MySQL/MariaDB captures (test/fixtures/pcaps/mysql): every
 * exchange tshark shows (the login, then each command with the server packets up to the next
 * command; pdml_truth.py's mysql part) must be exactly one of our entries, in order, with the same
 * command, query, schema, outcome (OK with affected rows, ERR with code and message, a result set
 * with its column and row counts), and nothing beyond. The connection that switches to TLS after
 * its SSLRequest is one HANDSHAKE entry, then counted as undissected TLS.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Entry } from '../../src/model/entry.ts';
import type { MysqlEntry } from '../../src/remote-agent/dissect/mysql/entry.ts';
import { readEntries } from '../helpers/read-entries.ts';
import { readIndex, readTruth, sharedPcapsDir } from '../helpers/shared-pcaps.ts';

interface MysqlTruth {
  readonly tcp_stream: number;
  readonly client_ip: string;
  readonly client_port: number;
  readonly server_ip: string;
  readonly server_port: number;
  readonly kind: 'handshake' | 'command' | 'unsolicited_server';
  readonly server_version: string | null;
  readonly user: string | null;
  readonly schema: string | null;
  readonly ssl_requested: boolean | null;
  readonly command_code: number | null;
  readonly query: string | null;
  readonly result: 'OK' | 'ERR' | 'RESULTSET' | 'EOF' | null;
  readonly affected_rows: number | null;
  readonly num_fields: number | null;
  readonly rows: number;
  readonly error_code: number | null;
  readonly error_message: string | null;
}

const isMysql = (e: Entry): e is MysqlEntry => e.protocol.name === 'mysql';

/** What tshark's record says of one exchange, in our terms. */
function expected(t: MysqlTruth): Record<string, unknown> {
  const out: Record<string, unknown> = { client: `${t.client_ip}:${t.client_port}`, server: `${t.server_ip}:${t.server_port}` };
  if (t.kind === 'handshake') {
    out['command'] = 'HANDSHAKE';
    out['serverVersion'] = t.server_version;
    out['tls'] = t.ssl_requested === true;
    // An SSLRequest carries no user (tshark shows ""): the login proper is encrypted.
    if (t.ssl_requested !== true) out['user'] = t.user;
  } else {
    out['command'] = t.command_code;
    if (t.query !== null) out['query'] = t.query;
    if (t.schema !== null) out['database'] = t.schema;
  }
  out['result'] = t.result;
  if (t.result === 'OK') out['affectedRows'] = t.affected_rows;
  if (t.result === 'RESULTSET') out['resultSet'] = { columns: t.num_fields, rows: t.rows };
  if (t.result === 'ERR') out['error'] = { code: t.error_code, message: t.error_message };
  return out;
}

/** The same of one of our entries. */
function observed(e: MysqlEntry): Record<string, unknown> {
  const req = e.request;
  const res = e.response;
  const out: Record<string, unknown> = { client: `${e.src.ip}:${e.src.port}`, server: `${e.dst.ip}:${e.dst.port}` };
  if (req.command === 'HANDSHAKE') {
    out['command'] = 'HANDSHAKE';
    out['serverVersion'] = req.handshake?.serverVersion ?? null;
    out['tls'] = req.handshake?.ssl === true;
    if (req.handshake?.ssl !== true) out['user'] = req.user ?? '';
  } else {
    out['command'] = req.commandCode;
    if (req.query !== undefined) out['query'] = req.query;
    if (req.database !== undefined) out['database'] = req.database;
  }
  const first = res?.results[0];
  let result: string | null = null;
  if (res === null || res.tls === true) result = null;
  else if (!res.success) result = 'ERR';
  else if (req.commandCode === 4) result = 'EOF'; // COM_FIELD_LIST: definitions closed by EOF, as tshark labels it
  else if (first?.kind === 'resultset') result = 'RESULTSET';
  else if (first?.kind === 'ok') result = 'OK';
  out['result'] = result;
  if (result === 'OK') out['affectedRows'] = res!.affectedRows;
  if (result === 'RESULTSET' && first?.kind === 'resultset') out['resultSet'] = { columns: first.columns.length, rows: first.rowCount };
  if (result === 'ERR') out['error'] = { code: res!.errorCode, message: res!.errorMessage };
  return out;
}

const dir = sharedPcapsDir();
const FILES = readIndex(dir).filter((r) => r.protocol === 'mysql');

test('tshark conformance on MySQL/MariaDB captures: 100% of its exchanges, nothing beyond', async (t) => {
  assert.equal(FILES.length, 3, 'the corpus lists the three MySQL captures');
  for (const index of FILES) {
    await t.test(index.file, async () => {
      const truth = readTruth<MysqlTruth>(dir, index.truth);
      assert.ok(truth.every((r) => r.kind !== 'unsolicited_server'), 'tshark pairs every server packet');
      const { all, result } = await readEntries([join(dir, index.file)]);
      assert.equal(result.stats.packets, index.packets, 'every frame read');
      assert.equal(result.stats.dissectionErrors, 0, 'no protocol violation');
      const ours = all.filter(isMysql);
      assert.deepEqual(ours.map(observed), truth.map(expected), `${index.file}: every exchange tshark shows, in order`);
      for (const e of ours) assert.equal(e.error, null, `${e.id} has no error`);
      assert.equal(result.stats.entries, ours.length, 'the summary counts them');
      // The TLS part is TLS: the connection that asked for it is counted so, never dissected further.
      const tlsLogins = truth.filter((r) => r.ssl_requested === true).length;
      assert.equal(result.stats.undissected.connections['tls'] ?? 0, tlsLogins, 'connections switched to TLS counted as TLS');
      t.diagnostic(`${index.file}: ${ours.length}/${truth.length} tshark exchanges matched`);
    });
  }
});
