/**
 * The translation of checked Messages requests into the core's plan, one case per rule: system
 * folding (including Claude Code's mid-conversation `system` entries and its billing header),
 * tool_use / tool_result / thinking / images, tools and server tools, tool_choice, thinking and
 * effort, sampling — and the captured Claude Code and OpenCode requests against golden upstream
 * bodies (`UPDATE_GOLDEN=1` rewrites them; each was read and checked by hand).
 */
import assert from "node:assert/strict";
import { parseMessagesRequest } from "../../../lib/doors/anthropic/parse.ts";
import { toChatPlan } from "../../../lib/doors/anthropic/to_upstream.ts";

const BASE = { model: "m", max_tokens: 1024, messages: [{ role: "user", content: "Hello" }] };

function plan(body: Record<string, unknown>) {
  return toChatPlan(parseMessagesRequest(body));
}

Deno.test("to_upstream: the smallest request (spec A.10 1)", () => {
  const { plan: p, dropped } = plan(BASE);
  assert.deepEqual(p, {
    door: "anthropic",
    model: "m",
    path: "/chat/completions",
    body: { messages: [{ role: "user", content: "Hello" }], max_tokens: 1024 },
    ignored: [],
    needs: {},
    relaxThinking: true,
  });
  assert.deepEqual(dropped, []);
});

Deno.test("to_upstream: system string, blocks and mid-conversation entries fold into one leading message (A.10 2, 12)", () => {
  assert.deepEqual(plan({ ...BASE, system: "You are helpful." }).plan.body.messages, [
    { role: "system", content: "You are helpful." },
    { role: "user", content: "Hello" },
  ]);
  const { plan: p, dropped } = plan({
    ...BASE,
    system: [
      {
        type: "text",
        text: "x-anthropic-billing-header: cc_version=2.1.197.123; cc_entrypoint=sdk-cli;",
      },
      { type: "text", text: "You are a Claude agent.", cache_control: { type: "ephemeral" } },
      { type: "text", text: "Be terse." },
    ],
    messages: [
      { role: "user", content: "Hello" },
      { role: "system", content: "Available agent types: none." },
      { role: "assistant", content: "Hi" },
      { role: "system", content: [{ type: "text", text: "Later note." }] },
      { role: "user", content: "Bye" },
    ],
  });
  assert.deepEqual(p.body.messages, [
    {
      role: "system",
      content:
        "You are a Claude agent.\n\nBe terse.\n\nAvailable agent types: none.\n\nLater note.",
    },
    { role: "user", content: "Hello" },
    { role: "assistant", content: "Hi" },
    { role: "user", content: "Bye" },
  ]);
  assert.deepEqual(dropped, ["system (x-anthropic-billing-header)"]);
});

Deno.test("to_upstream: text blocks of one message are joined by a newline", () => {
  const { plan: p } = plan({
    ...BASE,
    messages: [{
      role: "user",
      content: [{ type: "text", text: "<system-reminder>date</system-reminder>" }, {
        type: "text",
        text: "say hi",
      }],
    }],
  });
  assert.deepEqual(p.body.messages, [
    { role: "user", content: "<system-reminder>date</system-reminder>\nsay hi" },
  ]);
});

Deno.test("to_upstream: tool results come before the user's text; thinking becomes reasoning_content (A.10 7, 15)", () => {
  const { plan: p } = plan({
    ...BASE,
    messages: [
      { role: "user", content: "Read it" },
      {
        role: "assistant",
        content: [
          { type: "thinking", thinking: "Need the file.", signature: "sig" },
          { type: "text", text: "Reading." },
          { type: "tool_use", id: "call_read", name: "Read", input: { file_path: "/a" } },
          { type: "tool_use", id: "call_two", name: "Read", input: {} },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "call_read", content: "Read image…" },
          {
            type: "tool_result",
            tool_use_id: "call_two",
            content: [{ type: "text", text: "no such file" }],
            is_error: true,
          },
          { type: "text", text: "Please describe it." },
        ],
      },
    ],
  });
  assert.deepEqual(p.body.messages, [
    { role: "user", content: "Read it" },
    {
      role: "assistant",
      content: "Reading.",
      tool_calls: [
        {
          id: "call_read",
          type: "function",
          function: { name: "Read", arguments: '{"file_path":"/a"}' },
        },
        { id: "call_two", type: "function", function: { name: "Read", arguments: "{}" } },
      ],
      reasoning_content: "Need the file.",
    },
    { role: "tool", tool_call_id: "call_read", content: "Read image…" },
    { role: "tool", tool_call_id: "call_two", content: "Error: no such file" },
    { role: "user", content: "Please describe it." },
  ]);
});

