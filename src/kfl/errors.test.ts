/**
 * Acceptance 1 (second half): bad queries, each with its exact error code, 1-based column, caret
 * length and message. Messages say what was expected and what was found; tests pin them because
 * users (and the docs) read them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileKfl } from './index.ts';

type Row = readonly [query: string, code: string, column: number, length: number, message: string];

const BAD_QUERIES: readonly Row[] = [
  ["(http", 'KFL_SYNTAX', 6, 1, "expected \")\" to close \"(\" at column 1, found end of query"],
  ["http and", 'KFL_SYNTAX', 9, 1, "expected an expression after \"and\", found end of query"],
  ["status_code ==", 'KFL_SYNTAX', 15, 1, "expected a value after \"==\", found end of query"],
  ["== 200", 'KFL_SYNTAX', 1, 2, "expected an expression, found \"==\""],
  [")", 'KFL_SYNTAX', 1, 1, "expected an expression, found \")\""],
  ["http)", 'KFL_SYNTAX', 5, 1, "unexpected \")\": no \"(\" to close"],
  ["http dns", 'KFL_SYNTAX', 6, 3, "expected an operator or end of query after \"http\", found \"dns\""],
  ["()", 'KFL_SYNTAX', 2, 1, "expected an expression after \"(\", found \")\""],
  ["response.status = 200", 'KFL_SYNTAX', 17, 1, "unexpected \"=\": use \"==\" to compare"],
  ["a & b", 'KFL_SYNTAX', 3, 1, "unexpected \"&\": use \"&&\" or \"and\""],
  ["a | b", 'KFL_SYNTAX', 3, 1, "unexpected \"|\": use \"||\" or \"or\""],
  ["a @ b", 'KFL_SYNTAX', 3, 1, "unexpected character \"@\""],
  ["\"abc", 'KFL_BAD_LITERAL', 1, 4, "unterminated string: expected a closing \" before end of query"],
  ["'abc", 'KFL_BAD_LITERAL', 1, 4, "unterminated string: expected a closing ' before end of query"],
  ["r\"abc", 'KFL_BAD_LITERAL', 1, 5, "unterminated regex: expected a closing \" before end of query"],
  ["\"\\u12\"", 'KFL_BAD_LITERAL', 2, 4, "invalid escape \"\\u12\": expected 4 hex digits after \\u"],
  ["12abc", 'KFL_BAD_LITERAL', 1, 5, "invalid number \"12abc\""],
  ["1.2.3", 'KFL_BAD_LITERAL', 1, 5, "invalid number \"1.2.3\""],
  ["request.", 'KFL_SYNTAX', 9, 1, "expected a field name, \"*\" or a method after \".\", found end of query"],
  ["request.headers[\"a\"", 'KFL_SYNTAX', 20, 1, "expected \"]\" to close \"[\" at column 16, found end of query"],
  ["request..", 'KFL_SYNTAX', 10, 1, "expected a field name after \"..\", found end of query"],
  ["foo(1)", 'KFL_UNKNOWN_FUNCTION', 1, 3, "unknown function foo()"],
  ["request.path.startswith(\"/\")", 'KFL_UNKNOWN_FUNCTION', 14, 10, "unknown method .startswith(): did you mean .startsWith()?"],
  ["request.path.xml()", 'KFL_UNKNOWN_FUNCTION', 14, 3, "unknown method .xml()"],
  ["startsWith(request.path, \"/\")", 'KFL_UNKNOWN_FUNCTION', 1, 10, "unknown function startsWith(): startsWith() is a method, write value.startsWith(...)"],
  ["len(x).len()", 'KFL_UNKNOWN_FUNCTION', 8, 3, "unknown method .len(): len() is a function, write len(x)"],
  ["size()", 'KFL_BAD_ARGUMENTS', 1, 6, "size() expects 1 argument, found 0"],
  ["size(1, 2)", 'KFL_BAD_ARGUMENTS', 1, 10, "size() expects 1 argument, found 2"],
  ["request.path.startsWith()", 'KFL_BAD_ARGUMENTS', 14, 12, "startsWith() expects 1 argument, found 0"],
  ["request.path.json(1)", 'KFL_BAD_ARGUMENTS', 14, 7, "json() expects 0 arguments, found 1"],
  ["limit(-1)", 'KFL_BAD_ARGUMENTS', 7, 2, "limit() expects a whole number of entries (0 or more), found number -1"],
  ["limit(\"a\")", 'KFL_BAD_ARGUMENTS', 7, 3, "limit() expects a whole number of entries (0 or more), found string \"a\""],
  ["limit(1.5)", 'KFL_BAD_ARGUMENTS', 7, 3, "limit() expects a whole number of entries (0 or more), found number 1.5"],
  ["redact()", 'KFL_BAD_ARGUMENTS', 1, 8, "redact() expects at least 1 argument, found 0"],
  ["redact(1)", 'KFL_BAD_ARGUMENTS', 8, 1, "redact() expects quoted paths, found number 1"],
  ["redact(\"request..\")", 'KFL_BAD_ARGUMENTS', 8, 11, "redact() path \"request..\" is not a path: expected a field name after \"..\", found end of query"],
  ["datetime(\"yesterday\")", 'KFL_BAD_LITERAL', 10, 11, "datetime() cannot read \"yesterday\": expected ISO 8601 or \"1/2/2006, 3:04:05.000 PM\""],
  ["timestamp(\"2024-01-01\")", 'KFL_BAD_LITERAL', 11, 12, "timestamp() cannot read \"2024-01-01\": expected RFC 3339 such as \"2026-03-14T22:00:00Z\""],
  ["duration(\"5 minutes\")", 'KFL_BAD_LITERAL', 10, 11, "duration() cannot read \"5 minutes\": expected a duration such as \"5m\", \"1h30m\" or \"250ms\""],
  ["hours(\"a\")", 'KFL_BAD_ARGUMENTS', 7, 3, "hours() expects a number, found string \"a\""],
  ["map_get(request.headers, \"a\")", 'KFL_BAD_ARGUMENTS', 1, 29, "map_get() expects 3 arguments, found 2"],
  ["response.status == r\"4[0-9\"", 'KFL_BAD_REGEX', 20, 8, "invalid regex \"4[0-9\": missing closing ]"],
  ["url.matches(\"(\")", 'KFL_BAD_REGEX', 13, 3, "invalid regex \"(\": missing closing )"],
  ["url.matches(r\"a**\")", 'KFL_BAD_REGEX', 13, 6, "invalid regex \"a**\": invalid nested repetition operator"],
  ["r\"abc\"", 'KFL_SYNTAX', 1, 6, "regex \"abc\" can only be compared with \"==\" or \"!=\", or passed to matches()"],
  ["x > r\"a\"", 'KFL_SYNTAX', 5, 4, "regex \"a\" can only be compared with \"==\" or \"!=\", or passed to matches()"],
  ["r\"a\" == r\"b\"", 'KFL_SYNTAX', 6, 2, "cannot compare two regexes: one side of \"==\" must be a value"],
  ["[1, 2", 'KFL_SYNTAX', 6, 1, "expected \",\" or \"]\" to close \"[\" at column 1, found end of query"],
  ["[1 2]", 'KFL_SYNTAX', 4, 1, "expected \",\" or \"]\" to close \"[\" at column 1, found number 2"],
  ["f(1 2)", 'KFL_SYNTAX', 5, 1, "expected \",\" or \")\" to close \"(\" at column 2, found number 2"],
  ["http and and dns", 'KFL_SYNTAX', 10, 3, "expected an expression after \"and\", found \"and\""],
  ["not", 'KFL_SYNTAX', 4, 1, "expected an expression after \"not\", found end of query"],
  ["!", 'KFL_SYNTAX', 2, 1, "expected an expression after \"!\", found end of query"],
  ["-", 'KFL_SYNTAX', 2, 1, "expected a value after \"-\", found end of query"],
  ["a ==== b", 'KFL_SYNTAX', 5, 2, "expected a value after \"==\", found \"==\""],
  ["a.b[]", 'KFL_SYNTAX', 5, 1, "expected a key or index after \"[\", found \"]\""],
  ["a..1", 'KFL_SYNTAX', 4, 1, "expected a field name after \"..\", found number 1"],
  ["request.headers[", 'KFL_SYNTAX', 17, 1, "expected a value after \"[\", found end of query"],
  ["\"x\" in", 'KFL_SYNTAX', 7, 1, "expected a value after \"in\", found end of query"],
  ["a < < b", 'KFL_SYNTAX', 5, 1, "expected a value after \"<\", found \"<\""],
  ["datetime(1)", 'KFL_BAD_ARGUMENTS', 10, 1, "datetime() expects a quoted string, found number 1"],
  ["now(1)", 'KFL_BAD_ARGUMENTS', 1, 6, "now() expects 0 arguments, found 1"],
  ["json()", 'KFL_UNKNOWN_FUNCTION', 1, 4, "unknown function json(): json() is a method, write value.json(...)"],
  ["lenght(x)", 'KFL_UNKNOWN_FUNCTION', 1, 6, "unknown function lenght()"],
  ["x.contains(r\"a\")", 'KFL_SYNTAX', 12, 4, "regex \"a\" can only be compared with \"==\" or \"!=\", or passed to matches()"],
  ["in", 'KFL_SYNTAX', 1, 2, "expected an expression, found \"in\""],
  ["http or", 'KFL_SYNTAX', 8, 1, "expected an expression after \"or\", found end of query"],
  ["a.(b)", 'KFL_SYNTAX', 3, 1, "expected a field name, \"*\" or a method after \".\", found \"(\""],
  ["(((a)", 'KFL_SYNTAX', 6, 1, "expected \")\" to close \"(\" at column 2, found end of query"],
  ["\\", 'KFL_SYNTAX', 1, 1, "unexpected character \"\\\""],
  ["#comment", 'KFL_SYNTAX', 1, 1, "unexpected character \"#\""],
];

test(`at least 40 bad queries are pinned (${BAD_QUERIES.length})`, () => {
  assert.ok(BAD_QUERIES.length >= 40);
  assert.equal(new Set(BAD_QUERIES.map((r) => r[0])).size, BAD_QUERIES.length, 'no duplicate queries');
});

for (const [query, code, column, length, message] of BAD_QUERIES) {
  test(`error: ${query}`, () => {
    const result = compileKfl(query);
    assert.equal(result.ok, false, 'the query must not compile');
    if (result.ok) return;
    assert.deepEqual(
      { code: result.error.code, column: result.error.column, length: result.error.length, message: result.error.message },
      { code, column, length, message },
    );
  });
}

test('display is the query, a caret line under the span, and the message', () => {
  const result = compileKfl('http and (response.status == 500');
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.equal(
    result.error.display,
    [
      'http and (response.status == 500',
      `${' '.repeat(32)}^`, // column 33: just past the end
      'error: expected ")" to close "(" at column 10, found end of query',
    ].join('\n'),
  );
});

test('display carets span the whole offending token', () => {
  const result = compileKfl('request.path.startswith("/api")');
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.equal(
    result.error.display,
    'request.path.startswith("/api")\n             ^^^^^^^^^^\nerror: unknown method .startswith(): did you mean .startsWith()?',
  );
});

test('display keeps columns aligned when the query spans lines', () => {
  const result = compileKfl('http and\n  status_code =');
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.equal(result.error.column, 24);
  assert.equal(result.error.display, 'http and   status_code =\n                       ^\nerror: unexpected "=": use "==" to compare');
});

test('deep nesting is a syntax error, not a stack overflow', () => {
  const result = compileKfl(`${'('.repeat(5000)}http${')'.repeat(5000)}`);
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.equal(result.error.code, 'KFL_SYNTAX');
  assert.equal(result.error.message, 'query nests deeper than 400 levels');
});

test('a long flat chain is fine, a deep operator chain is refused', () => {
  const flat = compileKfl(Array.from({ length: 5000 }, () => 'http').join(' or '));
  assert.equal(flat.ok, true);
  const deep = compileKfl(`x == ${Array.from({ length: 2000 }, () => '1').join(' + ')}`);
  assert.equal(deep.ok, false);
  if (!deep.ok) assert.equal(deep.error.message, 'query nests deeper than 400 levels');
});
