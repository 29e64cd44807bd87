/**
 * The stream interpretation, end to end: recorded upstream bytes → SSE decoding → the core's
 * interpreter → the Ollama encoder, for chat and generate, with a fixed clock, compared byte for
 * byte to `tests/fixtures/<name>.<kind>.ndjson`. Run with
 * `UPDATE_GOLDEN=1` to rewrite the golden files (then read them before committing). Key facts of
 * Ollama's stream format are also asserted in code, so a wrong golden file cannot hide them.
 * Also: the gathered answer of `stream: false`, and cancellation reaching the byte source.
 */
import assert from "node:assert/strict";
import { ProxyError } from "../../lib/base/errors.ts";
import { systemClock } from "../../lib/base/clock.ts";
import {
  collectOllama,
  GOLDEN_CREATED_AT,
  GOLDEN_MODEL,
  goldenOptions,
  ollamaStream,
} from "../_answers.ts";

type Kind = "chat" | "generate";
type Line = Record<string, unknown>;

const FIXTURES = new URL("../fixtures/", import.meta.url);
const UPDATE = Deno.env.get("UPDATE_GOLDEN") === "1";
const MODEL = GOLDEN_MODEL;
const CREATED_AT = GOLDEN_CREATED_AT;
const COUNTERS = [
  "total_duration",
  "load_duration",
  "prompt_eval_count",
  "prompt_eval_duration",
  "eval_count",
  "eval_duration",
] as const;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A byte source serving `pieces` one per pull, then closing (or hanging when asked). */
function byteSource(
  pieces: Uint8Array[],
  options: { hang?: boolean; onCancel?: (reason: unknown) => void } = {},
): ReadableStream<Uint8Array> {
  const queue = [...pieces];
  return new ReadableStream<Uint8Array>({
    pull(controller): Promise<void> | void {
      const piece = queue.shift();
      if (piece !== undefined) return controller.enqueue(piece);
      if (options.hang) return new Promise<void>(() => {}); // a stalled upstream
      controller.close();
    },
    cancel: (reason) => options.onCancel?.(reason),
  }, { highWaterMark: 0 });
}

const options = goldenOptions;

/** Runs the whole path and returns the NDJSON output, checking one line per write. */
async function toNdjson(pieces: Uint8Array[], kind: Kind, maxEventChars?: number) {
  const out = ollamaStream(byteSource(pieces), options(kind), undefined, maxEventChars);
  let text = "";
  for await (const bytes of out) {
    const line = decoder.decode(bytes);
    assert.ok(line.endsWith("\n") && line.indexOf("\n") === line.length - 1, "one line a write");
    text += line;
  }
  return text;
}

/** The gathered `stream: false` answer of an upstream body. */
function collectResponse(kind: Kind, source: ReadableStream<Uint8Array>) {
  return collectOllama(source, options(kind));
}

function parseLines(text: string): Line[] {
  assert.ok(text.endsWith("\n"), "output ends with a newline");
  return text.slice(0, -1).split("\n").map((l) => JSON.parse(l));
}

function fixtureBytes(name: string): Uint8Array {
  return Deno.readFileSync(new URL(`${name}.sse`, FIXTURES));
}

/** Compares `actual` to the golden file, or rewrites it under `UPDATE_GOLDEN=1`. */
async function assertGolden(file: string, actual: string): Promise<void> {
  const url = new URL(file, FIXTURES);
  if (UPDATE) {
    await Deno.writeTextFile(url, actual);
    return;
  }
  let expected: string;
  try {
    expected = await Deno.readTextFile(url);
  } catch {
    throw new Error(`missing golden file tests/fixtures/${file}; run with UPDATE_GOLDEN=1`);
  }
  assert.equal(actual, expected, `tests/fixtures/${file} (rewrite with UPDATE_GOLDEN=1)`);
}

