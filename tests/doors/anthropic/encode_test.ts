/**
 * The Anthropic SSE encoder driven through the core's answer events directly: the exact frame
 * sequence (golden files for a text answer and for thinking → tool_use, spec A.10 9–10, which
 * `UPDATE_GOLDEN=1` rewrites), consecutive block indexes, the empty keys on block start,
 * streamed tool arguments, pings, stop reasons, and the error event after the first byte.
 */
import assert from "node:assert/strict";
import type { AnswerSummary } from "../../../lib/core/events.ts";
import { AnthropicSseEncoder } from "../../../lib/doors/anthropic/encode.ts";

const FIXTURES = new URL("../../fixtures/anthropic/", import.meta.url);

function summary(over: Partial<AnswerSummary> = {}): AnswerSummary {
  return {
    finishReason: "stop",
    stopSequence: undefined,
    promptTokens: 10,
    promptEstimated: false,
    completionTokens: 5,
    headersAt: 0,
    firstTokenAt: 1,
    endedAt: 2,
    ...over,
  };
}

function encoder(model = "moonshotai/Kimi-K2.6-TEE", estimate = 41) {
  const frames: string[] = [];
  const enc = new AnthropicSseEncoder((f) => frames.push(f), model, estimate, "msg_fixed");
  return { enc, frames };
}

/** Each write is one whole frame; returns [event, data] pairs. */
function events(frames: string[]): [string, Record<string, unknown>][] {
  return frames.map((f) => {
    const m = /^event: ([a-z_]+)\ndata: (.*)\n\n$/s.exec(f);
    assert.ok(m, `not one SSE frame: ${JSON.stringify(f)}`);
    const data = JSON.parse(m[2]!);
    assert.equal(data.type, m[1], "data.type repeats the event name");
    return [m[1]!, data];
  });
}

async function golden(name: string, frames: string[]): Promise<void> {
  const url = new URL(name, FIXTURES);
  if (Deno.env.get("UPDATE_GOLDEN") === "1") await Deno.writeTextFile(url, frames.join(""));
  assert.equal(frames.join(""), await Deno.readTextFile(url));
}

Deno.test("encode: a text answer, frame by frame (spec A.10 9, golden text.sse)", async () => {
  const { enc, frames } = encoder("m", 7);
  enc.start();
  enc.delta("Hello", "", undefined);
  enc.delta(" world!", "", undefined);
  enc.end(summary());
  assert.deepEqual(events(frames), [
    ["message_start", {
      type: "message_start",
      message: {
        id: "msg_fixed",
        type: "message",
        role: "assistant",
        model: "m",
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 7, output_tokens: 0 },
      },
    }],
    ["content_block_start", {
      type: "content_block_start",
      index: 0,
      content_block: { type: "text", text: "" },
    }],
    ["content_block_delta", {
      type: "content_block_delta",
      index: 0,
      delta: { type: "text_delta", text: "Hello" },
    }],
    ["content_block_delta", {
      type: "content_block_delta",
      index: 0,
      delta: { type: "text_delta", text: " world!" },
    }],
    ["content_block_stop", { type: "content_block_stop", index: 0 }],
    ["message_delta", {
      type: "message_delta",
      delta: { stop_reason: "end_turn", stop_sequence: null },
      usage: { input_tokens: 10, output_tokens: 5 },
    }],
    ["message_stop", { type: "message_stop" }],
  ]);
  await golden("text.sse", frames);
});

