import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_DISSECT_OPTIONS } from '../remote-agent/dissect/dissector.ts';
import { AGENT_FLAGS, parseAgentFlags } from './agent-flags.ts';
import { DEFAULT_MAX_BODY_BYTES } from './body-limit.ts';

test('one default --max-body: the agent (tap) and the in-process dissectors (read) keep the same body bytes', () => {
  assert.equal(DEFAULT_MAX_BODY_BYTES, 64 * 1024);
  assert.equal(AGENT_FLAGS['max-body'].default, DEFAULT_MAX_BODY_BYTES);
  assert.equal(DEFAULT_DISSECT_OPTIONS.maxBodyBytes, DEFAULT_MAX_BODY_BYTES);
  const parsed = parseAgentFlags([]);
  assert.ok(parsed.ok);
  if (parsed.ok) assert.equal(parsed.values['max-body'], DEFAULT_MAX_BODY_BYTES);
});
