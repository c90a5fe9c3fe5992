import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BenchSectionError, replaceBenchSection } from './readme-section.ts';

const readme = ['# x', '', '## Performance', '', 'prose', '<!-- bench:begin -->', 'old table', 'old line', '<!-- bench:end -->', '', '## Next', ''].join('\n');

test('replaces only what is between the markers', () => {
  const out = replaceBenchSection(readme, 'new 1\nnew 2\n');
  assert.equal(out, ['# x', '', '## Performance', '', 'prose', '<!-- bench:begin -->', 'new 1', 'new 2', '<!-- bench:end -->', '', '## Next', ''].join('\n'));
  assert.equal(replaceBenchSection(out, 'new 1\nnew 2\n'), out, 'regenerating the same body changes nothing');
});

test('a missing marker is a clear error naming the file and the marker', () => {
  assert.throws(() => replaceBenchSection('# x\n<!-- bench:begin -->\n', 'b', 'README.md'), (e: unknown) => e instanceof BenchSectionError && /^README\.md: no <!-- bench:end --> line/.test(e.message));
  assert.throws(() => replaceBenchSection('# x\n', 'b', 'README.md'), /no <!-- bench:begin --> and <!-- bench:end --> line/);
});

test('repeated or reversed markers are errors, not a second table', () => {
  assert.throws(() => replaceBenchSection(`${readme}\n<!-- bench:begin -->\n`, 'b'), /appears 2 times/);
  assert.throws(() => replaceBenchSection('<!-- bench:end -->\n<!-- bench:begin -->\n', 'b'), /line 1\) comes before <!-- bench:begin --> \(line 2\)/);
});
