/**
 * The `/v1` stream pass-through, proven at every split: each recorded upstream stream, fed whole,
 * cut in two at every byte offset and one byte at a time (as a byte stream read through one
 * reused buffer, and as a plain stream), gives the same bytes. Without a bare line or a dropped
 * usage chunk the output is the input byte for byte; Chutes' bare error line becomes one SSE
 * error event, also when it is the last line without a newline; the usage-only chunk goes only
 * when asked; a client that leaves closes the upstream.
 */
import assert from "node:assert/strict";
import { OpenAISseStream } from "../../../lib/doors/openai/sse_relay.ts";

const FIXTURES = new URL("../../fixtures/", import.meta.url);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const fixtures: [string, Uint8Array][] = [...Deno.readDirSync(FIXTURES)]
  .filter((e) => e.isFile && e.name.endsWith(".sse"))
  .map((e) => e.name)
  .sort()
  .map((name) => [name, Deno.readFileSync(new URL(name, FIXTURES))]);

function source(
  pieces: Uint8Array[],
  o: { bytes?: boolean; hang?: boolean; onCancel?: () => void } = {},
): ReadableStream<Uint8Array> {
  const queue = pieces.filter((p) => p.length > 0);
  if (o.bytes) {
    return new ReadableStream({
      type: "bytes",
      async pull(c) {
        const piece = queue.shift();
        if (piece) return c.enqueue(piece.slice());
        if (o.hang) return await new Promise<void>(() => {});
        c.close();
        c.byobRequest?.respond(0);
      },
      cancel: () => o.onCancel?.(),
    });
  }
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      const piece = queue.shift();
      if (piece) return c.enqueue(piece.slice());
      if (o.hang) return await new Promise<void>(() => {});
      c.close();
    },
    cancel: () => o.onCancel?.(),
  }, { highWaterMark: 0 });
}

async function relayed(pieces: Uint8Array[], dropUsage: boolean, bytes = false): Promise<string> {
  const chunks = await Array.fromAsync(
    new OpenAISseStream(source(pieces, { bytes }), { dropUsage }),
  );
  const text = new TextDecoder();
  return chunks.map((c) => text.decode(c, { stream: true })).join("") + text.decode();
}

const errorEvent = (message: string) =>
  `data: ${JSON.stringify({ error: { message, type: "api_error", param: null, code: null } })}\n\n`;

Deno.test("every fixture relays identically at every split and byte by byte", async (t) => {
  assert.ok(fixtures.length >= 11);
  for (const [name, bytes] of fixtures) {
    for (const dropUsage of [false, true]) {
      await t.step(`${name}${dropUsage ? " (usage dropped)" : ""}`, async () => {
        const whole = await relayed([bytes], dropUsage);
        for (let at = 0; at <= bytes.length; at++) {
          const pieces = [bytes.subarray(0, at), bytes.subarray(at)];
          assert.equal(await relayed(pieces, dropUsage, at % 2 === 0), whole, `split at ${at}`);
        }
        const bytewise = [...bytes].map((b) => Uint8Array.of(b));
        assert.equal(await relayed(bytewise, dropUsage, true), whole, "one byte at a time");
      });
    }
  }
});

Deno.test("streams without a bare line pass byte for byte; usage goes only when dropped", async () => {
  for (const [name, bytes] of fixtures) {
    if (name === "chutes_bare_error.sse") continue;
    assert.equal(await relayed([bytes], false), decoder.decode(bytes), name);
  }
  const basic = fixtures.find(([n]) => n === "content_basic.sse")![1];
  const dropped = await relayed([basic], true);
  assert.ok(decoder.decode(basic).includes('"choices":[]'));
  assert.ok(!dropped.includes('"choices":[]'), "the usage-only chunk is gone");
  assert.equal(
    dropped,
    decoder.decode(basic).split("\n").filter((l) => !/^data:.*"choices":\[\]/.test(l)).join("\n"),
  );
});

Deno.test("Chutes' bare error line becomes one SSE error event, newline or not", async () => {
  const bare = fixtures.find(([n]) => n === "chutes_bare_error.sse")![1];
  const out = await relayed([bare], false);
  assert.ok(
    out.endsWith(
      errorEvent(
        "Unhandled exception during response stream: peer closed connection without sending complete message body (incomplete chunked read)",
      ),
    ),
  );
  const text = 'data: {"choices":[{"delta":{"content":"a"}}]}\n\n{"error": "boom"}';
  for (const tail of ["", "\n"]) {
    assert.equal(
      await relayed([encoder.encode(text + tail)], true),
      `data: {"choices":[{"delta":{"content":"a"}}]}\n\n${errorEvent("boom")}`,
    );
  }
});

Deno.test("one read becomes one write, and a client that leaves closes the upstream", async () => {
  const basic = fixtures.find(([n]) => n === "content_basic.sse")![1];
  const writes = await Array.fromAsync(new OpenAISseStream(source([basic]), { dropUsage: false }));
  assert.equal(writes.length, 1);
  let cancelled = false;
  const ends: (string | undefined)[] = [];
  // One whole event and the start of the next, then the upstream hangs.
  const cutAt = basic.indexOf(0x0a, basic.indexOf(0x0a) + 1) + 1 + 20;
  const reader = new OpenAISseStream(
    source([basic.subarray(0, cutAt)], {
      bytes: true,
      hang: true,
      onCancel: () => cancelled = true,
    }),
    { dropUsage: false, onEnd: (note) => ends.push(note) },
  ).getReader();
  // Whole events only: the event cut short waits for its end.
  const sent = decoder.decode(basic.subarray(0, cutAt));
  assert.equal(
    decoder.decode((await reader.read()).value),
    sent.slice(0, sent.lastIndexOf("\n\n") + 2),
  );
  await reader.cancel();
  assert.ok(cancelled);
  assert.deepEqual(ends, ["client left"]);
});

Deno.test("an error after half an event drops the half, so the error event parses", async () => {
  const half =
    'data: {"choices":[{"delta":{"content":"a"}}]}\n\ndata: {"id":"chatcmpl-1","object":"chat.comp';
  const cut = '\n{"error": "the upstream connection failed mid-stream: reset"}\n';
  const out = await relayed([encoder.encode(half), encoder.encode(cut)], false);
  assert.equal(
    out,
    `data: {"choices":[{"delta":{"content":"a"}}]}\n\n${
      errorEvent("the upstream connection failed mid-stream: reset")
    }`,
  );
});

Deno.test("after an error event or [DONE] nothing more is relayed and the upstream is closed", async () => {
  for (
    const [events, last] of [
      [
        '{"detail": "boom"}\ndata: {"choices":[{"delta":{"content":"late"}}]}\n\n',
        errorEvent("boom"),
      ],
      ["data: [DONE]\n\n", "data: [DONE]\n\n"],
    ] as const
  ) {
    let cancelled = false;
    const text = await new Response(
      new OpenAISseStream(
        source([encoder.encode(events)], { hang: true, onCancel: () => cancelled = true }),
        {
          dropUsage: false,
        },
      ),
    ).text();
    assert.ok(text.endsWith(last), text);
    assert.equal(text.includes("late"), false);
    assert.ok(cancelled);
  }
});
