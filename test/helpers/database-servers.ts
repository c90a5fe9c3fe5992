/**
 * Real data servers from Debian packages, started inside a test's network namespace and stopped
 * with it: redis-server (7.0), PostgreSQL 15 (as the `postgres` user: it refuses root) and
 * MariaDB 10.11, each with a password user, so tests can drive them with the real clients
 * (redis-cli, psql, mariadb) from another namespace. Every process runs inside the namespace, so
 * `Netns.destroy()` ends it; the data folders go with the scope.
 */
import { appendFileSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runOk, waitForPort, type Netns, type Scope } from './netns.ts';

export const REDIS_PORT = 6379;
export const POSTGRES_PORT = 5432;
export const MARIADB_PORT = 3306;
const PG_BIN = '/usr/lib/postgresql/15/bin';

/** A temp folder removed when the scope closes. */
function tempDir(scope: Scope, tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), `ks-${process.pid}-${tag}-`));
  scope.defer(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** redis-server on `ip`:6379 with `requirepass`, no persistence. */
export async function startRedis(scope: Scope, ns: Netns, ip: string, password: string): Promise<void> {
  const dir = tempDir(scope, 'redis');
  ns.spawn('redis-server', ['--bind', ip, '--port', String(REDIS_PORT), '--requirepass', password, '--save', '', '--appendonly', 'no', '--dir', dir, '--protected-mode', 'no', '--daemonize', 'no']);
  await waitForPort(ns, ip, REDIS_PORT);
}

/**
 * PostgreSQL 15 on `ip`:5432: superuser `postgres` with `password`, and `host` connections
 * authenticated with the cleartext `password` method, so the password itself crosses the wire
 * (the strongest test that it never comes out of a dissector).
 */
export async function startPostgres(scope: Scope, ns: Netns, ip: string, password: string): Promise<void> {
  const dir = tempDir(scope, 'pg');
  const [uid, gid] = await postgresIds();
  const data = join(dir, 'data');
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, `${password}\n`);
  chownSync(dir, uid, gid);
  chownSync(pwfile, uid, gid);
  await runOk('runuser', ['-u', 'postgres', '--', `${PG_BIN}/initdb`, '-D', data, '-U', 'postgres', `--pwfile=${pwfile}`, '--auth-host=password', '--auth-local=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  // initdb's host lines cover loopback only: the clients are in another namespace.
  appendFileSync(join(data, 'pg_hba.conf'), 'host all all 0.0.0.0/0 password\n');
  ns.spawn('runuser', ['-u', 'postgres', '--', `${PG_BIN}/postgres`, '-D', data, '-k', dir, '-c', `listen_addresses=${ip}`, '-c', `port=${POSTGRES_PORT}`, '-c', 'fsync=off']);
  await waitForPort(ns, ip, POSTGRES_PORT, 20_000);
}

async function postgresIds(): Promise<[number, number]> {
  const uid = Number((await runOk('id', ['-u', 'postgres'])).stdout.toString('utf8').trim());
  const gid = Number((await runOk('id', ['-g', 'postgres'])).stdout.toString('utf8').trim());
  return [uid, gid];
}

/** MariaDB 10.11 on `ip`:3306 with user `user`@`%` (password `password`) owning database `database`. */
export async function startMariadb(scope: Scope, ns: Netns, ip: string, opts: { readonly user: string; readonly password: string; readonly database: string }): Promise<void> {
  const dir = tempDir(scope, 'maria');
  const data = join(dir, 'data');
  const socket = join(dir, 'mysqld.sock');
  await runOk('mariadb-install-db', ['--no-defaults', `--datadir=${data}`, '--user=root', '--auth-root-authentication-method=normal', '--skip-test-db']);
  ns.spawn('mariadbd', ['--no-defaults', `--datadir=${data}`, '--user=root', `--socket=${socket}`, `--port=${MARIADB_PORT}`, `--bind-address=${ip}`, '--skip-name-resolve', `--pid-file=${join(dir, 'mysqld.pid')}`]);
  await waitForPort(ns, ip, MARIADB_PORT, 30_000);
  // The setup goes over the Unix socket (a path, not in any network namespace): not captured.
  const q = (s: string): string => s.replace(/[\\']/g, (c) => `\\${c}`);
  await runOk('mariadb', ['--no-defaults', '-S', socket, '-u', 'root', '-e', `CREATE DATABASE \`${opts.database}\`; CREATE USER '${q(opts.user)}'@'%' IDENTIFIED BY '${q(opts.password)}'; GRANT ALL ON \`${opts.database}\`.* TO '${q(opts.user)}'@'%';`]);
}