Deno.test("to_upstream: an assistant turn of only tool calls has empty content; several thinking blocks are joined", () => {
  const { plan: p } = plan({
    ...BASE,
    messages: [{
      role: "assistant",
      content: [
        { type: "thinking", thinking: "one" },
        { type: "tool_use", id: "a", name: "f", input: { x: [1, "two"] } },
        { type: "thinking", thinking: "two" },
        { type: "thinking", thinking: "" },
      ],
    }],
  });
  assert.deepEqual(p.body.messages, [{
    role: "assistant",
    content: "",
    tool_calls: [{
      id: "a",
      type: "function",
      function: { name: "f", arguments: '{"x":[1,"two"]}' },
    }],
    reasoning_content: "one\n\ntwo",
  }]);
});

Deno.test("to_upstream: images become data-URL parts, tool-result images follow in the user message", () => {
  const { plan: p } = plan({
    ...BASE,
    messages: [
      {
        role: "assistant",
        content: [{ type: "tool_use", id: "t", name: "Read", input: { file_path: "/x.png" } }],
      },
      {
        role: "user",
        content: [
          {
            type: "tool_result",
            tool_use_id: "t",
            content: [{
              type: "image",
              source: { type: "base64", media_type: "image/png", data: "iVBO\nRw0K" },
            }],
          },
          { type: "text", text: "What is it?" },
          { type: "image", source: { type: "url", url: "https://example.com/b.jpg" } },
        ],
      },
    ],
  });
  assert.deepEqual(p.body.messages, [
    {
      role: "assistant",
      content: "",
      tool_calls: [{
        id: "t",
        type: "function",
        function: { name: "Read", arguments: '{"file_path":"/x.png"}' },
      }],
    },
    { role: "tool", tool_call_id: "t", content: "[1 image(s) attached below]" },
    {
      role: "user",
      content: [
        { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0K" } },
        { type: "text", text: "What is it?" },
        { type: "image_url", image_url: { url: "https://example.com/b.jpg" } },
      ],
    },
  ]);
  assert.deepEqual(p.needs, { vision: true });
});

Deno.test("to_upstream: blocks with no upstream equivalent are dropped and listed", () => {
  const { plan: p, dropped } = plan({
    ...BASE,
    messages: [
      {
        role: "user",
        content: [{ type: "document", source: {} }, { type: "text", text: "hi" }],
      },
      { role: "assistant", content: [{ type: "redacted_thinking", data: "x" }] },
      { role: "user", content: [{ type: "search_result" }] },
    ],
  });
  assert.deepEqual(p.body.messages, [{ role: "user", content: "hi" }]);
  assert.deepEqual(dropped, [
    "messages[0].content[0] (document)",
    "messages[1].content[0] (redacted_thinking)",
    "messages[2].content[0] (search_result)",
  ]);
});

Deno.test("to_upstream: tools become functions; server tools are left out with a note", () => {
  const schema = {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    properties: { city: { type: "string" } },
    required: ["city"],
    additionalProperties: false,
  };
  const { plan: p } = plan({
    ...BASE,
    tools: [
      { name: "get_weather", description: "Weather by city", input_schema: schema },
      { type: "web_search_20250305", name: "web_search", max_uses: 3 },
      { name: "ping", input_schema: { type: "object" }, cache_control: { type: "ephemeral" } },
    ],
  });
  assert.deepEqual(p.body.tools, [
    {
      type: "function",
      function: { name: "get_weather", description: "Weather by city", parameters: schema },
    },
    { type: "function", function: { name: "ping", parameters: { type: "object" } } },
  ]);
  assert.deepEqual(p.ignored, [
    "tools[1] (web_search_20250305: an Anthropic server tool, not available upstream)",
  ]);
  assert.deepEqual(p.needs, { tools: true });
});

Deno.test("to_upstream: tool_choice auto, any, tool, none and disable_parallel_tool_use", () => {
  const tools = [{ name: "f", input_schema: { type: "object" } }];
  const choice = (c: unknown) => plan({ ...BASE, tools, tool_choice: c }).plan.body;
  assert.equal(choice({ type: "auto" }).tool_choice, "auto");
  assert.equal(choice({ type: "any" }).tool_choice, "required");
  assert.equal(choice({ type: "none" }).tool_choice, "none");
  assert.deepEqual(choice({ type: "tool", name: "f" }).tool_choice, {
    type: "function",
    function: { name: "f" },
  });
  const noParallel = choice({ type: "auto", disable_parallel_tool_use: true });
  assert.equal(noParallel.parallel_tool_calls, false);
  assert.equal(choice({ type: "auto" }).parallel_tool_calls, undefined);
  assert.throws(
    () => choice({ type: "tool", name: "g" }),
    (e: Error) => e.message === `invalid "tool_choice.name": no tool named "g"`,
  );
  // Without client tools (only a server tool), a forced choice cannot be honoured.
  const { plan: p } = plan({
    ...BASE,
    tools: [{ type: "web_search_20250305", name: "web_search" }],
    tool_choice: { type: "any" },
  });
  assert.equal(p.body.tool_choice, undefined);
  assert.equal(p.body.tools, undefined);
  assert.deepEqual(p.ignored, [
    "tools[0] (web_search_20250305: an Anthropic server tool, not available upstream)",
    "tool_choice (no client tools to choose from)",
  ]);
});

Deno.test("to_upstream: thinking and output_config.effort (A.10 8)", () => {
  const think = (extra: Record<string, unknown>) => {
    const { plan: p } = plan({ ...BASE, ...extra });
    return {
      kwargs: p.body.chat_template_kwargs,
      effort: p.body.reasoning_effort,
      needs: p.needs.thinking,
      ignored: p.ignored,
    };
  };
  const on = { thinking: true, enable_thinking: true };
  const off = { thinking: false, enable_thinking: false };
  assert.deepEqual(think({ thinking: { type: "disabled" }, output_config: { effort: "high" } }), {
    kwargs: off,
    effort: undefined,
    needs: undefined,
    ignored: [],
  });
  assert.deepEqual(think({ thinking: { type: "adaptive" }, output_config: { effort: "xhigh" } }), {
    kwargs: on,
    effort: "high",
    needs: true,
    ignored: [],
  });
  assert.deepEqual(think({ thinking: { type: "enabled", budget_tokens: 2048 } }), {
    kwargs: on,
    effort: undefined,
    needs: true,
    ignored: [],
  });
  assert.deepEqual(think({ thinking: { type: "adaptive" } }), {
    kwargs: undefined,
    effort: undefined,
    needs: undefined,
    ignored: [],
  });
  assert.deepEqual(think({ output_config: { effort: "Medium" } }).effort, "medium");
  assert.deepEqual(think({ output_config: { effort: "max" } }).effort, "high");
  assert.deepEqual(think({ output_config: { effort: "low" } }).effort, "low");
  assert.deepEqual(think({ thinking: { type: "enabled" }, output_config: { effort: "extreme" } }), {
    kwargs: on,
    effort: undefined,
    needs: true,
    ignored: [`output_config.effort ("extreme" is not low, medium, high, xhigh or max)`],
  });
});

Deno.test("to_upstream: sampling, stop sequences and a JSON schema (A.10 3)", () => {
  const { plan: p } = plan({
    ...BASE,
    temperature: 0.7,
    top_p: 0.9,
    top_k: 40,
    stop_sequences: ["\n", "END"],
    output_config: { format: { type: "json_schema", schema: { type: "object" } } },
  });
  assert.deepEqual(p.body, {
    messages: [{ role: "user", content: "Hello" }],
    max_tokens: 1024,
    stop: ["\n", "END"],
    temperature: 0.7,
    top_p: 0.9,
    top_k: 40,
    response_format: {
      type: "json_schema",
      json_schema: { name: "output", schema: { type: "object" } },
    },
  });
});

const FIXTURES = new URL("../../fixtures/anthropic/", import.meta.url);
const CAPTURES = [
  "claude-code-say-hi",
  "claude-code-tool-result-turn",
  "claude-code-tool-result-turn-full-tools",
  "opencode-ai-sdk-anthropic-messages",
];

for (const name of CAPTURES) {
  Deno.test(`to_upstream: captured ${name} matches its golden upstream body`, async () => {
    const capture = JSON.parse(await Deno.readTextFile(new URL(`${name}.request.json`, FIXTURES)));
    const { plan: p } = plan(capture.body);
    const golden = new URL(`${name}.upstream.json`, FIXTURES);
    if (Deno.env.get("UPDATE_GOLDEN") === "1") {
      await Deno.writeTextFile(golden, JSON.stringify(p, null, 2) + "\n");
    }
    assert.deepEqual(p, JSON.parse(await Deno.readTextFile(golden)));
  });
}

Deno.test("to_upstream: the captured Claude Code turns, rule by rule", async () => {
  const read = async (name: string) =>
    JSON.parse(await Deno.readTextFile(new URL(`${name}.request.json`, FIXTURES))).body;
  const hi = plan(await read("claude-code-say-hi")).plan;
  const msgs = hi.body.messages as { role: string; content: string }[];
  assert.deepEqual(msgs.map((m) => m.role), ["system", "user"]);
  assert.ok(
    msgs[0]!.content.startsWith(
      "You are a Claude agent, built on Anthropic's Claude Agent SDK.\n\n",
    ),
  );
  assert.ok(
    msgs[0]!.content.endsWith("\n\n<text, 6062 chars>"),
    "the mid-conversation system entry is folded last",
  );
  assert.ok(!msgs[0]!.content.includes("billing-header"));
  assert.equal(msgs[1]!.content, "<text, 306 chars>\nsay hi");
  assert.equal((hi.body.tools as unknown[]).length, 24);
  assert.equal(hi.body.max_tokens, 32000);
  assert.deepEqual(hi.body.chat_template_kwargs, { thinking: true, enable_thinking: true });
  assert.equal(hi.body.reasoning_effort, "high");
  assert.deepEqual(hi.needs, { tools: true, thinking: true });

  const turn = plan(await read("claude-code-tool-result-turn-full-tools")).plan;
  const roles = (turn.body.messages as { role: string }[]).map((m) => m.role);
  assert.deepEqual(roles, ["system", "user", "assistant", "tool"]);
  const [, , assistant, tool] = turn.body.messages as Record<string, unknown>[];
  assert.equal(assistant!.reasoning_content, "Let me think about it.");
  assert.deepEqual(assistant!.tool_calls, [{
    id: "toolu_rsu3yp3611",
    type: "function",
    function: { name: "Read", arguments: '{"file_path":"/home/user/project/hello.txt"}' },
  }]);
  assert.deepEqual(tool, {
    role: "tool",
    tool_call_id: "toolu_rsu3yp3611",
    content: "1\thello from a file\n2\t",
  });
  const refused = plan(await read("claude-code-tool-result-turn")).plan;
  const last = (refused.body.messages as Record<string, unknown>[]).at(-1)!;
  assert.match(last.content as string, /^Error: Claude requested permissions/);
});
