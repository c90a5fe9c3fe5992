import { test } from 'node:test';
import assert from 'node:assert/strict';
import { captureSecurityContext, chooseProfile, TLS_PROFILE_NOTICE } from './profile.ts';

test('--tls picks the privileged profile and says why in one line; --tls with --profile auto is refused', () => {
  assert.deepEqual(chooseProfile(undefined, false), { ok: true, profile: 'auto', notice: null });
  assert.deepEqual(chooseProfile('privileged', false), { ok: true, profile: 'privileged', notice: null });
  assert.deepEqual(chooseProfile(undefined, true), { ok: true, profile: 'privileged', notice: TLS_PROFILE_NOTICE });
  // Asked for explicitly: nothing to explain.
  assert.deepEqual(chooseProfile('privileged', true), { ok: true, profile: 'privileged', notice: null });
  const refused = chooseProfile('auto', true);
  assert.equal(refused.ok, false);
  assert.match(refused.ok ? '' : refused.message, /^--profile auto cannot capture TLS: --tls loads eBPF probes through bpf\(\) and perf_event_open\(\).*Leave --profile out \(--tls picks privileged\) or give --profile privileged$/);
  assert.ok(!TLS_PROFILE_NOTICE.includes('\n'), 'one line');
  assert.match(TLS_PROFILE_NOTICE, /--profile privileged.*bpf\(\) and perf_event_open\(\).*seccomp/);
  assert.deepEqual(captureSecurityContext('privileged'), { privileged: true, runAsUser: 0, runAsNonRoot: false });
});