/** Checks the Ollama stream rules every converted stream must keep, whatever its fixture. */
function assertOllamaStream(lines: Line[], kind: Kind): void {
  assert.ok(lines.length > 0);
  const last = lines.at(-1)!;
  const body = "error" in last ? lines.slice(0, -1) : lines;
  if ("error" in last) {
    assert.deepEqual(Object.keys(last), ["error"], "error line is only {error}");
    assert.equal(typeof last.error, "string");
    assert.ok((last.error as string).length > 0);
  } else {
    assert.equal(last.done, true, "ends with the done line");
    assert.ok(last.done_reason === "stop" || last.done_reason === "length");
    for (const key of COUNTERS) {
      assert.ok(Number.isInteger(last[key]) && (last[key] as number) > 0, `${key} integer > 0`);
    }
  }
  for (const [i, line] of body.entries()) {
    assert.equal(line.model, MODEL);
    assert.equal(line.created_at, CREATED_AT);
    assert.equal(typeof line.done, "boolean");
    assert.ok(!("error" in line), "an error line is always last");
    const isFinal = "error" in last ? false : i === body.length - 1;
    assert.equal(line.done, isFinal, "only the final chunk is done");
    if (!isFinal) {
      for (const key of [...COUNTERS, "done_reason"]) {
        assert.ok(!(key in line), `${key} only on the final chunk`);
      }
    }
    if (kind === "chat") {
      assert.ok(!("response" in line));
      const message = line.message as Line;
      assert.equal(message.role, "assistant");
      assert.equal(typeof message.content, "string");
      if (!isFinal) {
        const calls = message.tool_calls as Line[] | undefined;
        assert.ok(
          message.content !== "" || typeof message.thinking === "string" || calls ||
            Array.isArray(line.logprobs),
          "no empty chunks",
        );
        if (message.thinking !== undefined) assert.notEqual(message.thinking, "");
        if (calls) assertToolCallChunk(message, calls);
      } else {
        assert.deepEqual(message, { role: "assistant", content: "" });
      }
    } else {
      assert.ok(!("message" in line));
      assert.equal(typeof line.response, "string");
      assert.ok(!("tool_calls" in line));
      if (!isFinal) {
        assert.ok(
          line.response !== "" || typeof line.thinking === "string" ||
            Array.isArray(line.logprobs),
          "no empty chunks",
        );
      } else assert.equal(line.response, "");
    }
  }
  // Tool calls come before the final chunk and are numbered 0, 1, … in order.
  const indexes = body.flatMap((l) =>
    (((l.message as Line | undefined)?.tool_calls ?? []) as Line[]).map(
      (c) => (c.function as Line).index,
    )
  );
  assert.deepEqual(indexes, indexes.map((_, i) => i));
}

function assertToolCallChunk(message: Line, calls: Line[]): void {
  assert.equal(calls.length, 1, "one call per chunk");
  assert.equal(message.content, "");
  const call = calls[0]!;
  assert.equal(typeof call.id, "string");
  const fn = call.function as Line;
  assert.deepEqual(Object.keys(fn), ["index", "name", "arguments"]);
  assert.equal(typeof fn.name, "string");
  assert.ok(
    fn.arguments !== null && typeof fn.arguments === "object" && !Array.isArray(fn.arguments),
    "arguments are a JSON object",
  );
}

/** Concatenates the answer text (or thinking) over all chunks of a chat or generate stream. */
function joined(lines: Line[], kind: Kind, field: "text" | "thinking"): string {
  const key = field === "thinking" ? "thinking" : kind === "chat" ? "content" : "response";
  return lines
    .map((l) => ((kind === "chat" ? (l.message as Line | undefined) : l)?.[key] ?? "") as string)
    .join("");
}

