import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NICE, OOM_SCORE_ADJ, yieldToApp, type YieldSystem } from './yield-to-app.ts';

/** A /proc and setpriority that behave as told: files as a map, priorities per thread. */
function fakeSystem(o: { readOnlyProc?: boolean; failPriority?: (tid: number) => string | null; threads?: number[] } = {}): YieldSystem & { nices: Map<number, number>; files: Map<string, string> } {
  const files = new Map([['/proc/self/oom_score_adj', '0\n']]);
  const nices = new Map<number, number>();
  return {
    files,
    nices,
    readText: (path) => {
      const text = files.get(path);
      if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return text;
    },
    writeText: (path, text) => {
      if (o.readOnlyProc) throw Object.assign(new Error(`EROFS: read-only file system, open '${path}'`), { code: 'EROFS' });
      files.set(path, `${text}\n`);
    },
    threads: () => o.threads ?? [process.pid, process.pid + 1, process.pid + 2],
    setPriority: (tid, nice) => {
      const code = o.failPriority?.(tid) ?? null;
      if (code !== null) throw Object.assign(new Error(`${code}: setpriority ${tid}`), { code });
      nices.set(tid, nice);
    },
    getPriority: (tid) => nices.get(tid) ?? 0,
  };
}

test('raises oom_score_adj to 1000 and sets nice 19 on every thread, main thread first', () => {
  const sys = fakeSystem();
  const order: number[] = [];
  const set = sys.setPriority;
  sys.setPriority = (tid, nice) => {
    order.push(tid);
    set(tid, nice);
  };
  const r = yieldToApp(sys);
  assert.deepEqual(r, { oomScoreAdj: OOM_SCORE_ADJ, nice: NICE, warnings: [] });
  assert.equal(sys.files.get('/proc/self/oom_score_adj'), '1000\n');
  assert.deepEqual([...sys.nices.values()], [19, 19, 19]);
  assert.equal(order[0], process.pid);
});

test('a read-only /proc is a warning, not a failure; the priority is still lowered', () => {
  const r = yieldToApp(fakeSystem({ readOnlyProc: true }));
  assert.equal(r.oomScoreAdj, 0);
  assert.equal(r.nice, 19);
  assert.deepEqual(r.warnings.map((w) => w.code), ['OOM_SCORE']);
  assert.match(r.warnings[0]!.message, /could not raise \/proc\/self\/oom_score_adj to 1000 \(EROFS.*\): if the pod runs out of memory, the kernel may kill the app instead of the agent/);
});

test('setpriority refused is a CPU_PRIORITY warning; a thread that ended meanwhile (ESRCH) is not', () => {
  const gone = yieldToApp(fakeSystem({ failPriority: (tid) => (tid === process.pid + 2 ? 'ESRCH' : null) }));
  assert.deepEqual(gone.warnings, []);
  const refused = yieldToApp(fakeSystem({ failPriority: () => 'EACCES' }));
  assert.equal(refused.nice, 0);
  assert.deepEqual(refused.warnings.map((w) => w.code), ['CPU_PRIORITY']);
  assert.match(refused.warnings[0]!.message, /could not lower the agent's CPU priority to nice 19 on every thread \(thread \d+: EACCES/);
});

test('an unreadable /proc/self/task still lowers the main thread, and says what failed', () => {
  const sys = fakeSystem();
  sys.threads = () => {
    throw new Error('ENOENT: /proc/self/task');
  };
  const r = yieldToApp(sys);
  assert.equal(r.nice, 19);
  assert.deepEqual(r.warnings.map((w) => w.code), ['CPU_PRIORITY']);
  assert.match(r.warnings[0]!.message, /listing threads: ENOENT/);
});
