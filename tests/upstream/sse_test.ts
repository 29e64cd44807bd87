/**
 * The SSE decoding stage, proven at every split: each recorded upstream stream in
 * `tests/fixtures/*.sse` is fed as bytes through `TextDecoderStream` and `SseDecoderStream`
 * whole, cut in two at every byte offset, and one byte at a time, and must decode to the same
 * items each time. Named cases cover CRLF, comments, multi-line `data:`, `[DONE]`, UTF-8 split
 * inside a character, Chutes' bare error line, a last line without its newline, and the size cap.
 * `SseDecoder` fed bytes directly (UTF-8 decoding inside, as the streaming path uses it) must
 * decode the same at every split too.
 */
import assert from "node:assert/strict";
import { SseDecoder, SseDecoderStream, type SseItem } from "../../lib/upstream/sse.ts";

const FIXTURES = new URL("../fixtures/", import.meta.url);
const encoder = new TextEncoder();

/** Every recorded upstream stream in the fixtures folder, by file name. */
const fixtures: [string, Uint8Array][] = [];
for (const entry of [...Deno.readDirSync(FIXTURES)].sort((a, b) => a.name < b.name ? -1 : 1)) {
  if (entry.isFile && entry.name.endsWith(".sse")) {
    fixtures.push([entry.name, Deno.readFileSync(new URL(entry.name, FIXTURES))]);
  }
}

function fixture(name: string): Uint8Array {
  const found = fixtures.find(([n]) => n === name);
  if (!found) throw new Error(`no fixture ${name}`);
  return found[1];
}

/** Feeds the byte pieces in order through the text and SSE decoders and collects the items. */
function decode(pieces: Uint8Array[], maxEventChars?: number): Promise<SseItem[]> {
  const queue = [...pieces];
  const source = new ReadableStream<Uint8Array>({
    pull(controller) {
      const piece = queue.shift();
      if (piece === undefined) controller.close();
      else controller.enqueue(piece);
    },
  });
  return Array.fromAsync(
    source
      .pipeThrough(new TextDecoderStream())
      .pipeThrough(new SseDecoderStream(maxEventChars)),
  );
}

function decodeText(text: string, maxEventChars?: number): Promise<SseItem[]> {
  return decode([encoder.encode(text)], maxEventChars);
}

/** Asserts identical output for every two-piece split and for one-byte-at-a-time feeding. */
async function assertSplitInvariant(
  name: string,
  bytes: Uint8Array,
  maxEventChars?: number,
): Promise<SseItem[]> {
  const whole = await decode([bytes], maxEventChars);
  for (let at = 0; at <= bytes.length; at++) {
    const split = await decode([bytes.subarray(0, at), bytes.subarray(at)], maxEventChars);
    assert.deepEqual(split, whole, `${name}: split at byte ${at}`);
  }
  const bytewise = [...bytes].map((b) => Uint8Array.of(b));
  assert.deepEqual(await decode(bytewise, maxEventChars), whole, `${name}: one byte at a time`);
  return whole;
}

const data = (d: string): SseItem => ({ kind: "data", data: d });

Deno.test("every fixture decodes identically at every split and byte by byte", async (t) => {
  assert.ok(fixtures.length >= 11, "the recorded fixtures are present");
  for (const [name, bytes] of fixtures) {
    await t.step(name, async () => {
      const items = await assertSplitInvariant(name, bytes);
      assert.ok(items.length > 0);
    });
  }
});

Deno.test("plain stream: every event is data, [DONE] is passed on as data, usage chunk kept", async () => {
  const items = await decode([fixture("content_basic.sse")]);
  assert.ok(items.every((i) => i.kind === "data"));
  assert.equal(items.length, 13);
  assert.deepEqual(items.at(-1), data("[DONE]"));
  const usage = JSON.parse((items.at(-2) as { data: string }).data);
  assert.deepEqual(usage.choices, []);
  assert.equal(usage.usage.prompt_tokens, 14);
});