/** What each fixture must turn into, beyond the shared rules. */
const EXPECT: Record<string, (lines: Line[], kind: Kind) => void> = {
  content_basic(lines, kind) {
    const text = joined(lines, kind, "text");
    assert.equal(text, "Hello! How can I help you today?");
    assert.equal(lines.length, 10, "nine content chunks and the final chunk");
    const last = lines.at(-1)!;
    assert.equal(last.done_reason, "stop");
    assert.equal(last.prompt_eval_count, 14, "from the usage chunk after finish_reason");
    assert.equal(last.eval_count, 10);
    // Fixed clock: request at 1000 ms, headers at 1025, first token 1050, end 1075.
    assert.equal(last.total_duration, 75_000_000);
    assert.equal(last.load_duration, 25_000_000);
    assert.equal(last.prompt_eval_duration, 25_000_000);
    assert.equal(last.eval_duration, 25_000_000);
  },
  reasoning_content(lines, kind) {
    const thinking = joined(lines, kind, "thinking");
    const content = joined(lines, kind, "text");
    assert.equal(thinking, "Okay, the user asks for 2+2. That is 4.");
    assert.equal(content, "2 + 2 = **4**");
    // Thinking chunks come first, with empty content.
    const first = lines[0]!;
    if (kind === "chat") {
      assert.deepEqual(first.message, { role: "assistant", content: "", thinking: "Okay" });
    } else {
      assert.equal(first.response, "");
      assert.equal(first.thinking, "Okay");
    }
    assert.equal(lines.at(-1)!.prompt_eval_count, 18);
    assert.equal(lines.at(-1)!.eval_count, 21);
  },
  reasoning_field(lines, kind) {
    const thinking = joined(lines, kind, "thinking");
    const content = joined(lines, kind, "text");
    assert.equal(thinking, "We need to greet the user.");
    assert.equal(content, "Hi there!");
  },
  tool_calls(lines, kind) {
    const last = lines.at(-1)!;
    assert.equal(last.done_reason, "stop", "the native API has no tool_calls reason");
    assert.equal(last.prompt_eval_count, 312);
    assert.equal(last.eval_count, 58);
    // The first fragment starts the eval clock: no 1 ns eval_duration (58e9 tokens/s).
    assert.equal(last.prompt_eval_duration, 25_000_000);
    assert.equal(last.eval_duration, 25_000_000);
    if (kind === "generate") {
      assert.equal(lines.length, 1, "generate has no tool calls: only the final chunk");
      return;
    }
    assert.equal(lines.length, 3);
    assert.deepEqual(lines[0]!.message, {
      role: "assistant",
      content: "",
      tool_calls: [{
        id: "chatcmpl-tool-5b1e0c7d9a2f4e31",
        function: { index: 0, name: "get_weather", arguments: { city: "Paris", unit: "celsius" } },
      }],
    });
    assert.deepEqual(lines[1]!.message, {
      role: "assistant",
      content: "",
      tool_calls: [{
        id: "chatcmpl-tool-e83a6f02c4d94b17",
        function: {
          index: 1,
          name: "get_time",
          arguments: { timezone: "Europe/Paris", formats: ["24h"] },
        },
      }],
    });
  },
  length_finish(lines, kind) {
    assert.equal(joined(lines, kind, "text"), "Once upon a time,");
    assert.equal(lines.at(-1)!.done_reason, "length");
  },
  crlf_comments(lines, kind) {
    assert.equal(joined(lines, kind, "text"), "Line one\nLine two");
    assert.equal(lines.at(-1)!.done, true);
  },
  chutes_bare_error(lines, kind) {
    assert.equal(joined(lines, kind, "text"), "The answer is");
    assert.deepEqual(lines.at(-1), {
      error:
        "Unhandled exception during response stream: peer closed connection without sending complete message body (incomplete chunked read)",
    });
  },
  truncated(lines) {
    assert.equal(lines.length, 4);
    assert.deepEqual(lines.at(-1), {
      error: "upstream stream ended before the response was complete",
    });
  },
  malformed_json(lines, kind) {
    assert.equal(joined(lines, kind, "text"), "Good");
    assert.equal(lines.length, 2, "events after the malformed one are not read");
    const error = lines.at(-1)!.error as string;
    assert.ok(error.startsWith('upstream sent malformed JSON in its stream: {"id"'), error);
  },
  error_event(lines, kind) {
    assert.equal(joined(lines, kind, "text"), "Let me");
    assert.deepEqual(lines.at(-1), {
      error: "CUDA error: an illegal memory access was encountered",
    });
  },
  utf8_multibyte(lines, kind) {
    assert.equal(
      joined(lines, kind, "text"),
      "こんにちは、世界！ 🦙✨ 👩‍👩‍👧 Ünïcödé 中文🚀",
    );
  },
  completion_text(lines, kind) {
    assert.equal(joined(lines, kind, "text"), "def add(a, b):");
    assert.equal(lines.at(-1)!.eval_count, 6);
  },
  logprobs(lines) {
    assert.deepEqual(lines[0]!.logprobs, [{
      token: "Hi",
      logprob: -0.0123,
      bytes: [72, 105],
      top_logprobs: [
        { token: "Hi", logprob: -0.0123, bytes: [72, 105] },
        { token: "Hello", logprob: -4.5, bytes: [72, 101, 108, 108, 111] },
      ],
    }]);
    assert.equal(lines[1]!.logprobs !== undefined, true);
    assert.ok(!("logprobs" in lines.at(-1)!));
  },
};

