/**
 * How many CPUs the kernel may ever run (/sys/devices/system/cpu/possible, e.g. "0-1" or "0,2-7"):
 * a per-CPU map's lookup copies one value slot per possible CPU, online or not, so this (not
 * os.cpus().length, which counts the online ones) sizes the buffer.
 */
import { readFileSync } from 'node:fs';

const POSSIBLE_CPUS_FILE = '/sys/devices/system/cpu/possible';

/** The number of CPUs in a kernel CPU list ("0-3,5"); throws on anything else. */
export function countCpuList(text: string): number {
  const list = text.trim();
  if (list === '') throw new Error('empty CPU list');
  let count = 0;
  for (const part of list.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (m === null) throw new Error(`not a CPU list: ${JSON.stringify(list.slice(0, 80))}`);
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    if (last < first) throw new Error(`not a CPU list: ${JSON.stringify(list.slice(0, 80))}`);
    count += last - first + 1;
  }
  return count;
}

let possible: number | undefined;

export function possibleCpus(): number {
  possible ??= countCpuList(readFileSync(POSSIBLE_CPUS_FILE, 'utf8'));
  return possible;
}
