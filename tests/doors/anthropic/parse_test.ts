/**
 * The Messages boundary checks: what real clients send is accepted (content strings and blocks,
 * mid-conversation `system`, unknown keys, server tools, adaptive thinking), and each mistake is
 * a 400 whose message names the field (Ollama's wording where its tests fix it, spec A.10 4–6).
 */
import assert from "node:assert/strict";
import { ProxyError } from "../../../lib/base/errors.ts";
import { parseMessagesRequest, readJsonObject } from "../../../lib/doors/anthropic/parse.ts";

const BASE = { model: "m", max_tokens: 1024, messages: [{ role: "user", content: "Hello" }] };

function rejects(body: Record<string, unknown>, message: string | RegExp, countOnly = false) {
  assert.throws(
    () => parseMessagesRequest(body, countOnly),
    (err: unknown) => {
      assert.ok(err instanceof ProxyError);
      assert.equal(err.status, 400);
      if (typeof message === "string") assert.equal(err.message, message);
      else assert.match(err.message, message);
      return true;
    },
  );
}

Deno.test("parse: the smallest request, with content as a string", () => {
  const req = parseMessagesRequest(BASE);
  assert.deepEqual(req, {
    model: "m",
    max_tokens: 1024,
    stream: false,
    system: [],
    messages: [{ role: "user", content: [{ type: "text", text: "Hello" }] }],
    tools: [],
    server_tools: [],
  });
});

Deno.test("parse: model, max_tokens and messages are required (spec A.10 4, 5)", () => {
  rejects({ ...BASE, model: "" }, "model is required");
  rejects({ ...BASE, model: undefined }, "model is required");
  for (const max of [0, -1, 1.5, "10", undefined, null]) {
    rejects({ ...BASE, max_tokens: max }, "max_tokens is required and must be positive");
  }
  rejects({ ...BASE, messages: [] }, "messages is required");
  rejects({ ...BASE, messages: undefined }, "messages is required");
  rejects({ ...BASE, messages: "hi" }, `invalid "messages": expected an array, got string`);
  rejects({ ...BASE, stream: "yes" }, `invalid "stream": expected true or false, got string`);
});

Deno.test("parse: count_tokens needs no max_tokens and never streams", () => {
  const req = parseMessagesRequest({ ...BASE, max_tokens: undefined, stream: true }, true);
  assert.equal(req.max_tokens, 0);
  assert.equal(req.stream, false);
  rejects({ ...BASE, model: "" }, "model is required", true);
});

Deno.test("parse: invalid JSON and a body that is not an object are 400s", async () => {
  const read = (body: string) => readJsonObject(new Request("http://x/", { method: "POST", body }));
  await assert.rejects(
    read("{"),
    (e: ProxyError) => e.status === 400 && /invalid JSON/.test(e.message),
  );
  await assert.rejects(
    read("[1]"),
    (e: ProxyError) => e.message === `invalid "body": expected a JSON object, got array`,
  );
  await assert.rejects(read(""), (e: ProxyError) => e.message === "missing request body");
});

Deno.test("parse: system as a string or text blocks; cache_control and unknown keys ignored", () => {
  assert.deepEqual(parseMessagesRequest({ ...BASE, system: "Be brief." }).system, ["Be brief."]);
  const req = parseMessagesRequest({
    ...BASE,
    system: [
      { type: "text", text: "A" },
      { type: "text", text: "B", cache_control: { type: "ephemeral" } },
    ],
    metadata: { user_id: "u" },
    context_management: { edits: [] },
    container: "c",
  });
  assert.deepEqual(req.system, ["A", "B"]);
  rejects(
    { ...BASE, system: [{ type: "image" }] },
    /^invalid "system\[0\]": expected a text block/,
  );
  rejects({ ...BASE, system: 3 }, /^invalid "system"/);
});

Deno.test("parse: roles user, assistant and system (any case); others name the field", () => {
  const req = parseMessagesRequest({
    ...BASE,
    messages: [
      { role: "User", content: "a" },
      { role: "system", content: "folded later" },
      { role: "assistant", content: [{ type: "text", text: "b" }] },
    ],
  });
  assert.deepEqual(req.messages.map((m) => m.role), ["user", "system", "assistant"]);
  rejects(
    { ...BASE, messages: [{ role: "tool", content: "x" }] },
    `invalid "messages[0].role": expected "user", "assistant" or "system", got string`,
  );
  rejects(
    { ...BASE, messages: [{ role: "user", content: 5 }] },
    `invalid "messages[0].content": expected a string or an array of blocks, got number`,
  );
});