Deno.test("golden NDJSON for every recorded upstream stream, chat and generate", async (t) => {
  const names = [...Deno.readDirSync(FIXTURES)]
    .filter((e) => e.isFile && e.name.endsWith(".sse"))
    .map((e) => e.name.slice(0, -".sse".length))
    .sort();
  assert.deepEqual(names, Object.keys(EXPECT).sort(), "every fixture has expectations");
  for (const name of names) {
    const bytes = fixtureBytes(name);
    for (const kind of ["chat", "generate"] as const) {
      await t.step(`${name} (${kind})`, async () => {
        const text = await toNdjson([bytes], kind);
        await assertGolden(`${name}.${kind}.ndjson`, text);
        const lines = parseLines(text);
        assertOllamaStream(lines, kind);
        EXPECT[name]!(lines, kind);
        // The network's chunking must not change the output.
        const bytewise = [...bytes].map((b) => Uint8Array.of(b));
        assert.equal(await toNdjson(bytewise, kind), text, "one byte at a time");
      });
    }
  }
});

Deno.test("an oversized upstream event ends the stream with an error line", async () => {
  const sse = `data: {"choices":[{"delta":{"content":"ok"}}]}\n\ndata: ${"x".repeat(500)}\n\n`;
  const lines = parseLines(await toNdjson([encoder.encode(sse)], "chat", 100));
  assert.equal(lines.length, 2);
  assert.deepEqual(lines[1], {
    error: "upstream sent a stream event larger than 100 characters",
  });
});

Deno.test("a data event that is valid JSON but not an object is an error line", async () => {
  for (const value of ["null", "42", '"text"', "[1]"]) {
    const sse = `data: {"choices":[{"delta":{"content":"ok"}}]}\n\ndata: ${value}\n\n`;
    const lines = parseLines(await toNdjson([encoder.encode(sse)], "chat"));
    assert.equal(lines.length, 2, value);
    assert.match(lines[1]!.error as string, /^upstream sent malformed JSON/, value);
  }
});

/** SSE text for `data:` events built from objects, as a single byte piece. */
function sseBytes(events: unknown[]): Uint8Array[] {
  return [encoder.encode(events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join(""))];
}

Deno.test("without a usage chunk the counters fall back to the estimate and the deltas", async () => {
  const lines = parseLines(
    await toNdjson(
      sseBytes([
        { choices: [{ delta: { content: "a" } }] },
        { choices: [{ delta: { content: "b" }, finish_reason: "stop" }] },
      ]),
      "chat",
    ),
  );
  assertOllamaStream(lines, "chat");
  assert.equal(lines.length, 3);
  assert.equal(lines[2]!.prompt_eval_count, 7);
  assert.equal(lines[2]!.eval_count, 2);
});

Deno.test("tool calls are still emitted when [DONE] arrives without a finish_reason", async () => {
  const call = (fragment: Record<string, unknown>) => ({
    choices: [{ delta: { tool_calls: [fragment] }, finish_reason: null }],
  });
  const events = [
    call({ index: 0, id: "call_1", function: { name: "lookup", arguments: '{"q": ' } }),
    call({ index: 0, function: { arguments: '"x"}' } }),
  ];
  const pieces = sseBytes(events);
  pieces.push(encoder.encode("data: [DONE]\n\n"));
  const lines = parseLines(await toNdjson(pieces, "chat"));
  assertOllamaStream(lines, "chat");
  assert.equal(lines.length, 2);
  assert.deepEqual((lines[0]!.message as Line).tool_calls, [
    { id: "call_1", function: { index: 0, name: "lookup", arguments: { q: "x" } } },
  ]);
});

Deno.test("an upstream error event ends the output even if the upstream then stalls", async () => {
  let cancelled!: () => void;
  const wasCancelled = new Promise<void>((resolve) => cancelled = resolve);
  const bytes = fixtureBytes("error_event");
  const source = byteSource([bytes], { hang: true, onCancel: () => cancelled() });
  const text = await new Response(ollamaStream(source, options("chat"))).text();
  assert.deepEqual(parseLines(text).at(-1), {
    error: "CUDA error: an illegal memory access was encountered",
  });
  await wasCancelled; // the upstream body is closed, not left open
});

