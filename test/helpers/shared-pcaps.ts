/**
 * Locates the public capture corpus (`shared/pcaps`, beside the repository in development and in CI)
 * and reads its tshark-made truth files.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function sharedPcapsDir(): string | undefined {
  const candidates = [process.env['SHARK_PCAPS'], join(REPO_ROOT, '..', 'shared', 'pcaps')];
  return candidates.find((dir): dir is string => dir !== undefined && existsSync(join(dir, 'INDEX.json')));
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