Deno.test("encode: thinking then a streamed tool call (spec A.10 10, golden thinking_tool_use.sse)", async () => {
  const { enc, frames } = encoder();
  enc.start();
  enc.ping();
  enc.delta("", "Need the tool.", undefined);
  enc.toolCallStart(0, "call_k3j9x0ab", "get_weather");
  enc.toolCallDelta(0, '{"city":');
  enc.toolCallDelta(0, '"Paris"}');
  enc.toolCallEnd({
    index: 0,
    id: "call_k3j9x0ab",
    name: "get_weather",
    arguments: '{"city":"Paris"}',
    input: { city: "Paris" },
  });
  enc.end(summary({ finishReason: "tool_calls", promptTokens: 120, completionTokens: 18 }));
  const ev = events(frames);
  assert.deepEqual(ev.map(([name, d]) => [name, d.index]), [
    ["message_start", undefined],
    ["ping", undefined],
    ["content_block_start", 0],
    ["content_block_delta", 0],
    ["content_block_delta", 0],
    ["content_block_stop", 0],
    ["content_block_start", 1],
    ["content_block_delta", 1],
    ["content_block_delta", 1],
    ["content_block_stop", 1],
    ["message_delta", undefined],
    ["message_stop", undefined],
  ]);
  assert.deepEqual(ev[2]![1].content_block, { type: "thinking", thinking: "", signature: "" });
  assert.deepEqual(ev[3]![1].delta, { type: "thinking_delta", thinking: "Need the tool." });
  assert.deepEqual(ev[4]![1].delta, { type: "signature_delta", signature: "ollama-chutes-proxy" });
  assert.deepEqual(ev[6]![1].content_block, {
    type: "tool_use",
    id: "call_k3j9x0ab",
    name: "get_weather",
    input: {},
  });
  assert.deepEqual(ev[7]![1].delta, { type: "input_json_delta", partial_json: '{"city":' });
  assert.deepEqual(ev[8]![1].delta, { type: "input_json_delta", partial_json: '"Paris"}' });
  assert.deepEqual(ev[10]![1], {
    type: "message_delta",
    delta: { stop_reason: "tool_use", stop_sequence: null },
    usage: { input_tokens: 120, output_tokens: 18 },
  });
  await golden("thinking_tool_use.sse", frames);
});

Deno.test("encode: text, thinking, text get indexes 0, 1, 2; one delta with both opens thinking first", () => {
  const { enc, frames } = encoder();
  enc.start();
  enc.delta("a", "", undefined);
  enc.delta("", "b", undefined);
  enc.delta("c", "d", undefined);
  enc.end(summary());
  const starts = events(frames).filter(([n]) => n === "content_block_start")
    .map(([, d]) => [d.index, (d.content_block as { type: string }).type]);
  assert.deepEqual(starts, [[0, "text"], [1, "thinking"], [2, "text"]]);
  const deltas = events(frames).filter(([n]) => n === "content_block_delta")
    .map(([, d]) => [d.index, d.delta]);
  assert.deepEqual(deltas, [
    [0, { type: "text_delta", text: "a" }],
    [1, { type: "thinking_delta", thinking: "b" }],
    [1, { type: "thinking_delta", thinking: "d" }],
    [1, { type: "signature_delta", signature: "ollama-chutes-proxy" }],
    [2, { type: "text_delta", text: "c" }],
  ]);
});

Deno.test("encode: a call that starts while another is open waits for it; unstreamed arguments come whole", () => {
  const { enc, frames } = encoder();
  enc.start();
  enc.delta("Let me look.", "", undefined);
  enc.toolCallStart(0, "a", "Read");
  enc.toolCallDelta(0, '{"file_path":');
  enc.toolCallStart(1, "b", "Glob");
  enc.delta("", "more thought", undefined);
  enc.toolCallEnd({
    index: 0,
    id: "a",
    name: "Read",
    arguments: '{"file_path":"/x"}',
    input: { file_path: "/x" },
  });
  enc.toolCallEnd({ index: 1, id: "b", name: "Glob", arguments: "{}", input: {} });
  enc.end(summary({ finishReason: "tool_calls" }));
  const ev = events(frames).slice(1).map(([n, d]) => [n, d.index, d.content_block ?? d.delta]);
  assert.deepEqual(ev, [
    ["content_block_start", 0, { type: "text", text: "" }],
    ["content_block_delta", 0, { type: "text_delta", text: "Let me look." }],
    ["content_block_stop", 0, undefined],
    ["content_block_start", 1, { type: "tool_use", id: "a", name: "Read", input: {} }],
    ["content_block_delta", 1, { type: "input_json_delta", partial_json: '{"file_path":' }],
    ["content_block_delta", 1, { type: "input_json_delta", partial_json: '"/x"}' }],
    ["content_block_stop", 1, undefined],
    ["content_block_start", 2, { type: "tool_use", id: "b", name: "Glob", input: {} }],
    ["content_block_delta", 2, { type: "input_json_delta", partial_json: "{}" }],
    ["content_block_stop", 2, undefined],
    ["content_block_start", 3, { type: "thinking", thinking: "", signature: "" }],
    ["content_block_delta", 3, { type: "thinking_delta", thinking: "more thought" }],
    ["content_block_delta", 3, { type: "signature_delta", signature: "ollama-chutes-proxy" }],
    ["content_block_stop", 3, undefined],
    ["message_delta", undefined, { stop_reason: "tool_use", stop_sequence: null }],
    ["message_stop", undefined, undefined],
  ]);
});

