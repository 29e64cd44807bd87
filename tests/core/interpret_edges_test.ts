/**
 * The interpreter's edge cases, found in review, driven with recorded events: a tool call cut by
 * the output limit ends the answer as `length`; a finished answer is not failed by what comes
 * after it; held whitespace never follows the calls' ends and stays linear; tool-call names in
 * pieces, fragments without an index, nameless calls and non-object arguments; `error: null`;
 * `stop` with calls; other choices; and the token redacted from every failure message.
 */
import assert from "node:assert/strict";
import { UpstreamReading } from "../../lib/core/answer.ts";
import type { AnswerEvents, AnswerSummary, ToolCall } from "../../lib/core/events.ts";
import { ThinkTagSplitter } from "../../lib/core/think_tags.ts";
import { chunk, usage } from "../_fake_upstream.ts";

const SECRET = "cpk_secret_0123456789abcdef";

type Event = [string, ...unknown[]];

/** Feeds SSE events (objects or raw lines) through the core and records every answer event. */
function interpret(events: (Record<string, unknown> | string)[]): Event[] {
  const out: Event[] = [];
  const sink: AnswerEvents = {
    delta: (text, thinking) => out.push(["delta", text, thinking]),
    toolCallStart: (index, id, name) => out.push(["start", index, id, name]),
    toolCallDelta: (index, args) => out.push(["args", index, args]),
    toolCallEnd: (call: ToolCall) => out.push(["end", call.index, call.name, call.input]),
    end: (s: AnswerSummary) => out.push(["done", s.finishReason, s.completionTokens]),
    error: (message) => out.push(["error", message]),
  };
  let t = 0;
  const reading = new UpstreamReading({
    clock: { now: () => t++, iso: () => "t" },
    headersAt: 0,
    promptEstimate: 1,
    redact: (text) => text.split(SECRET).join("[redacted]"),
  }, sink);
  const sse = events.map((e) => typeof e === "string" ? e : `data: ${JSON.stringify(e)}\n\n`);
  reading.push(new TextEncoder().encode(sse.join("")));
  reading.end();
  return out;
}

const call = (fragment: Record<string, unknown>) => chunk({ tool_calls: [fragment] });

Deno.test("a tool call cut by the output limit ends the answer as length, the call left out", () => {
  const events = interpret([
    call({ index: 0, id: "c0", function: { name: "get", arguments: '{"a":' } }),
    chunk({}, "length"),
    usage(3, 9),
  ]);
  assert.deepEqual(events.filter((e) => e[0] === "end" || e[0] === "error"), []);
  assert.deepEqual(events.at(-1), ["done", "length", 9]);
});

Deno.test("after the finish, a bare error line, an oversized event or silence only ends the answer", () => {
  for (const tail of ['{"detail":"connection reset"}\n', `data: ${"x".repeat(20)}\n\n`]) {
    const events = interpret([chunk({ content: "hi" }), chunk({}, "stop"), tail]);
    assert.deepEqual(events, [["delta", "hi", ""], ["done", "stop", 1]], tail);
  }
  // The usage chunk after the finish completes it at once (no wait for [DONE]).
  const events = interpret([chunk({ content: "hi" }), chunk({}, "stop"), usage(2, 1)]);
  assert.deepEqual(events.at(-1), ["done", "stop", 1]);
});

Deno.test("leading whitespace held for a possible <think> goes out before the calls end", () => {
  const events = interpret([
    chunk({ content: "\n\n" }),
    call({ index: 0, id: "c0", function: { name: "get", arguments: "{}" } }),
    chunk({}, "tool_calls"),
  ]);
  const kinds = events.map((e) => e[0]);
  assert.ok(kinds.indexOf("delta") < kinds.indexOf("end"), kinds.join(","));
  assert.deepEqual(events.at(-1), ["done", "tool_calls", 1]);
});

Deno.test("a model stuck on leading newlines costs linear time, and its text flows past a bound", () => {
  const splitter = new ThinkTagSplitter();
  let released = "";
  for (let i = 0; i < 200_000; i++) released += splitter.push("\n").content;
  released += splitter.flush().content;
  assert.equal(released.length, 200_000);
  const early = new ThinkTagSplitter();
  let first = "";
  for (let i = 0; i < 100 && first === ""; i++) first = early.push("\n").content;
  assert.notEqual(first, "", "whitespace past the bound is released, not held to the end");
});

Deno.test("tool calls: a name in pieces starts whole; fragments without index continue the call", () => {
  const split = interpret([
    call({ index: 0, id: "c0", function: { name: "ge" } }),
    call({ index: 0, function: { name: "t", arguments: '{"a":' } }),
    call({ index: 0, function: { arguments: "1}" } }),
    chunk({}, "tool_calls"),
  ]);
  assert.deepEqual(split.filter((e) => e[0] !== "done"), [
    ["start", 0, "c0", "get"],
    ["args", 0, '{"a":'],
    ["args", 0, "1}"],
    ["end", 0, "get", { a: 1 }],
  ]);
  const noIndex = interpret([
    call({ id: "c0", function: { name: "get", arguments: "" } }),
    call({ function: { arguments: '{"a":1}' } }),
    chunk({}, "tool_calls"),
  ]);
  assert.deepEqual(noIndex.filter((e) => e[0] === "end"), [["end", 0, "get", { a: 1 }]]);
});

Deno.test("a call without a name, or with arguments that are no JSON object, is an error", () => {
  const nameless = interpret([
    call({ index: 0, function: { arguments: "{}" } }),
    chunk({}, "stop"),
  ]);
  assert.match(nameless.at(-1)![1] as string, /tool call without a name/);
  const list = interpret([
    call({ index: 0, id: "c", function: { name: "f", arguments: "[1,2]" } }),
    chunk({}, "tool_calls"),
  ]);
  assert.match(list.at(-1)![1] as string, /not a JSON object: \[1,2\]/);
});

Deno.test("error: null on a normal chunk is not an error; stop with calls becomes tool_calls", () => {
  const events = interpret([
    { ...chunk({ content: "hi" }), error: null, detail: null },
    call({ index: 0, id: "c0", function: { name: "f", arguments: "{}" } }),
    chunk({}, "stop"),
  ]);
  assert.deepEqual(events[0], ["delta", "hi", ""]);
  assert.deepEqual(events.at(-1), ["done", "tool_calls", 2]);
});

Deno.test("only the first choice is answered; another choice's text is not mixed in", () => {
  const two = (index: number, text: string, finish: string | null = null) => ({
    choices: [{ index, text, finish_reason: finish }],
  });
  const events = interpret([two(0, "A1"), two(1, "B1"), two(0, "A2"), two(0, "", "stop")]);
  assert.deepEqual(events, [["delta", "A1", ""], ["delta", "A2", ""], ["done", "stop", 2]]);
});

Deno.test("the token is redacted from every failure message, however the upstream wrote it", () => {
  const escaped = SECRET.split("").map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
    .join("");
  const cases: (Record<string, unknown> | string)[][] = [
    [chunk({ content: "a" }), `{"detail":"bad key ${escaped}"}\n`],
    [
      call({ index: 0, id: "c", function: { name: `f${SECRET}`, arguments: "{" } }),
      chunk({}, "tool_calls"),
    ],
    [`data: {"error":{"message":"token ${escaped}"}}\n\n`],
  ];
  for (const events of cases) {
    const last = interpret(events).at(-1)!;
    assert.equal(last[0], "error");
    assert.match(last[1] as string, /\[redacted\]/);
    assert.equal((last[1] as string).includes(SECRET), false, last[1] as string);
  }
});
