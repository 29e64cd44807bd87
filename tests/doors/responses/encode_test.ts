/**
 * The Responses encoder and collector, driven by calling the core's events directly: the event
 * order of spec B.8 (text, one tool call, text then two calls with the message closed first),
 * sequence numbers without gaps, reasoning items with summary deltas and their sealed text, the
 * namespace kept apart, `apply_patch` answered as a `custom_tool_call` with the raw patch,
 * `response.incomplete` at the token limit, `response.failed` after a failure, and the
 * non-stream object in stream order with usage.
 */
import assert from "node:assert/strict";
import type { AnswerSummary } from "../../../lib/core/events.ts";
import { ResponsesCollector } from "../../../lib/doors/responses/collect.ts";
import { ResponsesEncoder } from "../../../lib/doors/responses/encode.ts";
import { openReasoning } from "../../../lib/doors/responses/items.ts";
import { parseResponsesRequest } from "../../../lib/doors/responses/parse.ts";
import type { ResponseFacts } from "../../../lib/doors/responses/response.ts";
import { type ToolNames, toUpstreamTools } from "../../../lib/doors/responses/tools.ts";

type Event = Record<string, unknown> & { type: string; sequence_number: number };

function summary(finishReason = "stop", promptTokens = 7, completionTokens = 3): AnswerSummary {
  return {
    finishReason,
    stopSequence: undefined,
    promptTokens,
    promptEstimated: false,
    completionTokens,
    headersAt: 0,
    firstTokenAt: 1,
    endedAt: 2,
  };
}

function facts(body: Record<string, unknown> = {}): ResponseFacts {
  return {
    id: "resp_1",
    createdAt: 1750000000,
    model: "m",
    request: parseResponsesRequest({ model: "m", input: "hi", ...body }),
    store: true,
  };
}

const NAMES: ToolNames = toUpstreamTools(
  parseResponsesRequest({
    model: "m",
    input: "x",
    tools: [
      { type: "function", name: "get_weather", parameters: { type: "object" } },
      { type: "custom", name: "apply_patch", format: { type: "grammar", definition: "start: x" } },
      {
        type: "namespace",
        name: "crm",
        description: "d",
        tools: [{ type: "function", name: "find" }],
      },
    ],
  }).tools,
  "auto",
).names;

/** An encoder writing into a list of parsed events, with the raw frames kept too. */
function encoder(body: Record<string, unknown> = {}) {
  const frames: string[] = [];
  const enc = new ResponsesEncoder((f) => frames.push(f), facts(body), NAMES, {
    nowSeconds: () => 1750000009,
  });
  const events = () =>
    frames.filter((f) => !f.startsWith(":")).map((frame) => {
      const match = /^event: (\S+)\ndata: (.*)\n\n$/s.exec(frame);
      assert.ok(match, `frame is one SSE event: ${JSON.stringify(frame)}`);
      const data = JSON.parse(match[2]!) as Event;
      assert.equal(data.type, match[1]);
      return data;
    });
  return { enc, frames, events };
}

function types(events: Event[]): string[] {
  return events.map((e) => e.type.replace(/^response\./, ""));
}

Deno.test("responses encoder: text stream (B.8 case 7) and gap-free sequence numbers (case 9)", () => {
  const { enc, events } = encoder();
  enc.start();
  enc.delta("Hello", "", undefined);
  enc.delta(" World", "", undefined);
  enc.end(summary());
  const all = events();
  assert.deepEqual(types(all), [
    "created",
    "in_progress",
    "output_item.added",
    "content_part.added",
    "output_text.delta",
    "output_text.delta",
    "output_text.done",
    "content_part.done",
    "output_item.done",
    "completed",
  ]);
  assert.deepEqual(all.map((e) => e.sequence_number), all.map((_, i) => i));
  assert.equal((all[0]!.response as Record<string, unknown>).status, "in_progress");
  assert.deepEqual((all[0]!.response as Record<string, unknown>).output, []);
  assert.equal(all[6]!.text, "Hello World");
  const item = all[8]!.item as Record<string, unknown>;
  assert.equal(item.status, "completed");
  assert.deepEqual(item.content, [
    { type: "output_text", text: "Hello World", annotations: [], logprobs: [] },
  ]);
  const done = all[9]!.response as Record<string, unknown>;
  assert.equal(done.status, "completed");
  assert.equal(done.completed_at, 1750000009);
  assert.deepEqual(done.output, [item]);
  assert.deepEqual(done.usage, {
    input_tokens: 7,
    input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
    output_tokens: 3,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: 10,
  });
});

