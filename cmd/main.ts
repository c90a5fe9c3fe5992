#!/usr/bin/env node
/**
 * Entry point of `kubectl shark`. It only turns on the compile cache and then loads the command
 * line (cli.ts) with a dynamic import: static imports would be compiled before the cache is on.
 */
import { enableCompileCache } from './compile-cache.ts';

enableCompileCache();
const { main } = await import('./cli.ts');
const { hideBin } = await import('yargs/helpers');
await main(hideBin(process.argv));