Deno.test("CRLF line endings, comment lines and a multi-line data event", async () => {
  const items = await decode([fixture("crlf_comments.sse")]);
  // Two comments (`: ping …`, `: keep-alive`) produce nothing; seven events remain.
  assert.equal(items.length, 7);
  for (const item of items) {
    assert.equal(item.kind, "data");
    assert.ok(!(item as { data: string }).data.includes("\r"), "no CR left in data");
  }
  // The pretty-printed event's three `data:` lines are joined with "\n" and parse as one chunk.
  const multi = (items[3] as { data: string }).data;
  assert.equal(multi.split("\n").length, 3);
  assert.equal(JSON.parse(multi).choices[0].delta.content, "\nLine two");
  assert.deepEqual(items.at(-1), data("[DONE]"));
});

Deno.test("comments, CRLF, CR-only and multi-line data in small inline streams", async () => {
  assert.deepEqual(await decodeText(": keep-alive\n\ndata: a\n\n"), [data("a")]);
  assert.deepEqual(await decodeText("data: a\r\n\r\ndata: b\r\r"), [data("a"), data("b")]);
  assert.deepEqual(await decodeText("data: one\ndata: two\ndata:three\n\n"), [
    data("one\ntwo\nthree"),
  ]);
  // `event:` and `id:` fields are read and dropped; only data matters to the stage.
  assert.deepEqual(await decodeText("event: message\nid: 7\ndata: x\n\n"), [data("x")]);
  assert.deepEqual(await decodeText("data: [DONE]\n\n"), [data("[DONE]")]);
});

Deno.test("a stream using bare CR line endings, ending in CR, decodes at every split", async () => {
  const bytes = encoder.encode(": ping\r\rdata: a\r\rdata: b\rdata: c\r\rdata: [DONE]\r\r");
  assert.deepEqual(await assertSplitInvariant("cr-only", bytes), [
    data("a"),
    data("b\nc"),
    data("[DONE]"),
  ]);
});

Deno.test("UTF-8 characters split across chunks decode whole", async () => {
  const bytes = fixture("utf8_multibyte.sse");
  const items = await decode([bytes]);
  const text = items
    .filter((i): i is { kind: "data"; data: string } => i.kind === "data" && i.data !== "[DONE]")
    .map((i) => JSON.parse(i.data).choices[0]?.delta?.content ?? "")
    .join("");
  assert.equal(text, "こんにちは、世界！ 🦙✨ 👩‍👩‍👧 Ünïcödé 中文🚀");
  // Cut inside the llama emoji's four bytes at each position.
  const llama = encoder.encode("🦙");
  const start = bytes.findIndex((_, i) => llama.every((b, k) => bytes[i + k] === b));
  assert.ok(start > 0);
  for (let cut = start + 1; cut < start + llama.length; cut++) {
    assert.deepEqual(await decode([bytes.subarray(0, cut), bytes.subarray(cut)]), items);
  }
});

Deno.test("Chutes' bare mid-stream error line comes out as kind bare", async () => {
  const items = await decode([fixture("chutes_bare_error.sse")]);
  assert.deepEqual(items.slice(0, -1).map((i) => i.kind), ["data", "data", "data", "data"]);
  assert.deepEqual(items.at(-1), {
    kind: "bare",
    line:
      '{"error": "Unhandled exception during response stream: peer closed connection without sending complete message body (incomplete chunked read)"}',
  });
});

Deno.test("a last line without its newline is still read", async () => {
  // Chutes yields its error line with no newline at all (see chutes_bare_error.sse).
  assert.deepEqual(await decodeText('data: a\n\n{"error": "boom"}'), [
    data("a"),
    { kind: "bare", line: '{"error": "boom"}' },
  ]);
  assert.deepEqual(await decodeText('data: a\n\n{"error": "boom"}\n'), [
    data("a"),
    { kind: "bare", line: '{"error": "boom"}' },
  ]);
  assert.deepEqual(await decodeText("data: a\n\nInternal Server Error"), [
    data("a"),
    { kind: "bare", line: "Internal Server Error" },
  ]);
  // A `data:` event never closed by a blank line is incomplete; as in the SSE spec and
  // openai-node it is not dispatched (the conversion stage then reports the stream cut short).
  assert.deepEqual(await decodeText("data: a\n\ndata: b"), [data("a")]);
  assert.deepEqual(await decodeText("data: a\n\ndata: b\n"), [data("a")]);
});

