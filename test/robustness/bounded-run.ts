/**
 * Runs a module's exported `run()` in a worker thread and gives up after a bound, so a stage
 * stuck in a synchronous loop fails a test instead of freezing the test runner. The bound is a
 * hang detector with a wide margin over the expected run time, not a performance assertion.
 */
import { Worker } from 'node:worker_threads';

export type BoundedResult = { readonly kind: 'done'; readonly value: unknown } | { readonly kind: 'hang' } | { readonly kind: 'error'; readonly error: string };

/** `moduleUrl` must export `run(arg): unknown | Promise<unknown>` returning structured-cloneable data. */
export function runBounded(moduleUrl: URL, arg: unknown, seconds: number): Promise<BoundedResult> {
  const script = `
    import { parentPort, workerData } from 'node:worker_threads';
    const m = await import(workerData.url);
    try {
      parentPort.postMessage({ kind: 'done', value: await m.run(workerData.arg) });
    } catch (err) {
      parentPort.postMessage({ kind: 'error', error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
  `;
  return new Promise((resolve) => {
    const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(script)}`), { workerData: { url: moduleUrl.href, arg } });
    const timer = setTimeout(() => {
      void worker.terminate();
      resolve({ kind: 'hang' });
    }, seconds * 1000);
    worker.on('message', (m: BoundedResult) => {
      clearTimeout(timer);
      void worker.terminate();
      resolve(m);
    });
    worker.on('error', (err) => {
      clearTimeout(timer);
      resolve({ kind: 'error', error: err.stack ?? err.message });
    });
  });
}
