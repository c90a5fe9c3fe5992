/**
 * Preloaded into a CLI under test (NODE_OPTIONS=--import=this file): appends the URL of every
 * module the process loads, one per line, to the file named by SHARK_MODULE_LOG. Tests use it to
 * check what a command compiles (issue 17: `read -o json` must not load the TUI, tap or Kubernetes).
 */
import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const out = process.env.SHARK_MODULE_LOG;
if (out !== undefined && out !== '') {
  registerHooks({
    load(url, context, nextLoad) {
      appendFileSync(out, `${url}\n`);
      return nextLoad(url, context);
    },
  });
}
