/**
 * The core's streaming path (`AnswerStream`, through the Ollama encoder as `/api/chat` composes
 * it): every recorded upstream stream in `tests/fixtures/*.sse`, fed whole, cut in two at every
 * byte offset and one byte at a time, must give exactly the golden NDJSON
 * (tests/core/interpret_test.ts). Also: each line goes out in its own write and no line waits
 * for a later read, an upstream error ends the output and closes the upstream even if it stalls,
 * a client that leaves cancels the upstream, and gathered answers see the same chunks.
 */
import assert from "node:assert/strict";
import { readWholeAnswer } from "../../lib/core/answer.ts";
import { type OllamaChunk, OllamaChunks } from "../../lib/doors/ollama/encode.ts";
import { GuardedBody } from "../../lib/upstream/body.ts";
import {
  goldenOptions,
  type OllamaAnswerTestOptions,
  ollamaStream as OllamaNdjsonStream,
} from "../_answers.ts";

type Kind = "chat" | "generate";

const FIXTURES = new URL("../fixtures/", import.meta.url);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const fixtures: [string, Uint8Array][] = [...Deno.readDirSync(FIXTURES)]
  .filter((e) => e.isFile && e.name.endsWith(".sse"))
  .map((e) => e.name.slice(0, -".sse".length))
  .sort()
  .map((name) => [name, Deno.readFileSync(new URL(`${name}.sse`, FIXTURES))]);

const options = goldenOptions;

/** A byte source serving `pieces` one per pull, then closing (or hanging when asked). */
function byteSource(
  pieces: Uint8Array[],
  o: { hang?: boolean; onCancel?: (reason: unknown) => void; bytes?: boolean } = {},
): ReadableStream<Uint8Array> {
  const queue = [...pieces];
  const pull = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    // A byte stream cannot carry an empty chunk (nor does a `fetch` body hand one over).
    while (o.bytes && queue[0]?.length === 0) queue.shift();
    const piece = queue.shift();
    if (piece !== undefined) return controller.enqueue(piece.slice());
    if (o.hang) return new Promise<void>(() => {}); // a stalled upstream
    controller.close();
  };
  if (o.bytes) {
    // A byte stream like a `fetch` body: read through one reused buffer.
    return new ReadableStream({
      type: "bytes",
      pull(c) {
        const done = pull(c as unknown as ReadableStreamDefaultController<Uint8Array>);
        // A pending BYOB read is only released by answering it after `close()`.
        if (done === undefined && queue.length === 0 && !o.hang) c.byobRequest?.respond(0);
        return done;
      },
      cancel: (reason) => o.onCancel?.(reason),
    });
  }
  return new ReadableStream<Uint8Array>({ pull, cancel: (reason) => o.onCancel?.(reason) }, {
    highWaterMark: 0,
  });
}

/** Runs the fused stream and returns its writes as text. */
async function writes(pieces: Uint8Array[], kind: Kind, bytes = false): Promise<string[]> {
  const out: string[] = [];
  for await (const chunk of OllamaNdjsonStream(byteSource(pieces, { bytes }), options(kind))) {
    out.push(decoder.decode(chunk));
  }
  return out;
}

Deno.test("every fixture gives the golden NDJSON at every split and byte by byte", async (t) => {
  assert.ok(fixtures.length >= 11, "the recorded fixtures are present");
  for (const [name, bytes] of fixtures) {
    for (const kind of ["chat", "generate"] as const) {
      await t.step(`${name} (${kind})`, async () => {
        const golden = await Deno.readTextFile(new URL(`${name}.${kind}.ndjson`, FIXTURES));
        const whole = await writes([bytes], kind);
        assert.equal(whole.join(""), golden);
        for (let at = 0; at <= bytes.length; at++) {
          const split = await writes(
            [bytes.subarray(0, at), bytes.subarray(at)],
            kind,
            at % 2 === 0,
          );
          assert.equal(split.join(""), golden, `split at byte ${at}`);
        }
        const bytewise = await writes([...bytes].map((b) => Uint8Array.of(b)), kind, true);
        assert.equal(bytewise.join(""), golden, "one byte at a time");
      });
    }
  }
});

