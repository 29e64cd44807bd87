/**
 * The pure translation of Responses requests into the core's chat plan: spec B.8 cases 1, 2, 4
 * and 5, the captured Codex turns (first turn; tool turn replaying reasoning, function_call and
 * function_call_output) and OpenCode's shorthand items, tools (flat, namespaced, `apply_patch`
 * as a one-string function, hosted tools dropped with a note), tool_choice and the options.
 */
import assert from "node:assert/strict";
import { parseResponsesRequest } from "../../../lib/doors/responses/parse.ts";
import { toChatPlan } from "../../../lib/doors/responses/to_upstream.ts";
import { sealReasoning } from "../../../lib/doors/responses/items.ts";

const FIXTURES = new URL("../../fixtures/responses/", import.meta.url);

async function capture(name: string): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(new URL(name, FIXTURES))).body;
}

function plan(body: Record<string, unknown>) {
  return toChatPlan(parseResponsesRequest({ model: "m", ...body })).plan;
}

Deno.test("responses to_upstream: a string input is one user message; nothing else is sent (B.8 case 1)", () => {
  const p = plan({ input: "hi" });
  assert.deepEqual(p.body, { messages: [{ role: "user", content: "hi" }] });
  assert.equal(p.door, "responses");
  assert.equal(p.model, "m");
  assert.equal(p.path, "/chat/completions");
  assert.deepEqual(p.needs, {});
  assert.deepEqual(p.ignored, []);
});

Deno.test("responses to_upstream: instructions lead as system; max_output_tokens and sampling (B.8 case 2)", () => {
  const p = plan({
    input: [{ role: "developer", content: "Use tools." }, { role: "user", content: "hi" }],
    instructions: "Be brief.",
    max_output_tokens: 50,
    temperature: 0.3,
    top_p: 0.9,
  });
  assert.deepEqual(p.body, {
    messages: [
      { role: "system", content: "Be brief.\n\nUse tools." },
      { role: "user", content: "hi" },
    ],
    max_tokens: 50,
    temperature: 0.3,
    top_p: 0.9,
  });
});

Deno.test("responses to_upstream: a function call and its output pair up (B.8 case 4)", () => {
  const p = plan({
    input: [
      { type: "message", role: "user", content: "weather?" },
      { type: "function_call", call_id: "c1", name: "get_weather", arguments: '{"city":"Paris"}' },
      { type: "function_call_output", call_id: "c1", output: "sunny" },
    ],
  });
  assert.deepEqual(p.body.messages, [
    { role: "user", content: "weather?" },
    {
      role: "assistant",
      content: "",
      tool_calls: [{
        id: "c1",
        type: "function",
        function: { name: "get_weather", arguments: '{"city":"Paris"}' },
      }],
    },
    { role: "tool", tool_call_id: "c1", content: "sunny" },
  ]);
});

Deno.test("responses to_upstream: replayed reasoning rides on the next assistant message (B.8 case 5)", () => {
  const p = plan({
    input: [
      { role: "user", content: "hi" },
      {
        type: "reasoning",
        id: "rs_1",
        summary: [],
        encrypted_content: sealReasoning("Let me think"),
      },
      { role: "assistant", content: [{ type: "output_text", text: "Hello" }] },
      { role: "user", content: "again" },
    ],
  });
  assert.deepEqual(p.body.messages, [
    { role: "user", content: "hi" },
    { role: "assistant", content: "Hello", reasoning_content: "Let me think" },
    { role: "user", content: "again" },
  ]);
});

Deno.test("responses to_upstream: reasoning not ours is read from its text, not its encrypted_content", () => {
  const p = plan({
    input: [
      { role: "user", content: "hi" },
      {
        type: "reasoning",
        summary: [{ type: "summary_text", text: "short" }],
        encrypted_content: "gAAAAB-someone-elses-blob",
      },
      { role: "assistant", content: "Hello" },
    ],
  });
  assert.deepEqual((p.body.messages as unknown[])[1], {
    role: "assistant",
    content: "Hello",
    reasoning_content: "short",
  });
  const dangling = plan({
    input: [{ type: "reasoning", summary: [{ type: "summary_text", text: "x" }] }, "hi"].map((i) =>
      typeof i === "string" ? { role: "user", content: i } : i
    ),
  });
  assert.deepEqual(dangling.body.messages, [{ role: "user", content: "hi" }]);
  assert.deepEqual(dangling.ignored, ["reasoning items not followed by an assistant turn"]);
});