Deno.test("an event over the cap becomes one oversized item, at every split", async () => {
  const max = 64;
  const small = `data: ${"s".repeat(20)}\n\n`;
  const big = `data: ${"x".repeat(200)}\n\n`;
  const after = `data: after\n\ndata: [DONE]\n\n`;
  const bytes = encoder.encode(small + big + after);
  const items = await assertSplitInvariant("oversized", bytes, max);
  assert.deepEqual(items, [data("s".repeat(20)), { kind: "oversized", limit: max }]);
  // A bare line over the cap is oversized too, not handed on whole.
  assert.deepEqual(await decodeText(`data: a\n\n{"error": "${"e".repeat(100)}"}\n`, max), [
    data("a"),
    { kind: "oversized", limit: max },
  ]);
  // …also when it is the last line, without its newline, read only at the end of the stream.
  assert.deepEqual(await decodeText(`data: a\n\n{"error": "${"e".repeat(100)}"}`, max), [
    data("a"),
    { kind: "oversized", limit: max },
  ]);
});

Deno.test("an event exactly at the cap passes at every split", async () => {
  const max = 64;
  const multi = `data: ${"a".repeat(31)}\ndata: ${"b".repeat(32)}\n\n`; // 31 + 1 + 32 = 64
  const bytes = encoder.encode(`data: ${"y".repeat(max)}\r\n\r\n${multi}data: [DONE]\n\n`);
  const items = await assertSplitInvariant("at the cap", bytes, max);
  assert.deepEqual(items, [
    data("y".repeat(max)),
    data(`${"a".repeat(31)}\n${"b".repeat(32)}`),
    data("[DONE]"),
  ]);
});

/** Feeds the byte pieces straight to `SseDecoder` (UTF-8 decoding inside), as lib/core/answer.ts does. */
function decodeBytes(pieces: Uint8Array[], maxEventChars?: number): SseItem[] {
  const items: SseItem[] = [];
  const decoder = new SseDecoder((item) => items.push(item), maxEventChars);
  for (const piece of pieces) decoder.feedBytes(piece);
  decoder.end();
  return items;
}

Deno.test("SseDecoder fed bytes decodes every fixture like the stream stages, at every split", async () => {
  const cases: [string, Uint8Array, number | undefined][] = [
    ...fixtures.map(([name, bytes]): [string, Uint8Array, undefined] => [name, bytes, undefined]),
    [
      "cr-only",
      encoder.encode(": ping\r\rdata: a\r\rdata: b\rdata: c\r\rdata: [DONE]\r\r"),
      undefined,
    ],
    [
      "oversized",
      encoder.encode(`data: ${"s".repeat(20)}\n\ndata: ${"x".repeat(200)}\n\ndata: after\n\n`),
      64,
    ],
    ["bare line last", encoder.encode('data: a\n\n{"error": "boom"}'), undefined],
  ];
  for (const [name, bytes, max] of cases) {
    const expected = await decode([bytes], max);
    for (let at = 0; at <= bytes.length; at++) {
      const split = decodeBytes([bytes.subarray(0, at), bytes.subarray(at)], max);
      assert.deepEqual(split, expected, `${name}: split at byte ${at}`);
    }
    const bytewise = decodeBytes([...bytes].map((b) => Uint8Array.of(b)), max);
    assert.deepEqual(bytewise, expected, `${name}: one byte at a time`);
  }
});

Deno.test("SseDecoder stops after an oversized item and ignores what follows", () => {
  const items: SseItem[] = [];
  const decoder = new SseDecoder((item) => items.push(item), 8);
  decoder.feedBytes(encoder.encode(`data: ${"x".repeat(20)}\n\n`));
  assert.ok(decoder.stopped);
  decoder.feedBytes(encoder.encode("data: later\n\n"));
  decoder.end();
  assert.deepEqual(items, [{ kind: "oversized", limit: 8 }]);
});
