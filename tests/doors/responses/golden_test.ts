/**
 * Golden SSE answers of `POST /v1/responses` over HTTP, byte for byte against
 * `tests/fixtures/responses/<name>.sse` with a fixed clock and ids numbered by first appearance:
 * a text answer, reasoning then a function call, text then a tool call. Run with
 * `UPDATE_GOLDEN=1` to rewrite them (then read them before committing). Also the `apply_patch`
 * round trip: the model's call comes back as a `custom_tool_call` with the raw patch, and the
 * replayed call and its output go upstream as a tool call and a tool message.
 */
import assert from "node:assert/strict";
import type { Clock } from "../../../lib/base/clock.ts";
import { chunk, sse, usage } from "../../_fake_upstream.ts";
import { post, startProxy } from "../../_helpers.ts";
import { events } from "./_sse.ts";

const QWEN = "Qwen/Qwen3-32B-TEE";
const CHAT = "/v1/chat/completions";
const FIXTURES = new URL("../../fixtures/responses/", import.meta.url);
const UPDATE = Deno.env.get("UPDATE_GOLDEN") === "1";
const CLOCK: Clock = { now: () => 1000, iso: () => "2026-12-01T10:30:00.000Z" };

const TOOLS = [{
  type: "function",
  name: "exec_command",
  description: "Runs a command.",
  parameters: { type: "object", properties: { cmd: { type: "string" } }, required: ["cmd"] },
}];

/** Replaces random ids with `<prefix>_<n>`, numbered by first appearance. */
function normalise(text: string): string {
  const seen = new Map<string, string>();
  return text.replace(/\b(resp|msg|rs|fc|ctc)_[0-9a-f]{32}\b/g, (id, prefix: string) => {
    if (!seen.has(id)) {
      seen.set(id, `${prefix}_${[...seen.keys()].filter((k) => k.startsWith(prefix)).length}`);
    }
    return seen.get(id)!;
  });
}

async function golden(name: string, pieces: string[], withTools = true): Promise<void> {
  await using p = startProxy({ clock: CLOCK });
  p.upstream.enqueue(CHAT, { pieces });
  const res = await post(p, "/v1/responses", {
    model: QWEN,
    input: "go",
    stream: true,
    ...(withTools ? { tools: TOOLS } : {}),
  });
  assert.equal(res.status, 200);
  const actual = normalise(await res.text());
  const file = new URL(`${name}.sse`, FIXTURES);
  if (UPDATE) await Deno.writeTextFile(file, actual);
  const expected = await Deno.readTextFile(file).catch(() => {
    throw new Error(
      `missing golden file tests/fixtures/responses/${name}.sse; run with UPDATE_GOLDEN=1`,
    );
  });
  assert.equal(
    actual,
    expected,
    `tests/fixtures/responses/${name}.sse (rewrite with UPDATE_GOLDEN=1)`,
  );
}

function call(id: string, name: string, args: string[]): string[] {
  return [
    chunk({ tool_calls: [{ index: 0, id, type: "function", function: { name, arguments: "" } }] }),
    ...args.map((a) => chunk({ tool_calls: [{ index: 0, function: { arguments: a } }] })),
  ].map((c) => `data: ${JSON.stringify(c)}\n\n`);
}

Deno.test("responses golden: a text answer", async () => {
  await golden(
    "text",
    sse([
      chunk({ role: "assistant", content: "" }),
      chunk({ content: "Hi" }),
      chunk({ content: " there." }),
      chunk({}, "stop"),
      usage(9, 2),
    ]),
    false,
  );
});

Deno.test("responses golden: reasoning, then a function call", async () => {
  await golden("reasoning_function_call", [
    ...sse([chunk({ role: "assistant", reasoning_content: "Run it." })], { done: false }),
    ...call("call_7", "exec_command", ['{"cmd":', '"echo hi"}']),
    ...sse([chunk({}, "tool_calls"), usage(30, 12)]),
  ]);
});

Deno.test("responses golden: text, then a tool call", async () => {
  await golden("text_then_tool_call", [
    ...sse([chunk({ role: "assistant", content: "Let me look." })], { done: false }),
    ...call("call_8", "exec_command", ['{"cmd":"ls"}']),
    ...sse([chunk({}, "tool_calls"), usage(30, 9)]),
  ]);
});

Deno.test("responses golden: apply_patch round trip (custom tool out as a function, back as custom_tool_call)", async () => {
  const patch = "*** Begin Patch\n*** Add File: hello.txt\n+hello\n*** End Patch\n";
  const applyPatch = {
    type: "custom",
    name: "apply_patch",
    description: "Use the `apply_patch` tool to edit files.",
    format: { type: "grammar", syntax: "lark", definition: "start: begin_patch hunk+ end_patch" },
  };
  await using p = startProxy();
  p.upstream.enqueue(CHAT, {
    pieces: [
      ...call("call_p", "apply_patch", [JSON.stringify({ input: patch })]),
      ...sse([chunk({}, "tool_calls"), usage(20, 15)]),
    ],
  });
  const turn1 = await events(
    await post(p, "/v1/responses", {
      model: QWEN,
      input: "add hello.txt",
      stream: true,
      tools: [applyPatch],
    }),
  );
  const offered = p.upstream.calls(CHAT)[0]!.body!.tools as {
    function: { name: string; parameters: unknown };
  }[];
  assert.equal(offered[0]!.function.name, "apply_patch");
  assert.deepEqual((offered[0]!.function.parameters as { required: string[] }).required, ["input"]);
  const item = turn1.find((e) => e.type === "response.output_item.done")!.item as Record<
    string,
    unknown
  >;
  assert.equal(item.type, "custom_tool_call");
  assert.equal(item.call_id, "call_p");
  assert.equal(item.input, patch);
  assert.ok(
    turn1.some((e) => e.type === "response.custom_tool_call_input.done" && e.input === patch),
  );
  assert.equal(turn1.at(-1)!.type, "response.completed");
  p.upstream.enqueue(CHAT, {
    pieces: sse([chunk({ content: "Created hello.txt." }), chunk({}, "stop")]),
  });
  const turn2 = await events(
    await post(p, "/v1/responses", {
      model: QWEN,
      stream: true,
      tools: [applyPatch],
      input: [
        { role: "user", content: "add hello.txt" },
        {
          type: "custom_tool_call",
          id: item.id,
          call_id: "call_p",
          name: "apply_patch",
          input: patch,
        },
        {
          type: "custom_tool_call_output",
          call_id: "call_p",
          output: "Success. Updated: A hello.txt",
        },
      ],
    }),
  );
  assert.equal(turn2.at(-1)!.type, "response.completed");
  assert.deepEqual((p.upstream.calls(CHAT)[1]!.body!.messages as unknown[]).slice(1), [
    {
      role: "assistant",
      content: "",
      tool_calls: [{
        id: "call_p",
        type: "function",
        function: { name: "apply_patch", arguments: JSON.stringify({ input: patch }) },
      }],
    },
    { role: "tool", tool_call_id: "call_p", content: "Success. Updated: A hello.txt" },
  ]);
});
