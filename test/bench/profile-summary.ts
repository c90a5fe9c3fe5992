/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per function, biggest first.
 *   node test/bench/profile-summary.ts FILE.cpuprofile [top=25]
 */
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface HotSpot {
  /** "file:function:line" relative to the repository where possible. */
  readonly where: string;
  readonly selfMs: number;
  readonly selfPercent: number;
}

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

function label(frame: CallFrame): string {
  let file = frame.url;
  if (file.startsWith('file://')) file = relative(ROOT, fileURLToPath(file));
  if (file === '') file = '(native)';
  const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
  return `${file}:${name}:${frame.lineNumber + 1}`;
}

export function summarizeProfile(profile: CpuProfile): HotSpot[] {
  const byId = new Map<number, ProfileNode>();
  for (const n of profile.nodes) byId.set(n.id, n);
  const selfUs = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!);
    const dt = profile.timeDeltas[i] ?? 0;
    if (node === undefined || dt <= 0) continue;
    const key = label(node.callFrame);
    selfUs.set(key, (selfUs.get(key) ?? 0) + dt);
    total += dt;
  }
  return [...selfUs.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([where, us]) => ({ where, selfMs: Math.round(us / 100) / 10, selfPercent: total > 0 ? Math.round((1000 * us) / total) / 10 : 0 }));
}

export function readProfile(path: string): CpuProfile {
  return JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (file === undefined) {
    process.stderr.write('usage: node test/bench/profile-summary.ts FILE.cpuprofile [top]\n');
    process.exit(2);
  }
  const top = Number(process.argv[3] ?? 25);
  for (const h of summarizeProfile(readProfile(file)).slice(0, top)) {
    process.stdout.write(`${h.selfPercent.toFixed(1).padStart(5)}%  ${h.selfMs.toFixed(0).padStart(7)} ms  ${h.where}\n`);
  }
}