Deno.test("responses to_upstream: Codex's first turn (captured) → the exact chat body", async () => {
  const body = await capture("codex-exec.request.json");
  const p = toChatPlan(parseResponsesRequest(body)).plan;
  const tools = p.body.tools as { type: string; function: Record<string, unknown> }[];
  assert.deepEqual(p.body.messages, [
    { role: "system", content: "<text, 16979 chars>\n\n<text, 2136 chars>\n<text, 341 chars>" },
    { role: "user", content: "<text, 445 chars>" },
    { role: "user", content: "say hi" },
  ]);
  assert.deepEqual(tools.map((t) => t.function.name), [
    "exec_command",
    "write_stdin",
    "request_user_input",
    "view_image",
    "multi_agent_v1__close_agent",
    "multi_agent_v1__resume_agent",
    "multi_agent_v1__send_input",
    "multi_agent_v1__spawn_agent",
    "multi_agent_v1__wait_agent",
    "get_goal",
    "create_goal",
    "update_goal",
  ]);
  const source = body.tools as Record<string, unknown>[];
  // strict:false is not forwarded; the description and schema are, as they came.
  assert.deepEqual(tools[0], {
    type: "function",
    function: {
      name: "exec_command",
      description: source[0]!.description,
      parameters: source[0]!.parameters,
    },
  });
  const member = (source[4]!.tools as Record<string, unknown>[])[0]!;
  assert.deepEqual(tools[4]!.function.parameters, member.parameters);
  assert.deepEqual(Object.keys(p.body).sort(), [
    "messages",
    "parallel_tool_calls",
    "tool_choice",
    "tools",
  ]);
  assert.equal(p.body.tool_choice, "auto");
  assert.equal(p.body.parallel_tool_calls, true);
  assert.deepEqual(p.needs, { tools: true });
  assert.deepEqual(p.ignored, ["tools of type web_search (Chutes runs no hosted tools)"]);
});

Deno.test("responses to_upstream: Codex's tool turn (captured) replays reasoning, call and output", async () => {
  const body = await capture("codex-tool-turn-with-reasoning.request.json");
  const messages = plan(body).body.messages as unknown[];
  assert.equal(messages.length, 5);
  assert.deepEqual(messages.slice(2), [
    { role: "user", content: "run echo" },
    {
      role: "assistant",
      content: "",
      reasoning_content: "Let me think about it.",
      tool_calls: [{
        id: "call_1hl6gsu6kp",
        type: "function",
        function: { name: "exec_command", arguments: '{"cmd":"echo hi-from-tool"}' },
      }],
    },
    {
      role: "tool",
      tool_call_id: "call_1hl6gsu6kp",
      content:
        "Chunk ID: a48e79\nWall time: 0.0000 seconds\nProcess exited with code 0\nOriginal token count: 4\nOutput:\nhi-from-tool\n",
    },
  ]);
});

Deno.test("responses to_upstream: OpenCode's shorthand items and max_output_tokens (captured)", async () => {
  const body = await capture("opencode-ai-sdk-openai-responses.request.json");
  const p = plan(body);
  assert.deepEqual(p.body.messages, [
    { role: "system", content: "<text, 9565 chars>" },
    { role: "user", content: '"say hi"' },
  ]);
  assert.equal(p.body.max_tokens, 32000);
  assert.equal((p.body.tools as unknown[]).length, 10);
});

Deno.test("responses to_upstream: apply_patch is offered as a function with one string argument", () => {
  const p = plan({
    input: "edit",
    tools: [{
      type: "custom",
      name: "apply_patch",
      description: "Use the `apply_patch` tool to edit files.",
      format: {
        type: "grammar",
        syntax: "lark",
        definition: 'start: begin_patch\nbegin_patch: "*** Begin Patch"',
      },
    }],
  });
  const tool = (p.body.tools as { function: Record<string, unknown> }[])[0]!;
  assert.equal(tool.function.name, "apply_patch");
  assert.deepEqual(tool.function.parameters, {
    type: "object",
    properties: { input: { type: "string", description: "The tool's raw input." } },
    required: ["input"],
    additionalProperties: false,
  });
  const description = tool.function.description as string;
  assert.ok(description.startsWith("Use the `apply_patch` tool to edit files.\n"));
  assert.match(description, /one string argument `input`/);
  assert.match(
    description,
    /lark grammar:\nstart: begin_patch\nbegin_patch: "\*\*\* Begin Patch"$/,
  );
});

Deno.test("responses to_upstream: a replayed custom_tool_call goes up as a function call with {input}", () => {
  const p = plan({
    input: [
      { role: "user", content: "edit" },
      { type: "custom_tool_call", call_id: "p1", name: "apply_patch", input: "*** Begin Patch" },
      { type: "custom_tool_call_output", call_id: "p1", output: "Done!" },
    ],
  });
  assert.deepEqual((p.body.messages as unknown[]).slice(1), [
    {
      role: "assistant",
      content: "",
      tool_calls: [{
        id: "p1",
        type: "function",
        function: { name: "apply_patch", arguments: '{"input":"*** Begin Patch"}' },
      }],
    },
    { role: "tool", tool_call_id: "p1", content: "Done!" },
  ]);
});

