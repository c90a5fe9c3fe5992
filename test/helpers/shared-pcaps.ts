/**
 * Locates the public capture corpus (vendored in test/fixtures/pcaps from the team's shared corpus,
 * with PROVENANCE.md and tshark truth) and reads its tshark-made truth files.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The vendored corpus, part of every clone; SHARK_PCAPS points at another copy (e.g. a newer one). */
export const VENDORED_PCAPS_DIR = join(REPO_ROOT, 'test', 'fixtures', 'pcaps');

export function sharedPcapsDir(): string {
  const dir = process.env['SHARK_PCAPS'] ?? VENDORED_PCAPS_DIR;
  if (!existsSync(join(dir, 'INDEX.json'))) throw new Error(`no capture corpus (INDEX.json) in ${dir}`);
  return dir;
}

export interface IndexRecord {
  readonly file: string;
  readonly truth: string;
  readonly protocol: string;
  readonly packets: number;
  readonly bytes: number;
  readonly truth_records: number;
}

export function readIndex(dir: string): IndexRecord[] {
  return JSON.parse(readFileSync(join(dir, 'INDEX.json'), 'utf8')) as IndexRecord[];
}

export function readTruth<T>(dir: string, truthFile: string): T[] {
  return JSON.parse(readFileSync(join(dir, truthFile), 'utf8')) as T[];
}

/** Every capture file (.pcap, .pcapng, .cap) under `dir`, in its subfolders too, sorted. */
export function captureFilesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...captureFilesUnder(path));
    else if (/\.(pcap|pcapng|cap)$/.test(name)) out.push(path);
  }
  return out.sort();
}