Deno.test("encode: the rest of a call's arguments is sent when the stream stopped short of them", () => {
  const { enc, frames } = encoder();
  enc.start();
  enc.toolCallStart(0, "a", "Read");
  enc.toolCallDelta(0, '{"x":1');
  enc.toolCallEnd({ index: 0, id: "a", name: "Read", arguments: '{"x":1}', input: { x: 1 } });
  enc.end(summary({ finishReason: "tool_calls" }));
  const json = events(frames).filter(([n]) => n === "content_block_delta")
    .map(([, d]) => (d.delta as { partial_json: string }).partial_json).join("");
  assert.equal(json, '{"x":1}');
});

Deno.test("encode: whitespace after a tool call is held; text that follows keeps it, after the call", () => {
  const { enc, frames } = encoder();
  enc.start();
  enc.toolCallStart(0, "a", "f");
  enc.delta("\n\n", "", undefined);
  enc.toolCallEnd({ index: 0, id: "a", name: "f", arguments: "{}", input: {} });
  enc.end(summary({ finishReason: "tool_calls" }));
  assert.ok(!events(frames).some(([, d]) => (d.delta as { type?: string })?.type === "text_delta"));

  const two = encoder();
  two.enc.start();
  two.enc.toolCallStart(0, "a", "f");
  two.enc.delta("\n", "", undefined);
  two.enc.delta("Done.", "", undefined);
  two.enc.toolCallEnd({ index: 0, id: "a", name: "f", arguments: "{}", input: {} });
  two.enc.end(summary({ finishReason: "tool_calls" }));
  const order = events(two.frames).filter(([n]) => n === "content_block_start")
    .map(([, d]) => (d.content_block as { type: string }).type);
  assert.deepEqual(order, ["tool_use", "text"], "text waits for the open tool call");
  const texts = events(two.frames).filter(([, d]) =>
    (d.delta as { type?: string })?.type === "text_delta"
  );
  assert.deepEqual(texts.map(([, d]) => d.delta), [{ type: "text_delta", text: "\nDone." }]);
});

Deno.test("encode: stop reasons max_tokens, stop_sequence (with the sequence) and refusal", () => {
  const reason = (s: Partial<AnswerSummary>) => {
    const { enc, frames } = encoder();
    enc.start();
    enc.end(summary(s));
    return events(frames).find(([n]) => n === "message_delta")![1].delta;
  };
  assert.deepEqual(reason({ finishReason: "length" }), {
    stop_reason: "max_tokens",
    stop_sequence: null,
  });
  assert.deepEqual(reason({ finishReason: "stop", stopSequence: "END" }), {
    stop_reason: "stop_sequence",
    stop_sequence: "END",
  });
  assert.deepEqual(reason({ finishReason: "content_filter" }), {
    stop_reason: "refusal",
    stop_sequence: null,
  });
  assert.deepEqual(reason({ finishReason: "abort" }), {
    stop_reason: "end_turn",
    stop_sequence: null,
  });
});

Deno.test("encode: a failure after the first byte is an error event in Anthropic's shape", () => {
  const { enc, frames } = encoder();
  enc.start();
  enc.delta("partial", "", undefined);
  enc.error("upstream stream ended before the response was complete");
  const last = events(frames).at(-1)!;
  assert.deepEqual(last, ["error", {
    type: "error",
    error: {
      type: "api_error",
      message: "upstream stream ended before the response was complete",
    },
  }]);
  const busy = encoder();
  busy.enc.start();
  busy.enc.error("No instances available (yet) for chute_id='x'");
  assert.equal(
    (events(busy.frames).at(-1)![1].error as { type: string }).type,
    "overloaded_error",
  );
});