Deno.test("each line is its own write, whether the upstream sent one event per read or all in one", async () => {
  const bytes = Deno.readFileSync(new URL("content_basic.sse", FIXTURES));
  // All the tokens of one read, the final line with them: [DONE] ends the answer.
  const together = await writes([bytes], "chat");
  assert.equal(together.length, 10);
  assert.equal(JSON.parse(together.at(-1)!).done, true);
  const events = decoder.decode(bytes).split("\n\n").filter((e) => e !== "");
  const apart = await writes(events.map((e) => encoder.encode(`${e}\n\n`)), "chat");
  assert.equal(apart.join(""), together.join(""));
  for (const write of [...together, ...apart]) {
    assert.ok(write.endsWith("\n"), "whole lines only");
    assert.equal(write.indexOf("\n"), write.length - 1, "one line per write");
  }
});

Deno.test("a token goes out before the next upstream read is even asked for", async () => {
  let cancelled = false;
  const first = encoder.encode('data: {"choices":[{"delta":{"content":"Hi"}}]}\n\n');
  const source = byteSource([first], { hang: true, onCancel: () => cancelled = true });
  const reader = OllamaNdjsonStream(source, options("chat")).getReader();
  const { value } = await reader.read(); // resolves while the upstream hangs
  assert.equal(JSON.parse(decoder.decode(value)).message.content, "Hi");
  await reader.cancel();
  assert.ok(cancelled);
});

Deno.test("an upstream error event ends the output and closes the upstream even if it stalls", async () => {
  let cancelled!: () => void;
  const wasCancelled = new Promise<void>((resolve) => cancelled = resolve);
  const bytes = Deno.readFileSync(new URL("error_event.sse", FIXTURES));
  const ends: (string | undefined)[] = [];
  const body = OllamaNdjsonStream(
    byteSource([bytes], { hang: true, onCancel: () => cancelled() }),
    options("chat"),
    (note) => ends.push(note),
  );
  const text = (await Array.fromAsync(body, (b) => decoder.decode(b))).join("");
  assert.equal(
    text.trim().split("\n").at(-1),
    '{"error":"CUDA error: an illegal memory access was encountered"}',
  );
  await wasCancelled;
  assert.deepEqual(ends, ["failed: CUDA error: an illegal memory access was encountered"]);
});

Deno.test("a client that leaves cancels the upstream and is reported once", async () => {
  let cancelled!: (reason: unknown) => void;
  const wasCancelled = new Promise<unknown>((resolve) => cancelled = resolve);
  const head = decoder.decode(Deno.readFileSync(new URL("content_basic.sse", FIXTURES)))
    .split("\n\n").slice(0, 3).map((e) => encoder.encode(`${e}\n\n`));
  const ends: (string | undefined)[] = [];
  const body = OllamaNdjsonStream(
    byteSource(head, { hang: true, onCancel: (reason) => cancelled(reason) }),
    options("chat"),
    (note) => ends.push(note),
  );
  const reader = body.getReader();
  await reader.read();
  await reader.cancel(new Error("client went away"));
  assert.equal(((await wasCancelled) as Error).message, "client went away");
  assert.deepEqual(ends, ["client left"]);
});

Deno.test("a guarded body that stalls ends the NDJSON with the stall as the error line", async () => {
  const head = encoder.encode('data: {"choices":[{"delta":{"content":"so far"}}]}\n\n');
  const body = new GuardedBody(byteSource([head], { hang: true, bytes: true }), { idleMs: 50 });
  const lines =
    (await Array.fromAsync(OllamaNdjsonStream(body, options("chat")), (b) => decoder.decode(b)))
      .join("").trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines[0].message.content, "so far");
  assert.deepEqual(lines.at(-1), {
    error: "the upstream sent nothing for 0.05 s; the stream was cut",
  });
});

