/**
 * Capturing in a namespace with tcpdump, looking at what the capture holds (frames over the MTU,
 * bad TCP checksums), and reading it back with our CLI (`kubectl shark read -o json`).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Entry } from '../../src/model/entry.ts';
import { entriesOf, type EntryOf } from './entries-of.ts';
import { run, type Netns } from './netns.ts';

export const REPO_ROOT = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');
export const NODE = join(REPO_ROOT, 'node_modules/.bin/node');

/** tcpdump's kernel buffer: bursts of 64 KiB GSO frames overrun the 2 MiB default. */
const BUFFER_KIB = 128 * 1024;

export class Capture {
  readonly file: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  #stderr = '';

  private constructor(child: ChildProcess, file: string) {
    this.#child = child;
    this.file = file;
    child.stderr?.on('data', (b: Buffer) => (this.#stderr += b.toString('utf8')));
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /** Starts `tcpdump -i IFACE -w FILE -U -s 0` inside `ns` and waits until it listens. */
  static async start(ns: Netns, iface: string, file: string): Promise<Capture> {
    const child = ns.spawn('tcpdump', ['-i', iface, '-w', file, '-U', '-s', '0', '-n', '--immediate-mode', '-B', String(BUFFER_KIB)]);
    const capture = new Capture(child, file);
    const deadline = Date.now() + 10_000;
    while (!capture.#stderr.includes('listening on')) {
      if (child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`tcpdump did not start in ${ns.name}: ${capture.#stderr.trim()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return capture;
  }

  /** Stops tcpdump (SIGINT, so it flushes) and waits for it to exit; returns its closing report. */
  async stop(): Promise<string> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      // `ip netns exec` execs tcpdump, so the child's pid is tcpdump's.
      this.#child.kill('SIGINT');
    }
    await this.#exited;
    return this.#stderr;
  }

  /** Packets tcpdump reported as dropped by the kernel (its buffer overran), from its report. */
  droppedByKernel(): number {
    const m = /(\d+) packets? dropped by kernel/.exec(this.#stderr);
    return m ? Number(m[1]) : 0;
  }
}

export interface CaptureFacts {
  readonly frames: number;
  /** Largest captured frame, bytes (Ethernet header included). */
  readonly largestFrame: number;
  /** Frames longer than MTU + Ethernet header (TSO/GSO segments). */
  readonly overMtuFrames: number;
  /** IPv4 TCP segments whose checksum does not verify (checksum offload). */
  readonly badTcpChecksums: number;
}

function onesSum(buf: Buffer, start: number, end: number, initial: number): number {
  let sum = initial;
  let i = start;
  for (; i + 1 < end; i += 2) sum += buf.readUInt16BE(i);
  if (i < end) sum += buf[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** Reads a classic pcap (as tcpdump -w writes) of Ethernet frames: what the offloads left in it. */
export function captureFacts(file: string, mtu = 1500): CaptureFacts {
  const data = readFileSync(file);
  const magic = data.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && data.readUInt32BE(0) !== 0xa1b2c3d4 && data.readUInt32BE(0) !== 0xa1b23c4d) {
    throw new Error(`${file} is not a classic pcap file`);
  }
  const u32 = (at: number): number => (le ? data.readUInt32LE(at) : data.readUInt32BE(at));
  let frames = 0;
  let largestFrame = 0;
  let overMtuFrames = 0;
  let badTcpChecksums = 0;
  for (let at = 24; at + 16 <= data.length; ) {
    const capLen = u32(at + 8);
    const origLen = u32(at + 12);
    const start = at + 16;
    at = start + capLen;
    if (at > data.length) break;
    frames += 1;
    largestFrame = Math.max(largestFrame, origLen);
    if (origLen > mtu + 14) overMtuFrames += 1;
    const f = data.subarray(start, start + capLen);
    if (capLen !== origLen || f.length < 34 || f.readUInt16BE(12) !== 0x0800) continue;
    const ihl = (f[14]! & 0x0f) * 4;
    if (f[14]! >> 4 !== 4 || f[23] !== 6) continue;
    const ipEnd = 14 + f.readUInt16BE(16);
    const tcp = 14 + ihl;
    if (ipEnd > f.length || ipEnd < tcp + 20) continue;
    const tcpLen = ipEnd - tcp;
    let pseudo = onesSum(f, 26, 34, 0) + 6 + tcpLen;
    pseudo = onesSum(f, tcp, ipEnd, pseudo);
    if (pseudo !== 0xffff) badTcpChecksums += 1;
  }
  return { frames, largestFrame, overMtuFrames, badTcpChecksums };
}

export interface ReadOutput {
  /** The HTTP entries (the traffic these tests make); `all` holds every entry. */
  readonly entries: EntryOf<'http'>[];
  readonly all: Entry[];
  /** The summary line(s) the CLI printed on stderr. */
  readonly stderr: string;
  readonly exitCode: number | null;
  /** Numbers parsed from the summary ("N gaps"), -1 when absent. */
  readonly gaps: number;
}

function newestMtime(dir: string): number {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const name of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    if (!name.endsWith('.ts') || name.endsWith('.test.ts')) continue;
    newest = Math.max(newest, statSync(join(dir, name)).mtimeMs);
  }
  return newest;
}

/**
 * How to start the CLI: the installed launcher (bin/kubectl-shark, compiled dist/) when the build
 * is at least as new as the sources (as under `npm test`), else the TypeScript entry point through
 * Node 24 type stripping, so a test run straight after an edit does not read a stale build.
 */
export function cliCommand(): [string, string[]] {
  const built = join(REPO_ROOT, 'dist/cmd/main.js');
  const sources = Math.max(newestMtime(join(REPO_ROOT, 'src')), newestMtime(join(REPO_ROOT, 'cmd')));
  if (existsSync(built) && statSync(built).mtimeMs >= sources) {
    return [join(REPO_ROOT, 'bin/kubectl-shark'), []];
  }
  return [NODE, [join(REPO_ROOT, 'cmd/main.ts')]];
}

/** True when the CLI can be run at all (the read pipeline exists in this checkout). */
export function cliAvailable(): string | null {
  for (const f of ['cmd/main.ts', 'src/remote-agent/source/capture-file.ts', 'src/remote-agent/capture-pipeline.ts']) {
    if (!existsSync(join(REPO_ROOT, f))) return `${f} is not there yet`;
  }
  return null;
}

/** Runs `kubectl shark read FILE -o json --max-body 16MiB` and parses its NDJSON. */
export async function readWithCli(file: string, extraArgs: readonly string[] = []): Promise<ReadOutput> {
  const [cmd, pre] = cliCommand();
  const result = await run(cmd, [...pre, 'read', file, '-o', 'json', '--max-body', '16MiB', ...extraArgs], {
    cwd: REPO_ROOT,
  });
  return parseOutput(result.stdout.toString('utf8'), result.stderr, result.code);
}

/**
 * `tcpdump -U -w - | kubectl shark read - -o json`: the live form of reading, with tcpdump inside
 * the namespace and our CLI outside it. `stop()` interrupts tcpdump; the CLI then sees the end of
 * its input and finishes.
 */
export class LiveRead {
  readonly #tcpdump: ChildProcess;
  readonly #cli: ChildProcess;
  readonly #done: Promise<ReadOutput>;
  #tcpdumpErr = '';

  private constructor(tcpdump: ChildProcess, cli: ChildProcess) {
    this.#tcpdump = tcpdump;
    this.#cli = cli;
    tcpdump.stderr?.on('data', (b: Buffer) => (this.#tcpdumpErr += b.toString('utf8')));
    tcpdump.stdout!.pipe(cli.stdin!);
    const out: Buffer[] = [];
    let err = '';
    cli.stdout?.on('data', (b: Buffer) => out.push(b));
    cli.stderr?.on('data', (b: Buffer) => (err += b.toString('utf8')));
    this.#done = new Promise((resolve, reject) => {
      cli.on('error', reject);
      cli.on('close', (code) => {
        try {
          resolve(parseOutput(Buffer.concat(out).toString('utf8'), err, code));
        } catch (e) {
          reject(e);
        }
      });
    });
  }

  static async start(ns: Netns, iface: string): Promise<LiveRead> {
    const tcpdump = ns.spawn('tcpdump', ['-i', iface, '-w', '-', '-U', '-s', '0', '-n', '--immediate-mode', '-B', String(BUFFER_KIB)]);
    const [cmd, pre] = cliCommand();
    const cli = spawn(cmd, [...pre, 'read', '-', '-o', 'json', '--max-body', '16MiB'], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    const live = new LiveRead(tcpdump, cli);
    const deadline = Date.now() + 10_000;
    while (!live.#tcpdumpErr.includes('listening on')) {
      if (tcpdump.exitCode !== null || Date.now() > deadline) {
        cli.kill('SIGKILL');
        throw new Error(`tcpdump did not start in ${ns.name}: ${live.#tcpdumpErr.trim()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return live;
  }

  /** Kills both processes (clean-up after a failure); harmless once stopped. */
  abort(): void {
    if (this.#tcpdump.exitCode === null && this.#tcpdump.signalCode === null) this.#tcpdump.kill('SIGKILL');
    if (this.#cli.exitCode === null && this.#cli.signalCode === null) this.#cli.kill('SIGKILL');
  }

  /** Stops tcpdump, waits for the CLI to finish and returns what it printed. */
  async stop(): Promise<ReadOutput & { tcpdumpReport: string }> {
    if (this.#tcpdump.exitCode === null && this.#tcpdump.signalCode === null) this.#tcpdump.kill('SIGINT');
    const timer = setTimeout(() => this.#cli.kill('SIGKILL'), 60_000);
    try {
      const out = await this.#done;
      return { ...out, tcpdumpReport: this.#tcpdumpErr.trim().split('\n').slice(-3).join('; ') };
    } finally {
      clearTimeout(timer);
    }
  }
}

function parseOutput(text: string, stderr: string, exitCode: number | null): ReadOutput {
  const all: Entry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    all.push(JSON.parse(line) as Entry);
  }
  const gapMatch = /(\d+) gaps/.exec(stderr);
  return { entries: entriesOf(all, 'http'), all, stderr: stderr.trim(), exitCode, gaps: gapMatch ? Number(gapMatch[1]) : -1 };
}
