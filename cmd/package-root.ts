/** The checkout (or installed package) the CLI runs from: where assets/, README.md and docs/ are. */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Works from cmd/ (sources, under tsx) and from dist/cmd/ (compiled). */
export function packageRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return here.endsWith(join('dist', 'cmd')) ? join(here, '..', '..') : join(here, '..');
}