Deno.test("parse: every block kind; unknown kinds are kept only as their name", () => {
  const req = parseMessagesRequest({
    ...BASE,
    messages: [{
      role: "user",
      content: [
        { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0K" } },
        { type: "image", source: { type: "url", url: "https://example.com/a.png" } },
        { type: "tool_result", tool_use_id: "t1", content: "plain", is_error: true },
        {
          type: "tool_result",
          tool_use_id: "t2",
          content: [{ type: "text", text: "x" }, { type: "document", source: {} }],
        },
        { type: "tool_result", tool_use_id: "t3" },
        { type: "document", source: { type: "text", data: "..." } },
        { type: "redacted_thinking", data: "..." },
      ],
    }, {
      role: "assistant",
      content: [
        { type: "thinking", thinking: "hmm", signature: "s" },
        { type: "tool_use", id: "t1", name: "Read" },
      ],
    }],
  });
  assert.deepEqual(req.messages[0]!.content, [
    { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0K" } },
    { type: "image", source: { type: "url", url: "https://example.com/a.png" } },
    {
      type: "tool_result",
      tool_use_id: "t1",
      content: [{ type: "text", text: "plain" }],
      is_error: true,
    },
    {
      type: "tool_result",
      tool_use_id: "t2",
      content: [{ type: "text", text: "x" }],
      is_error: false,
    },
    { type: "tool_result", tool_use_id: "t3", content: [], is_error: false },
    { type: "dropped", kind: "document" },
    { type: "dropped", kind: "redacted_thinking" },
  ]);
  assert.deepEqual(req.messages[1]!.content, [
    { type: "thinking", thinking: "hmm" },
    { type: "tool_use", id: "t1", name: "Read", input: {} },
  ]);
});

Deno.test("parse: bad blocks are 400s naming the block (spec A.10 6)", () => {
  const one = (block: unknown) => ({
    ...BASE,
    messages: [{ role: "assistant", content: [block] }],
  });
  rejects(
    one({ type: "tool_use", name: "Read", input: {} }),
    `invalid "messages[0].content[0]": tool_use block missing required 'id' field`,
  );
  rejects(
    one({ type: "tool_use", id: "t", input: {} }),
    `invalid "messages[0].content[0]": tool_use block missing required 'name' field`,
  );
  rejects(
    one({ type: "tool_use", id: "t", name: "n", input: [1] }),
    `invalid "messages[0].content[0].input": expected an object, got array`,
  );
  rejects(
    one({ type: "tool_result", content: "x" }),
    `invalid "messages[0].content[0]": tool_result block missing required 'tool_use_id' field`,
  );
  rejects(
    one({ type: "image", source: { type: "file", file_id: "f" } }),
    /^invalid "messages\[0\].content\[0\].source.type": invalid image source type: file/,
  );
  rejects(
    one({ type: "image" }),
    `invalid "messages[0].content[0].source": invalid image source`,
  );
  rejects(
    one({ type: "image", source: { type: "base64", media_type: "image/png", data: "%%%" } }),
    `invalid "messages[0].content[0].source.data": invalid base64 image data`,
  );
  rejects(
    one({ type: "image", source: { type: "base64", media_type: "text/plain", data: "AA==" } }),
    /^invalid "messages\[0\].content\[0\].source.media_type"/,
  );
  rejects(
    one({ type: "text", text: 1 }),
    `invalid "messages[0].content[0].text": expected a string, got number`,
  );
  rejects(one("text"), /^invalid "messages\[0\].content\[0\]": expected a content block object/);
  rejects(
    one({ text: "no type" }),
    `invalid "messages[0].content[0].type": expected a string, got undefined`,
  );
});

Deno.test("parse: tools — client tools kept, server tools listed by index, bad schemas named", () => {
  const req = parseMessagesRequest({
    ...BASE,
    tools: [
      { name: "Read", description: "reads", input_schema: { type: "object" } },
      { type: "web_search_20250305", name: "web_search", max_uses: 3 },
      { type: "custom", name: "noschema" },
      { type: "bash_20250124", name: "bash" },
    ],
  });
  assert.deepEqual(req.tools, [
    { name: "Read", description: "reads", input_schema: { type: "object" } },
    { name: "noschema", input_schema: { type: "object", properties: {} } },
  ]);
  assert.deepEqual(req.server_tools, [
    { index: 1, type: "web_search_20250305" },
    { index: 3, type: "bash_20250124" },
  ]);
  rejects(
    { ...BASE, tools: [{ name: "x", input_schema: "nope" }] },
    `invalid input_schema for tool "x": expected a JSON Schema object, got string`,
  );
  rejects({ ...BASE, tools: [{ input_schema: {} }] }, /^invalid "tools\[0\].name"/);
  rejects({ ...BASE, tools: {} }, `invalid "tools": expected an array, got object`);
});

Deno.test("parse: tool_choice, thinking, output_config and sampling", () => {
  const req = parseMessagesRequest({
    ...BASE,
    tool_choice: { type: "tool", name: "Read", disable_parallel_tool_use: true },
    thinking: { type: "enabled", budget_tokens: 2048 },
    output_config: {
      effort: " XHigh ",
      format: { type: "json_schema", schema: { type: "object" } },
    },
    temperature: 0.7,
    top_p: 0.9,
    top_k: 40,
    stop_sequences: ["\n", "END"],
  });
  assert.deepEqual(req.tool_choice, {
    type: "tool",
    name: "Read",
    disable_parallel_tool_use: true,
  });
  assert.equal(req.thinking, "enabled");
  assert.equal(req.effort, "xhigh");
  assert.deepEqual(req.json_schema, { type: "object" });
  assert.equal(req.temperature, 0.7);
  assert.equal(req.top_p, 0.9);
  assert.equal(req.top_k, 40);
  assert.deepEqual(req.stop_sequences, ["\n", "END"]);
  assert.deepEqual(
    parseMessagesRequest({ ...BASE, output_format: { type: "json_schema", schema: { a: 1 } } })
      .json_schema,
    { a: 1 },
  );
  rejects({ ...BASE, tool_choice: { type: "sometimes" } }, /^invalid "tool_choice.type"/);
  rejects(
    { ...BASE, tool_choice: { type: "tool" } },
    `invalid "tool_choice.name": expected a string, got undefined`,
  );
  rejects({ ...BASE, thinking: { type: "on" } }, /^invalid "thinking.type"/);
  rejects({ ...BASE, temperature: "hot" }, `invalid "temperature": expected a number, got string`);
  rejects({ ...BASE, top_k: 1.5 }, /^invalid "top_k"/);
  rejects(
    { ...BASE, stop_sequences: ["a", 1] },
    `invalid "stop_sequences[1]": expected a string, got number`,
  );
  rejects(
    { ...BASE, output_config: { format: { type: "json" } } },
    /^invalid "output_config.format"/,
  );
});