Deno.test("responses encoder: one tool call (B.8 case 8) carries the arguments and the call id", () => {
  const { enc, events } = encoder();
  enc.start();
  enc.toolCallStart(0, "call_9", "get_weather");
  enc.toolCallDelta(0, '{"city":');
  enc.toolCallDelta(0, '"Paris"}');
  enc.toolCallEnd({
    index: 0,
    id: "call_9",
    name: "get_weather",
    arguments: '{"city":"Paris"}',
    input: { city: "Paris" },
  });
  enc.end(summary("tool_calls"));
  const all = events();
  assert.deepEqual(types(all), [
    "created",
    "in_progress",
    "output_item.added",
    "function_call_arguments.delta",
    "function_call_arguments.delta",
    "function_call_arguments.done",
    "output_item.done",
    "completed",
  ]);
  const added = all[2]!.item as Record<string, unknown>;
  assert.equal(added.status, "in_progress");
  assert.equal(added.arguments, "");
  assert.equal(all[5]!.arguments, '{"city":"Paris"}');
  const item = all[6]!.item as Record<string, unknown>;
  assert.deepEqual({ ...item, id: "x" }, {
    id: "x",
    type: "function_call",
    status: "completed",
    call_id: "call_9",
    name: "get_weather",
    arguments: '{"city":"Paris"}',
  });
  assert.equal(all[3]!.item_id, item.id);
});

Deno.test("responses encoder: text then two calls closes the message first (B.8 case 10)", () => {
  const { enc, events } = encoder();
  enc.start();
  enc.delta("Let me check.", "", undefined);
  enc.toolCallStart(0, "c0", "get_weather");
  enc.toolCallDelta(0, "{}");
  enc.toolCallStart(1, "c1", "crm__find");
  enc.toolCallDelta(1, "{}");
  enc.toolCallEnd({ index: 0, id: "c0", name: "get_weather", arguments: "{}", input: {} });
  enc.toolCallEnd({ index: 1, id: "c1", name: "crm__find", arguments: "{}", input: {} });
  enc.end(summary("tool_calls"));
  const all = events();
  const firstCall = all.findIndex((e) =>
    e.type === "response.output_item.added" &&
    (e.item as Record<string, unknown>).type === "function_call"
  );
  const messageDone = all.findIndex((e) =>
    e.type === "response.output_item.done" &&
    (e.item as Record<string, unknown>).type === "message"
  );
  assert.ok(messageDone > 0 && messageDone < firstCall, "message done before the first call");
  const added = all.filter((e) => e.type === "response.output_item.added");
  const done = all.filter((e) => e.type === "response.output_item.done");
  const output = (all.at(-1)!.response as { output: Record<string, unknown>[] }).output;
  assert.equal(added.length, 3);
  assert.equal(done.length, 3);
  assert.equal(output.length, 3);
  for (let i = 0; i < 3; i++) {
    const a = all.find((e) => e.type === "response.output_item.added" && e.output_index === i)!;
    const d = all.find((e) => e.type === "response.output_item.done" && e.output_index === i)!;
    assert.equal((a.item as { id: string }).id, output[i]!.id);
    assert.deepEqual(d.item, output[i]);
  }
  // The namespaced call comes back under its own name, with the namespace apart (Codex).
  assert.equal(output[2]!.name, "find");
  assert.equal(output[2]!.namespace, "crm");
  assert.equal(output[1]!.namespace, undefined);
});

Deno.test("responses encoder: reasoning then a function call, the reasoning sealed for replay", () => {
  const { enc, events } = encoder();
  enc.start();
  enc.delta("", "Let me ", undefined);
  enc.delta("", "think.", undefined);
  enc.toolCallStart(0, "c0", "get_weather");
  enc.toolCallEnd({ index: 0, id: "c0", name: "get_weather", arguments: "{}", input: {} });
  enc.end(summary("tool_calls"));
  const all = events();
  assert.deepEqual(types(all), [
    "created",
    "in_progress",
    "output_item.added",
    "reasoning_summary_part.added",
    "reasoning_summary_text.delta",
    "reasoning_summary_text.delta",
    "reasoning_summary_text.done",
    "reasoning_summary_part.done",
    "output_item.done",
    "output_item.added",
    "function_call_arguments.done",
    "output_item.done",
    "completed",
  ]);
  assert.equal(all[6]!.text, "Let me think.");
  assert.equal(all[4]!.summary_index, 0);
  const reasoning = all[8]!.item as Record<string, unknown>;
  assert.deepEqual(reasoning.summary, [{ type: "summary_text", text: "Let me think." }]);
  assert.equal(openReasoning(reasoning.encrypted_content), "Let me think.");
});

Deno.test("responses encoder: apply_patch answers as a custom_tool_call with the raw patch (B.8 case 11)", () => {
  const patch = "*** Begin Patch\n*** Add File: a.txt\n+hi\n*** End Patch";
  const { enc, events } = encoder();
  enc.start();
  enc.toolCallStart(0, "call_p", "apply_patch");
  enc.toolCallDelta(0, JSON.stringify({ input: patch }));
  enc.toolCallEnd({
    index: 0,
    id: "call_p",
    name: "apply_patch",
    arguments: JSON.stringify({ input: patch }),
    input: { input: patch },
  });
  enc.end(summary("tool_calls"));
  const all = events();
  assert.deepEqual(types(all), [
    "created",
    "in_progress",
    "output_item.added",
    "custom_tool_call_input.delta",
    "custom_tool_call_input.done",
    "output_item.done",
    "completed",
  ]);
  assert.equal(all[3]!.delta, patch);
  assert.equal(all[4]!.input, patch);
  const item = all[5]!.item as Record<string, unknown>;
  assert.deepEqual({ ...item, id: "x" }, {
    id: "x",
    type: "custom_tool_call",
    status: "completed",
    call_id: "call_p",
    name: "apply_patch",
    input: patch,
  });
  assert.match(item.id as string, /^ctc_/);
});

