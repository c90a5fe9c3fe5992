/**
 * Redis from real programs, in network namespaces: redis-server (Debian's redis-server 7, with a
 * password: `requirepass`) answers redis-cli (RESP2 and `-3` RESP3, a `--pipe` of commands, a
 * MULTI/EXEC transaction read from stdin, SUBSCRIBE receiving a PUBLISH from a second redis-cli,
 * an error, a wrong password) and the Node `redis` client (RESP2 and RESP3: commands, a pipeline,
 * MULTI/EXEC, pub/sub, an error). tcpdump captures the client's side and `read -o json` reads it
 * back: every command made is one entry with the right outcome, pushes are linked to their
 * SUBSCRIBE, and the password is nowhere in the output.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Entry } from '../../src/model/entry.ts';
import type { RedisEntry } from '../../src/remote-agent/dissect/redis/entry.ts';
import { Capture, NODE, REPO_ROOT } from '../helpers/capture.ts';
import { entriesOf } from '../helpers/entries-of.ts';
import { Scope, addAddress, addVeth, requireNetns, waitForPort, type Netns } from '../helpers/netns.ts';
import { parseNdjson, runShark } from '../helpers/run-cli.ts';
import { requireBuild } from '../helpers/tap.ts';
import { skipFor } from '../helpers/requirements.ts';

const skip = skipFor(requireNetns(['redis-server', 'redis-cli', 'tcpdump']) ?? requireBuild());
const SERVER_IP = '10.97.0.2';
const CLIENT_IP = '10.97.0.1';
const PASSWORD = 'pw-Zq8x-s3cret';
const NODE_CLIENT = join(REPO_ROOT, 'test/e2e/fixtures/redis-node-client.mjs');

async function cli(ns: Netns, args: readonly string[], input?: string): Promise<string> {
  const r = await ns.exec('redis-cli', ['-h', SERVER_IP, '--no-auth-warning', ...args], input === undefined ? {} : { input });
  assert.equal(r.code, 0, `redis-cli ${args.join(' ')}: ${r.stderr.toString()}`);
  return r.stdout.toString('utf8');
}

/** A command as a RESP array (what --pipe reads). */
function resp(...words: string[]): string {
  return `*${words.length}\r\n${words.map((w) => `$${Buffer.byteLength(w)}\r\n${w}\r\n`).join('')}`;
}

