/**
 * Anthropic's error shape: one `error.type` per status (spec A.7, plus the types Anthropic's
 * API documents for 402, 413 and 504), the body, and the stream error's type from its message.
 */
import assert from "node:assert/strict";
import {
  anthropicErrorResponse,
  anthropicErrorType,
  streamErrorType,
} from "../../../lib/doors/anthropic/errors.ts";

Deno.test("errors: status → error.type, one row each", () => {
  const table: [number, string][] = [
    [400, "invalid_request_error"],
    [401, "authentication_error"],
    [402, "billing_error"],
    [403, "permission_error"],
    [404, "not_found_error"],
    [405, "api_error"],
    [413, "request_too_large"],
    [429, "rate_limit_error"],
    [500, "api_error"],
    [502, "api_error"],
    [503, "overloaded_error"],
    [504, "timeout_error"],
    [529, "overloaded_error"],
  ];
  for (const [status, type] of table) assert.equal(anthropicErrorType(status), type, `${status}`);
});

Deno.test("errors: the response keeps the status and carries the JSON body", async () => {
  const res = anthropicErrorResponse(404, "model 'nonexistent' not found");
  assert.equal(res.status, 404);
  assert.match(res.headers.get("content-type")!, /^application\/json/);
  assert.deepEqual(await res.json(), {
    type: "error",
    error: { type: "not_found_error", message: "model 'nonexistent' not found" },
  });
});

Deno.test("errors: capacity failures after the first byte are overloaded_error, others api_error", () => {
  assert.equal(
    streamErrorType("No instances available (yet) for chute_id='x'"),
    "overloaded_error",
  );
  assert.equal(
    streamErrorType("Infrastructure is at maximum capacity, try again later"),
    "overloaded_error",
  );
  assert.equal(streamErrorType("upstream answered HTTP 503"), "overloaded_error");
  assert.equal(streamErrorType("upstream sent malformed JSON in its stream: {"), "api_error");
  assert.equal(streamErrorType("tool call arguments are not valid JSON"), "api_error");
});