/** The Ollama chunks of a whole upstream body as the `stream: false` path reads it. */
async function ollamaChunks(
  body: ReadableStream<Uint8Array>,
  o: OllamaAnswerTestOptions,
  maxBytes = Infinity,
): Promise<{ chunks: OllamaChunk[]; failure: string | undefined }> {
  const chunks: OllamaChunk[] = [];
  const chunker = new OllamaChunks(
    { kind: o.kind, model: o.model, clock: o.clock, startedAt: o.startedAt },
    (c) => chunks.push(c),
  );
  const interpret = {
    clock: o.clock,
    headersAt: o.headersAt,
    promptEstimate: o.promptTokensEstimate,
    redact: (t: string) => t,
  };
  const reading = await readWholeAnswer(body, interpret, chunker, maxBytes);
  return { chunks, failure: reading.interpreter.failure };
}

Deno.test("the collected path gives the chunks of the golden stream, whole and split", async () => {
  for (const [name, bytes] of fixtures) {
    for (const kind of ["chat", "generate"] as const) {
      const golden = await Deno.readTextFile(new URL(`${name}.${kind}.ndjson`, FIXTURES));
      const expected = golden.trim().split("\n").map((l) => JSON.parse(l)) as OllamaChunk[];
      const mid = bytes.length >> 1;
      for (const pieces of [[bytes], [bytes.subarray(0, mid), bytes.subarray(mid)]]) {
        const { chunks } = await ollamaChunks(byteSource(pieces), options(kind));
        assert.deepEqual(JSON.parse(JSON.stringify(chunks)), expected, `${name} (${kind})`);
      }
    }
  }
});

Deno.test("the collected path stops at its size cap, says so, and closes the upstream", async () => {
  let cancelled = false;
  const head = decoder.decode(Deno.readFileSync(new URL("content_basic.sse", FIXTURES)))
    .split("\n\n").slice(0, 3).join("\n\n");
  const source = byteSource([encoder.encode(`${head}\n\n`)], {
    hang: true,
    onCancel: () => cancelled = true,
  });
  // More upstream bytes than the cap for a gathered answer: it fails naming the cap and stops.
  const { failure } = await ollamaChunks(source, options("chat"), 100);
  assert.match(failure ?? "", /larger than 100 bytes.*stream: true/);
  assert.ok(cancelled);
});

Deno.test("[DONE] ends the answer at once, even if the upstream keeps the connection open", async () => {
  let cancelled = false;
  const bytes = Deno.readFileSync(new URL("content_basic.sse", FIXTURES));
  const source = byteSource([bytes], { hang: true, onCancel: () => cancelled = true });
  const text = await new Response(OllamaNdjsonStream(source, options("chat"))).text();
  assert.equal(JSON.parse(text.trim().split("\n").at(-1)!).done, true);
  assert.ok(cancelled, "the upstream was closed");
});

Deno.test("a chunk of the wrong shape is skipped; a conversion failure still ends with one error line", async () => {
  const odd = [
    'data: {"choices":[{"delta":{"tool_calls":[null, 5]}}]}\n\n',
    'data: {"choices":[{"delta":{"content":"ok"},"logprobs":{"content":"nope"}}]}\n\n',
    'data: {"choices":"x"}\n\n',
    'data: {"choices":[{"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n',
  ].map((e) => encoder.encode(e));
  const text = await new Response(OllamaNdjsonStream(byteSource(odd), options("chat"))).text();
  const lines = text.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines[0].message.content, "ok");
  assert.equal(lines.at(-1).done, true);
  let cancelled = false;
  const ends: (string | undefined)[] = [];
  const throwing = OllamaNdjsonStream(
    byteSource([encoder.encode('data: {"choices":[{"delta":{"content":"x"}}]}\n\n')], {
      hang: true,
      onCancel: () => cancelled = true,
    }),
    {
      ...options("chat"),
      clock: {
        now: () => {
          throw new Error("clock broke");
        },
        iso: () => "t",
      },
    },
    (note) => ends.push(note),
  );
  const out = (await new Response(throwing).text()).trim().split("\n");
  assert.deepEqual(JSON.parse(out.at(-1)!), {
    error: "the proxy could not convert the upstream stream: clock broke",
  });
  assert.ok(cancelled);
  assert.deepEqual(ends, ["failed: the proxy could not convert the upstream stream: clock broke"]);
});