Deno.test("a client that stops reading cancels the upstream byte source", async () => {
  let cancelled!: (reason: unknown) => void;
  const wasCancelled = new Promise<unknown>((resolve) => cancelled = resolve);
  // The first events of a stream, then an upstream that is still generating.
  const head = decoder.decode(fixtureBytes("content_basic")).split("\n\n").slice(0, 4);
  const source = byteSource(head.map((e) => encoder.encode(`${e}\n\n`)), {
    hang: true,
    onCancel: (reason) => cancelled(reason),
  });
  const reader = ollamaStream(source, options("chat")).getReader();
  const first = await reader.read();
  assert.equal(JSON.parse(decoder.decode(first.value)).message.content, "Hello");
  await reader.cancel(new Error("client went away"));
  const timeout = new Promise((_, reject) => {
    const id = setTimeout(() => reject(new Error("source was not cancelled")), 2000);
    wasCancelled.finally(() => clearTimeout(id));
  });
  await Promise.race([wasCancelled, timeout]);
});

Deno.test("collectResponse gathers a chat stream into one object", async () => {
  const reply = await collectResponse("chat", byteSource([fixtureBytes("reasoning_content")]));
  assert.deepEqual(reply, {
    model: MODEL,
    created_at: CREATED_AT,
    message: {
      role: "assistant",
      content: "2 + 2 = **4**",
      thinking: "Okay, the user asks for 2+2. That is 4.",
    },
    done: true,
    done_reason: "stop",
    total_duration: 75_000_000,
    load_duration: 25_000_000,
    prompt_eval_count: 18,
    prompt_eval_duration: 25_000_000,
    eval_count: 21,
    eval_duration: 25_000_000,
  });
});

Deno.test("collectResponse gathers a generate stream, with thinking and counters", async () => {
  const reply = await collectResponse("generate", byteSource([fixtureBytes("reasoning_field")]));
  assert.equal(reply.response, "Hi there!");
  assert.equal(reply.thinking, "We need to greet the user.");
  assert.equal(reply.done, true);
  assert.equal(reply.done_reason, "stop");
  assert.equal(reply.prompt_eval_count, 71);
  assert.equal(reply.eval_count, 11);
  assert.ok(!("message" in reply));
  assert.deepEqual(Object.keys(reply).slice(0, 5), [
    "model",
    "created_at",
    "response",
    "thinking",
    "done",
  ]);
});

Deno.test("collectResponse gathers tool calls, logprobs and the length reason", async () => {
  const calls = await collectResponse("chat", byteSource([fixtureBytes("tool_calls")]));
  const message = calls.message as Line;
  assert.equal(message.content, "");
  assert.deepEqual(
    (message.tool_calls as Line[]).map((c) => [c.id, (c.function as Line).arguments]),
    [
      ["chatcmpl-tool-5b1e0c7d9a2f4e31", { city: "Paris", unit: "celsius" }],
      ["chatcmpl-tool-e83a6f02c4d94b17", { timezone: "Europe/Paris", formats: ["24h"] }],
    ],
  );
  assert.equal(calls.eval_count, 58);

  const probs = await collectResponse("chat", byteSource([fixtureBytes("logprobs")]));
  assert.equal((probs.message as Line).content, "Hi!");
  assert.deepEqual((probs.logprobs as Line[]).map((p) => p.token), ["Hi", "!"]);

  const cut = await collectResponse("generate", byteSource([fixtureBytes("length_finish")]));
  assert.equal(cut.response, "Once upon a time,");
  assert.equal(cut.done_reason, "length");
});

Deno.test("collectResponse turns a mid-stream failure into ProxyError 502", async () => {
  const cases: [string, Kind, string][] = [
    [
      "chutes_bare_error",
      "chat",
      "Unhandled exception during response stream: peer closed connection without sending complete message body (incomplete chunked read)",
    ],
    ["error_event", "generate", "CUDA error: an illegal memory access was encountered"],
    ["truncated", "chat", "upstream stream ended before the response was complete"],
  ];
  for (const [name, kind, message] of cases) {
    await assert.rejects(
      collectResponse(kind, byteSource([fixtureBytes(name)])),
      (err: unknown) => {
        assert.ok(err instanceof ProxyError, name);
        assert.equal(err.status, 502, name);
        assert.equal(err.message, message, name);
        return true;
      },
    );
  }
});

Deno.test("the system clock's created_at is the current time, and moves on each millisecond", () => {
  const before = Date.now();
  const first = systemClock.iso();
  const after = Date.now();
  const at = Date.parse(first);
  assert.ok(at >= before && at <= after, `${first} is now`);
  assert.match(first, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  const start = Date.now();
  while (Date.now() === start) {
    // wait for the next millisecond: the string formatted for the last one must not be reused
  }
  assert.ok(Date.parse(systemClock.iso()) > at);
});