Deno.test("responses encoder: the token limit ends with response.incomplete (B.8 case 12)", () => {
  const { enc, events } = encoder({ max_output_tokens: 2 });
  enc.start();
  enc.delta("Hel", "", undefined);
  enc.end(summary("length"));
  const all = events();
  const last = all.at(-1)!;
  assert.equal(last.type, "response.incomplete");
  const response = last.response as Record<string, unknown>;
  assert.equal(response.status, "incomplete");
  assert.deepEqual(response.incomplete_details, { reason: "max_output_tokens" });
  assert.equal(response.max_output_tokens, 2);
  assert.equal((response.output as { status: string }[])[0]!.status, "incomplete");
  assert.equal(all.filter((e) => e.type === "response.completed").length, 0);
});

Deno.test("responses encoder: a failure after the first byte ends with response.failed (B.8 case 13)", () => {
  const { enc, events } = encoder();
  enc.start();
  enc.delta("Hel", "", undefined);
  enc.error("upstream stream stopped");
  const all = events();
  const last = all.at(-1)!;
  assert.equal(last.type, "response.failed");
  const response = last.response as Record<string, unknown>;
  assert.equal(response.status, "failed");
  assert.deepEqual(response.error, { code: "server_error", message: "upstream stream stopped" });
  assert.deepEqual(all.map((e) => e.sequence_number), all.map((_, i) => i));
  // The text streamed before the failure is kept, in an item closed as incomplete.
  const output = response.output as { status: string; content: { text: string }[] }[];
  assert.equal(output[0]!.status, "incomplete");
  assert.equal(output[0]!.content[0]!.text, "Hel");
  assert.ok(all.some((e) => e.type === "response.output_item.done"));
});

Deno.test("responses encoder: a ping is an SSE comment, outside the sequence", () => {
  const { enc, frames, events } = encoder();
  enc.start();
  enc.ping();
  enc.delta("x", "", undefined);
  enc.end(summary());
  assert.equal(frames[2], ": keep-alive\n\n");
  assert.deepEqual(events().map((e) => e.sequence_number), events().map((_, i) => i));
});

Deno.test("responses encoder: logprobs are passed only when top_logprobs asked for them", () => {
  const probs = [{ token: "Hi", logprob: -0.1, bytes: [72, 105], top_logprobs: [] }];
  const asked = encoder({ top_logprobs: 2 });
  asked.enc.start();
  asked.enc.delta("Hi", "", probs);
  asked.enc.end(summary());
  const delta = asked.events().find((e) => e.type === "response.output_text.delta")!;
  assert.deepEqual(delta.logprobs, [{
    token: "Hi",
    logprob: -0.1,
    bytes: [72, 105],
    top_logprobs: [],
  }]);
  const plain = encoder();
  plain.enc.start();
  plain.enc.delta("Hi", "", probs);
  plain.enc.end(summary());
  assert.deepEqual(
    plain.events().find((e) => e.type === "response.output_text.delta")!.logprobs,
    [],
  );
});

Deno.test("responses collector: output in stream order (text kept around calls), usage, status", () => {
  const collector = new ResponsesCollector(facts({ instructions: "Be brief." }), NAMES, () => 99);
  collector.delta("", "hmm", undefined);
  collector.delta("Before.", "", undefined);
  collector.toolCallStart(0, "c0", "get_weather");
  collector.toolCallEnd({ index: 0, id: "c0", name: "get_weather", arguments: "{}", input: {} });
  collector.end(summary("tool_calls", 20, 5));
  const r = collector.response!;
  assert.equal(r.object, "response");
  assert.equal(r.id, "resp_1");
  assert.equal(r.model, "m");
  assert.equal(r.status, "completed");
  assert.equal(r.instructions, "Be brief.");
  assert.equal(r.completed_at, 99);
  const output = r.output as Record<string, unknown>[];
  assert.deepEqual(output.map((o) => o.type), ["reasoning", "message", "function_call"]);
  assert.deepEqual((output[1]!.content as { text: string }[])[0]!.text, "Before.");
  assert.equal((r.usage as { total_tokens: number }).total_tokens, 25);
  const failed = new ResponsesCollector(facts(), NAMES, () => 99);
  failed.delta("x", "", undefined);
  failed.error("boom");
  assert.equal(failed.response, undefined);
  assert.equal(failed.failure, "boom");
});
