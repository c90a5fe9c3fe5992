#!/usr/bin/env node
/**
 * Entry point of `kubectl shark`. It only turns on the compile cache and then loads the command
 * line (cli.ts) with a dynamic import: static imports would be compiled before the cache is on.
 */
import { enableCompileCache } from './compile-cache.ts';

enableCompileCache();
// React (under Ink) picks its development or production build from NODE_ENV when first loaded;
// unset, it takes the development one, whose checks made a key press at 1M entries ~2x dearer
// (issue 17: p95 85 -> ~49 ms CPU at 100k entries). Set before anything loads React; a user's
// own NODE_ENV is left alone.
process.env['NODE_ENV'] ??= 'production';
const { main } = await import('./cli.ts');
// What yargs' hideBin gives under Node (it differs only in a bundled Electron app), without
// loading yargs: a plain `read` line never does (cli.ts, read-argv.ts).
await main(process.argv.slice(2));
