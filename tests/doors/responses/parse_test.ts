/**
 * The Responses door's boundary checks: each client mistake is a 400 that names the field (in
 * Ollama's words where it has them: B.3, B.8 cases 3 and 6), fields the door cannot honour are
 * refused, and accepted-but-unused fields are noted rather than dropped silently.
 */
import assert from "node:assert/strict";
import { ProxyError } from "../../../lib/base/errors.ts";
import { parseResponsesRequest } from "../../../lib/doors/responses/parse.ts";

function rejects(body: Record<string, unknown>, message: RegExp): void {
  assert.throws(() => parseResponsesRequest({ model: "m", ...body }), (err: unknown) => {
    assert.ok(err instanceof ProxyError, String(err));
    assert.equal(err.status, 400);
    assert.match(err.message, message);
    return true;
  });
}

Deno.test("responses parse: the model and the input are required", () => {
  assert.throws(() => parseResponsesRequest({ input: "x" }), /model: you must provide a model/);
  rejects({}, /^input: must be a string or an array/);
  rejects({ input: 5 }, /^input: must be a string or an array/);
  // With previous_response_id the input may be empty (the stored conversation continues).
  assert.deepEqual(parseResponsesRequest({ model: "m", previous_response_id: "resp_1" }).input, []);
});

Deno.test("responses parse: reasoning.effort values, `extreme` refused (B.8 case 3)", () => {
  for (const effort of ["none", "minimal", "low", "medium", "high", "xhigh", "max"]) {
    assert.equal(
      parseResponsesRequest({ model: "m", input: "x", reasoning: { effort } }).effort,
      effort,
    );
  }
  rejects(
    { input: "x", reasoning: { effort: "extreme" } },
    /reasoning\.effort: invalid reasoning value: "extreme"/,
  );
});

Deno.test("responses parse: images must be base64 data URLs of jpeg, png or webp (B.8 case 6)", () => {
  const image = (url: string) => ({
    input: [{ role: "user", content: [{ type: "input_image", image_url: url }] }],
  });
  rejects(
    image("data:image/gif;base64,R0lGOD"),
    /input\[0\]\.content\[0\]\.image_url: invalid image input/,
  );
  rejects(
    image("https://example.com/a.png"),
    /image URLs are not currently supported, please use base64 encoded data instead/,
  );
  rejects(
    { input: [{ role: "user", content: [{ type: "input_image", file_id: "f" }] }] },
    /file_id images/,
  );
  rejects(
    { input: [{ role: "user", content: [{ type: "input_file", file_id: "f" }] }] },
    /input\[0\]\.content\[0\]: file inputs are not currently supported/,
  );
  rejects(
    { input: [{ role: "user", content: [{ type: "audio" }] }] },
    /unknown content type: "audio"/,
  );
  const ok = parseResponsesRequest({ model: "m", ...image("data:image/webp;base64,UklGR") });
  assert.equal(ok.input.length, 1);
});

Deno.test("responses parse: items need a type or role, known types, and well-formed calls", () => {
  rejects({ input: [{ content: "x" }] }, /^input\[0\]: input item missing required 'type' field/);
  rejects({ input: ["x"] }, /^input\[0\]: an input item must be an object/);
  rejects(
    { input: [{ type: "computer_call" }] },
    /^input\[0\]: unknown input item type: "computer_call"/,
  );
  rejects({ input: [{ role: "tool", content: "x" }] }, /^input\[0\]\.role: must be one of/);
  rejects(
    { input: [{ type: "function_call", name: "f", arguments: "{}" }] },
    /input\[0\]\.call_id: required/,
  );
  rejects(
    { input: [{ type: "function_call", call_id: "c", name: "f", arguments: "{oops" }] },
    /input\[0\]\.arguments: failed to parse function call arguments/,
  );
  rejects(
    { input: [{ type: "custom_tool_call", call_id: "c", name: "p", input: {} }] },
    /input\[0\]\.input: required, a string/,
  );
  rejects(
    { input: [{ type: "custom_tool_call", call_id: "c", name: " ", input: "x" }] },
    /input\[0\]\.name: required/,
  );
  rejects(
    { input: [{ type: "custom_tool_call_output", call_id: "c", output: null }] },
    /input\[0\]\.output: must be a string or an array/,
  );
  rejects({ input: [{ type: "item_reference", id: "x" }] }, /item_reference is not supported/);
  const replayed = parseResponsesRequest({
    model: "m",
    input: [{ type: "web_search_call", id: "ws", status: "completed", action: {} }, "x"].map((i) =>
      typeof i === "string" ? { role: "user", content: i } : i
    ),
  });
  assert.equal(replayed.input.length, 1);
  assert.match(replayed.ignored.join(), /web_search_call items/);
});

