/**
 * The `stream: false` collector driven through the core's answer events: content always an
 * array, blocks in Anthropic's order (thinking, text, tool_use) whatever order they came in,
 * `stop_sequence` null unless named, the upstream's usage, and a recorded failure.
 */
import assert from "node:assert/strict";
import type { AnswerSummary } from "../../../lib/core/events.ts";
import { MessageCollector } from "../../../lib/doors/anthropic/collect.ts";

function summary(over: Partial<AnswerSummary> = {}): AnswerSummary {
  return {
    finishReason: "stop",
    stopSequence: undefined,
    promptTokens: 12,
    promptEstimated: false,
    completionTokens: 3,
    headersAt: 0,
    firstTokenAt: 1,
    endedAt: 2,
    ...over,
  };
}

Deno.test("collect: an empty answer still has a content array and stop_sequence null", () => {
  const c = new MessageCollector("m", "msg_fixed");
  assert.equal(c.message(), undefined);
  c.end(summary());
  assert.deepEqual(c.message(), {
    id: "msg_fixed",
    type: "message",
    role: "assistant",
    model: "m",
    content: [],
    stop_reason: "end_turn",
    stop_sequence: null,
    usage: { input_tokens: 12, output_tokens: 3 },
  });
});

Deno.test("collect: thinking, then text, then tool_use blocks, whatever order they came in", () => {
  const c = new MessageCollector("m", "msg_fixed");
  c.delta("Let me ", "", undefined);
  c.delta("", "Need ", undefined);
  c.toolCallStart(0, "call_1", "Read");
  c.toolCallDelta(0, '{"file_path":"/a"}');
  c.delta("check.", "the file.", undefined);
  c.toolCallEnd({
    index: 0,
    id: "call_1",
    name: "Read",
    arguments: '{"file_path":"/a"}',
    input: { file_path: "/a" },
  });
  c.toolCallEnd({ index: 1, id: "call_2", name: "Glob", arguments: "{}", input: {} });
  c.end(summary({ finishReason: "tool_calls", promptTokens: 120, completionTokens: 18 }));
  const m = c.message()!;
  assert.deepEqual(m.content, [
    { type: "thinking", thinking: "Need the file.", signature: "ollama-chutes-proxy" },
    { type: "text", text: "Let me check." },
    { type: "tool_use", id: "call_1", name: "Read", input: { file_path: "/a" } },
    { type: "tool_use", id: "call_2", name: "Glob", input: {} },
  ]);
  assert.equal(m.stop_reason, "tool_use");
  assert.deepEqual(m.usage, { input_tokens: 120, output_tokens: 18 });
});

Deno.test("collect: whitespace beside tool calls is not a text block; stop reasons", () => {
  const c = new MessageCollector("m");
  c.delta("\n\n", "", undefined);
  c.toolCallEnd({ index: 0, id: "a", name: "f", arguments: "{}", input: {} });
  c.end(summary({ finishReason: "tool_calls" }));
  assert.deepEqual(c.message()!.content.map((b) => b.type), ["tool_use"]);
  assert.match(c.message()!.id, /^msg_[0-9a-f]{24}$/);

  const reason = (s: Partial<AnswerSummary>) => {
    const k = new MessageCollector("m");
    k.delta("x", "", undefined);
    k.end(summary(s));
    const { stop_reason, stop_sequence } = k.message()!;
    return { stop_reason, stop_sequence };
  };
  assert.deepEqual(reason({ finishReason: "length" }), {
    stop_reason: "max_tokens",
    stop_sequence: null,
  });
  assert.deepEqual(reason({ stopSequence: "END" }), {
    stop_reason: "stop_sequence",
    stop_sequence: "END",
  });
});

Deno.test("collect: a failure is recorded, not turned into a message", () => {
  const c = new MessageCollector("m");
  c.delta("partial", "", undefined);
  c.error("upstream stream ended before the response was complete");
  assert.equal(c.failure, "upstream stream ended before the response was complete");
  assert.equal(c.message(), undefined);
});