test('redis-cli and node-redis to redis-server, RESP2 and RESP3, captured and read back: one entry per command', { skip, timeout: 180_000 }, async (t) => {
  const scope = new Scope();
  try {
    const client = await scope.netns('rcli');
    const server = await scope.netns('rsrv');
    await addVeth(client, 'eth0', server, 'eth0');
    await addAddress(client, 'eth0', `${CLIENT_IP}/24`);
    await addAddress(server, 'eth0', `${SERVER_IP}/24`);
    const dir = mkdtempSync(join(tmpdir(), 'ks-redis-'));
    scope.defer(() => rmSync(dir, { recursive: true, force: true }));
    server.spawn('redis-server', ['--bind', SERVER_IP, '--port', '6379', '--save', '', '--appendonly', 'no', '--dir', dir, '--requirepass', PASSWORD]);
    await waitForPort(client, SERVER_IP, 6379);
    const file = join(dir, 'redis.pcap');
    const capture = await Capture.start(client, 'eth0', file);
    const auth = ['-a', PASSWORD];

    // redis-cli, RESP2: a command, an error, a wrong password.
    assert.equal((await cli(client, [...auth, 'SET', 'cli:k', 'v1'])).trim(), 'OK');
    assert.match(await cli(client, [...auth, 'LPUSH', 'cli:k', 'x']), /WRONGTYPE/);
    assert.match(await cli(client, ['-a', 'not-the-password', 'GET', 'cli:noauth']), /NOAUTH|WRONGPASS/);
    // RESP3 (-3: HELLO 3 first): a map reply.
    assert.equal((await cli(client, ['-3', ...auth, 'HSET', 'cli:h', 'f', 'v'])).trim(), '1');
    assert.match(await cli(client, ['-3', ...auth, 'HGETALL', 'cli:h']), /f.*v/s);
    // A transaction, the commands read from stdin on one connection.
    assert.match(await cli(client, auth, 'MULTI\nINCR cli:n\nINCR cli:n\nGET cli:k\nEXEC\n'), /QUEUED[\s\S]*1[\s\S]*2[\s\S]*v1/);
    // --pipe: 50 commands written at once (redis-cli adds an ECHO of its own to know the end).
    const pipe = Array.from({ length: 50 }, (_, i) => resp('SET', `pipe:${i}`, String(i))).join('');
    assert.match(await cli(client, [...auth, '--pipe'], pipe), /errors: 0, replies: 50/);
    // SUBSCRIBE, and a PUBLISH from a second redis-cli that it receives.
    const subscriber = client.spawn('redis-cli', ['-h', SERVER_IP, '--no-auth-warning', ...auth, 'SUBSCRIBE', 'cli:chan']);
    let subscribed = '';
    await new Promise<void>((resolve, reject) => {
      subscriber.stdout?.on('data', (b: Buffer) => {
        subscribed += b.toString('utf8');
        if (/cli:chan\s+1/.test(subscribed)) resolve();
      });
      subscriber.once('exit', (code) => reject(new Error(`redis-cli SUBSCRIBE exited (${code})`)));
    });
    assert.equal((await cli(client, [...auth, 'PUBLISH', 'cli:chan', 'hello subscribers'])).trim(), '1');
    await new Promise<void>((resolve) => {
      const check = (): void => (subscribed.includes('hello subscribers') ? resolve() : void setTimeout(check, 20));
      check();
    });
    subscriber.kill('SIGINT');

    // node-redis, RESP2 and RESP3.
    const got: Record<string, Record<string, unknown>> = {};
    for (const version of ['2', '3']) {
      const r = await client.exec(NODE, [NODE_CLIENT, SERVER_IP, '6379', PASSWORD, version, `node${version}`], { cwd: REPO_ROOT });
      assert.equal(r.code, 0, r.stderr.toString());
      got[version] = JSON.parse(r.stdout.toString('utf8')) as Record<string, unknown>;
      assert.equal(got[version]!['message'], `hello from node${version}`);
    }
    await new Promise((r) => setTimeout(r, 300));
    await capture.stop();

    const read = await runShark(['read', '-o', 'json', file]);
    assert.equal(read.code, 0, read.stderr);
    assert.ok(!read.stdout.includes(PASSWORD) && !read.stderr.includes(PASSWORD), 'the password is nowhere in the output');
    assert.ok(!read.stdout.includes('not-the-password'), 'nor the wrong one');
    const entries = entriesOf(parseNdjson<Entry>(read.stdout), 'redis') as RedisEntry[];
    t.diagnostic(entries.map((e) => `${e.id} v${e.protocol.version} ${e.request === null ? `push ${e.response?.push?.kind}` : `${e.request.command} ${e.request.args.join(' ')}`} -> ${e.response?.type ?? 'none'} ${e.response?.value.slice(0, 60) ?? e.error?.msg}`).join('\n'));
    assert.match(read.stderr, / 0 unpaired requests, 0 gaps/);
    assert.ok(entries.every((e) => e.error === null), 'every command got its reply');

    /** The one entry of a command on a key (its first argument). */
    const one = (command: string, key: string, version?: string): RedisEntry => {
      const found = entries.filter((e) => e.request?.command === command && e.request.key === key && (version === undefined || e.protocol.version === version));
      assert.equal(found.length, 1, `one ${command} ${key}: ${found.map((e) => e.id).join(', ')}`);
      return found[0]!;
    };
    assert.equal(one('SET', 'cli:k').response?.value, 'OK');
    const wrongType = one('LPUSH', 'cli:k');
    assert.deepEqual([wrongType.response?.type, wrongType.response?.errorCode], ['Error', 'WRONGTYPE']);
    // Every AUTH: the password redacted; the wrong one answered WRONGPASS, and its GET NOAUTH.
    const auths = entries.filter((e) => e.request?.command === 'AUTH');
    assert.ok(auths.length >= 8, `${auths.length} AUTH commands`);
    assert.ok(auths.every((e) => e.request!.args.at(-1) === '[REDACTED]'));
    assert.equal(auths.filter((e) => e.response?.errorCode === 'WRONGPASS').length, 1);
    assert.equal(one('GET', 'cli:noauth').response?.errorCode, 'NOAUTH');
    // RESP3 from redis-cli -3: HELLO 3 switches the connection; HGETALL is a map.
    const hgetall = one('HGETALL', 'cli:h');
    assert.deepEqual([hgetall.protocol.version, hgetall.response?.type, hgetall.response?.value], ['3', 'Map', '{f: v}']);
    // The transaction: INCRs queued, EXEC lists them with their results.
    const exec = entries.find((e) => e.request?.command === 'EXEC' && e.response?.results?.[0]?.key === 'cli:n');
    assert.ok(exec, 'the EXEC of redis-cli');
    assert.deepEqual(exec.response?.results?.map((r) => `${r.command} ${r.key} ${r.value}`), ['INCR cli:n 1', 'INCR cli:n 2', 'GET cli:k v1']);
    assert.ok(entries.filter((e) => e.request?.command === 'INCR' && e.request.key === 'cli:n').every((e) => e.request?.inTransaction === true && e.response?.value === 'QUEUED'));
    // --pipe: each of the 50 SETs once, answered OK.
    for (let i = 0; i < 50; i++) assert.equal(one('SET', `pipe:${i}`).response?.value, 'OK');
    // Pub/sub: the message is an entry without a request, linked to the SUBSCRIBE entry.
    const subscribe = one('SUBSCRIBE', 'cli:chan');
    const message = entries.filter((e) => e.request === null && e.response?.push?.channel === 'cli:chan');
    assert.equal(message.length, 1);
    assert.equal(message[0]!.subscriptionId, subscribe.id);
    assert.equal(message[0]!.response?.push?.message, 'hello subscribers');
    assert.equal(one('PUBLISH', 'cli:chan').response?.value, '1');

    for (const version of ['2', '3']) {
      const p = `node${version}`;
      assert.equal(one('SET', `${p}:a`).response?.value, 'OK');
      assert.equal(one('GET', `${p}:a`).response?.value, '1');
      assert.equal(one('GET', `${p}:a`).protocol.version, version);
      assert.deepEqual(entries.filter((e) => e.request?.command === 'INCR' && e.request.key === `${p}:n`).map((e) => e.response?.value), ['1', '2']);
      assert.equal(one('GET', `${p}:missing`).response?.nil, true);
      const multi = entries.find((e) => e.request?.command === 'EXEC' && e.response?.results?.[0]?.key === `${p}:m`);
      assert.deepEqual(multi?.response?.results?.map((r) => `${r.command} ${r.value}`), ['SET OK', 'INCR 1', 'GET x']);
      assert.equal(one('LPUSH', `${p}:a`).response?.errorCode, 'WRONGTYPE');
      const sub = one('SUBSCRIBE', `${p}:chan`);
      const pushed = entries.filter((e) => e.request === null && e.response?.push?.channel === `${p}:chan`);
      assert.deepEqual(pushed.map((e) => [e.response?.push?.message, e.subscriptionId]), [[`hello from ${p}`, sub.id]]);
      assert.equal(one('PUBLISH', `${p}:chan`).response?.value, '1');
      assert.equal(one('UNSUBSCRIBE', `${p}:chan`).response?.confirmations, 1);
    }
  } finally {
    await scope.close();
  }
});
