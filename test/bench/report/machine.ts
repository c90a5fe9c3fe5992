/**
 * The machine a benchmark run measured on, for figures.json and the README's table: figures from
 * another machine are not comparable, so every table says where it came from.
 */
import { spawnSync } from 'node:child_process';
import { cpus, release, totalmem } from 'node:os';
import type { Machine } from './performance-section.ts';

/** The first line a command prints (stdout, else stderr), or null when it cannot run. */
function firstLine(cmd: string, args: readonly string[], cwd?: string): string | null {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd, timeout: 10_000 });
  if (r.error !== undefined || r.status !== 0) return null;
  const line = (r.stdout.trim() || r.stderr.trim()).split('\n')[0]?.trim();
  return line === undefined || line === '' ? null : line;
}

/** `TShark (Wireshark) 4.0.17 (Git ...)` -> `4.0.17`; `h2load nghttp2/1.52.0` -> `1.52.0`; `jq-1.6` as it is. */
function version(line: string | null): string | null {
  if (line === null) return null;
  const m = /(\d+\.\d+(?:\.\d+)?)/.exec(line);
  return m ? m[1]! : line;
}

export function describeMachine(root: string, date: Date = new Date()): Machine {
  const cpuList = cpus();
  const head = firstLine('git', ['rev-parse', '--short', 'HEAD'], root);
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' }).stdout.trim() !== '';
  return {
    cpu: cpuList[0]?.model.trim() ?? 'unknown CPU',
    cores: cpuList.length,
    memoryBytes: totalmem(),
    kernel: release(),
    node: process.version,
    tools: { tshark: version(firstLine('tshark', ['--version'])), jq: version(firstLine('jq', ['--version'])), h2load: version(firstLine('h2load', ['--version'])) },
    date: date.toISOString(),
    commit: head === null ? 'unknown' : `${head}${dirty ? '+changes' : ''}`,
  };
}
