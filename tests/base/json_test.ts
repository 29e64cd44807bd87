/** The request-body JSON parser: its depth scan counts only real brackets, and in linear time. */
import assert from "node:assert/strict";
import { MAX_JSON_DEPTH, nestedDeeperThan, parseJsonBody } from "../../lib/base/json.ts";
import { ProxyError } from "../../lib/base/errors.ts";

const nest = (n: number) => `${"[".repeat(n)}${"]".repeat(n)}`;

Deno.test("nestedDeeperThan counts arrays and objects, never brackets inside strings", () => {
  assert.equal(nestedDeeperThan(nest(MAX_JSON_DEPTH), MAX_JSON_DEPTH), false);
  assert.equal(nestedDeeperThan(nest(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH), true);
  assert.equal(nestedDeeperThan(`{"a":{"b":[1]}}`, 3), false);
  assert.equal(nestedDeeperThan(`{"a":{"b":[[1]]}}`, 3), true);
  assert.equal(nestedDeeperThan(JSON.stringify({ s: "[[[[[[{{{{" }), 1), false);
  // An escaped quote does not end the string; an escaped backslash before a quote does.
  assert.equal(nestedDeeperThan(JSON.stringify({ s: 'a"[[[[' }), 1), false);
  assert.equal(nestedDeeperThan(JSON.stringify({ s: "a\\" }) + "[[[", 2), true);
  assert.equal(nestedDeeperThan('"unterminated [[[[', 1), false);
});

Deno.test("parseJsonBody: too deep or invalid is a 400 naming the problem", () => {
  assert.deepEqual(parseJsonBody('{"a":[1,{"b":null}]}'), { a: [1, { b: null }] });
  for (
    const [text, pattern] of [[nest(100_000), /nested deeper than 128 levels/], [
      "{",
      /invalid JSON/,
    ]] as const
  ) {
    assert.throws(() => parseJsonBody(text), (err: unknown) => {
      assert.ok(err instanceof ProxyError);
      assert.equal(err.status, 400);
      assert.match(err.message, pattern);
      return true;
    });
  }
});
