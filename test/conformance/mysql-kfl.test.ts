/**
 * KFL on MySQL entries dissected from the public captures: the word `mysql`, the entry's paths
 * (request.command, request.query, response.*) and Kubeshark's KFL2 mysql_* variables select what
 * they say.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { compileKfl } from '../../src/kfl/index.ts';
import type { Entry } from '../../src/model/entry.ts';
import type { MysqlEntry } from '../../src/remote-agent/dissect/mysql/entry.ts';
import { readEntries } from '../helpers/read-entries.ts';
import { sharedPcapsDir } from '../helpers/shared-pcaps.ts';

test('KFL words, paths and KFL2 variables on MySQL entries', async () => {
  const dir = sharedPcapsDir();
  const { all } = await readEntries(['mysql50-queries.pcap', 'mysql80-selects-deprecate-eof.pcap', 'mariadb-query-and-mysql8-tls.pcapng'].map((f) => join(dir, 'mysql', f)));
  const select = (query: string): string[] => {
    const r = compileKfl(query);
    if (!r.ok) throw new Error(r.error.display);
    return all.filter((e: Entry) => r.filter.test(e)).map((e) => {
      const m = e as MysqlEntry;
      return m.request.query ?? m.request.database ?? m.request.command;
    });
  };
  assert.equal(select('mysql').length, 28);
  assert.deepEqual(select('http'), []);
  assert.deepEqual(select('mysql_command == "COM_INIT_DB"'), ['test']);
  assert.deepEqual(select('mysql and mysql_database == "test"'), ['test']);
  assert.equal(select('mysql_command == "COM_QUERY" and mysql_success').length, 19);
  assert.deepEqual(select('mysql_query.startsWith("insert")'), ['insert into foo (animal, name) values ("dog", "Goofy")', 'insert into foo (animal, name) values ("cat", "Garfield")']);
  assert.deepEqual(select('mysql and response.rowCount > 30').sort(), ['show tables from information_schema', 'show tables from mysql']);
  assert.deepEqual(select('mysql and response.affectedRows == 1 and mysql_query.contains("delete")'), ["delete from foo where name like '%oo%'", 'delete from foo']);
  assert.equal(select('mysql_command == "HANDSHAKE" and request.handshake.ssl').length, 1);
  assert.equal(select('mysql_error_code != 0 or mysql_error_message != ""').length, 0);
  assert.equal(select('mysql and mysql_total_size == mysql_request_size + mysql_response_size and mysql_statement_id == 0').length, 28);
});