Deno.test("responses to_upstream: text before calls and a namespaced replay stay one assistant turn", () => {
  const p = plan({
    input: [
      { role: "user", content: "go" },
      { role: "assistant", content: "Checking." },
      { type: "function_call", call_id: "a", name: "find", namespace: "crm", arguments: "{}" },
      { type: "function_call", call_id: "b", name: "f", arguments: "{}" },
      { type: "function_call_output", call_id: "a", output: [{ type: "input_text", text: "A" }] },
      { type: "function_call_output", call_id: "b", output: "B" },
    ],
  });
  const messages = p.body.messages as Record<string, unknown>[];
  assert.equal(messages.length, 4);
  assert.equal(messages[1]!.content, "Checking.");
  assert.deepEqual(
    (messages[1]!.tool_calls as { function: { name: string } }[]).map((c) => c.function.name),
    ["crm__find", "f"],
  );
  assert.deepEqual(messages[2], { role: "tool", tool_call_id: "a", content: "A" });
});

Deno.test("responses to_upstream: images in user content and in tool outputs; vision needed", () => {
  const png = "data:image/png;base64,iVBORw0KGgo=";
  const p = plan({
    input: [
      {
        role: "user",
        content: [{ type: "input_text", text: "see" }, { type: "input_image", image_url: png }],
      },
      { type: "function_call", call_id: "v", name: "view_image", arguments: "{}" },
      {
        type: "function_call_output",
        call_id: "v",
        output: [{ type: "input_image", image_url: png }],
      },
    ],
  });
  const messages = p.body.messages as Record<string, unknown>[];
  assert.deepEqual(messages[0], {
    role: "user",
    content: [{ type: "text", text: "see" }, { type: "image_url", image_url: { url: png } }],
  });
  assert.deepEqual(messages.slice(2), [
    { role: "tool", tool_call_id: "v", content: "" },
    { role: "user", content: [{ type: "image_url", image_url: { url: png } }] },
  ]);
  assert.deepEqual(p.needs, { vision: true });
});

Deno.test("responses to_upstream: tool_choice, allowed_tools, parallel_tool_calls, text.format, effort", () => {
  const tools = [
    { type: "function", name: "a", parameters: { type: "object" } },
    { type: "function", name: "b" },
  ];
  assert.throws(
    () => plan({ input: "x", tools, tool_choice: { type: "function", name: "zz" } }),
    /tool_choice\.name: no tool named "zz" in tools/,
  );
  const forced = plan({ input: "x", tools, tool_choice: { type: "function", name: "b" } });
  assert.deepEqual(forced.body.tool_choice, { type: "function", function: { name: "b" } });
  assert.deepEqual((forced.body.tools as { function: unknown }[])[1]!.function, {
    name: "b",
    parameters: { type: "object", properties: {} },
  });
  const allowed = plan({
    input: "x",
    tools,
    parallel_tool_calls: false,
    tool_choice: {
      type: "allowed_tools",
      mode: "required",
      tools: [{ type: "function", name: "a" }],
    },
  });
  assert.equal(allowed.body.tool_choice, "required");
  assert.equal(allowed.body.parallel_tool_calls, false);
  assert.equal((allowed.body.tools as unknown[]).length, 1);
  const schema = { type: "object", properties: { a: { type: "string" } } };
  assert.deepEqual(
    plan({
      input: "x",
      text: { format: { type: "json_schema", name: "out", schema, strict: true } },
    })
      .body.response_format,
    { type: "json_schema", json_schema: { name: "out", schema, strict: true } },
  );
  assert.deepEqual(
    plan({ input: "x", text: { format: { type: "json_object" } } }).body.response_format,
    {
      type: "json_object",
    },
  );
  assert.equal(
    plan({ input: "x", text: { format: { type: "text" } } }).body.response_format,
    undefined,
  );
  const effort = (e: string) => plan({ input: "x", reasoning: { effort: e } });
  assert.deepEqual(effort("minimal").body.reasoning_effort, "low");
  assert.deepEqual(effort("medium").body.reasoning_effort, "medium");
  assert.deepEqual(effort("xhigh").body.reasoning_effort, "high");
  assert.deepEqual(effort("max").body.chat_template_kwargs, {
    thinking: true,
    enable_thinking: true,
  });
  assert.deepEqual(effort("high").needs, { thinking: true });
  assert.deepEqual(effort("none").body.chat_template_kwargs, {
    thinking: false,
    enable_thinking: false,
  });
  assert.equal(effort("none").body.reasoning_effort, undefined);
  assert.deepEqual(plan({ input: "x", top_logprobs: 3 }).body.top_logprobs, 3);
  assert.equal(plan({ input: "x", top_logprobs: 3 }).body.logprobs, true);
});