Deno.test("responses parse: option types and ranges are checked, naming the field", () => {
  rejects({ input: "x", max_output_tokens: 0 }, /^max_output_tokens: must be an integer/);
  rejects({ input: "x", max_output_tokens: 1.5 }, /^max_output_tokens: must be an integer/);
  rejects({ input: "x", temperature: 3 }, /^temperature: must be a number from 0 to 2/);
  rejects({ input: "x", top_p: "1" }, /^top_p: must be a number/);
  rejects({ input: "x", stream: "yes" }, /^stream: must be true or false/);
  rejects({ input: "x", instructions: 1 }, /^instructions: must be a string/);
  rejects(
    { input: "x", text: { format: { type: "json_schema" } } },
    /^text\.format\.schema: required/,
  );
  rejects({ input: "x", text: { format: { type: "yaml" } } }, /^text\.format\.type: must be/);
  rejects({ input: "x", tools: {} }, /^tools: must be an array/);
  rejects({ input: "x", tools: [{ type: "function" }] }, /^tools\[0\]\.name: required/);
  rejects(
    { input: "x", tools: [{ type: "function", name: "f", parameters: "x" }] },
    /^tools\[0\]\.parameters/,
  );
  rejects(
    {
      input: "x",
      tools: [{ type: "function", name: "a__b" }, {
        type: "namespace",
        name: "a",
        tools: [{ type: "function", name: "b" }],
      }],
    },
    /^tools: the tool name "a__b" is used twice/,
  );
  rejects({ input: "x", tool_choice: "sometimes" }, /^tool_choice: must be/);
});

Deno.test("responses parse: background, conversation and prompt templates are refused", () => {
  rejects({ input: "x", background: true }, /^background: /);
  rejects({ input: "x", conversation: "conv_1" }, /^conversation: /);
  rejects({ input: "x", prompt: { id: "pmpt_1" } }, /^prompt: /);
});

Deno.test("responses parse: Codex's bookkeeping fields are accepted; unknown fields are noted", () => {
  const r = parseResponsesRequest({
    model: "m",
    input: "x",
    store: false,
    include: ["reasoning.encrypted_content"],
    prompt_cache_key: "k",
    client_metadata: { a: "b" },
    stream_options: { include_obfuscation: false },
    service_tier: "auto",
    truncation: "auto",
    max_tool_calls: 3,
    frobnicate: 1,
    tools: [{ type: "web_search", external_web_access: false }],
    tool_choice: { type: "web_search" },
    text: { verbosity: "low" },
  });
  assert.equal(r.store, false);
  assert.deepEqual(r.tools, []);
  assert.deepEqual(r.ignored.sort(), [
    "frobnicate (not a Responses field this proxy knows)",
    "max_tool_calls (the model is not limited in tool calls)",
    "text.verbosity (chat models have no verbosity setting)",
    "tool_choice web_search (Chutes runs no hosted tools; auto instead)",
    "tools of type web_search (Chutes runs no hosted tools)",
  ]);
  assert.equal(r.echo.prompt_cache_key, "k");
  assert.equal(r.echo.truncation, "auto");
  assert.equal(parseResponsesRequest({ model: "m", input: "x" }).store, true);
});
