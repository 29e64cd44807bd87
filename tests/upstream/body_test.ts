/**
 * Reading upstream bodies: a byte stream is read through one reused buffer (never a fresh
 * 64 KiB per chunk) and any other stream as it comes; the guard ends a body that stalls, is cut
 * by the shutdown or breaks with one bare JSON error line and closes the upstream; a reader that
 * leaves closes it too; `GuardedBody` copies each chunk out, so kept chunks stay intact; and all
 * the shutdown callbacks of one signal share one listener.
 */
import assert from "node:assert/strict";
import { SHUTDOWN_MESSAGE } from "../../lib/upstream/idle.ts";
import { BodyReader, bodyReader, GuardedBody, onAbort } from "../../lib/upstream/body.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface SourceOptions {
  bytes?: boolean;
  /** Milliseconds between pieces. */
  gapMs?: number;
  /** After the pieces: hang, fail, or close (the default). */
  then?: "hang" | "fail";
  onCancel?: (reason: unknown) => void;
}

/** A body serving `pieces`, as a byte stream (like a `fetch` body) or a plain stream. */
function source(pieces: string[], o: SourceOptions = {}): ReadableStream<Uint8Array> {
  const queue = pieces.map((p) => encoder.encode(p));
  const pull = async (c: ReadableStreamDefaultController<Uint8Array>) => {
    if (o.gapMs) await new Promise((r) => setTimeout(r, o.gapMs));
    const piece = queue.shift();
    if (piece) return c.enqueue(piece);
    if (o.then === "hang") return await new Promise<void>(() => {});
    if (o.then === "fail") throw new Error("connection reset by peer");
    c.close();
    if (o.bytes) (c as unknown as ReadableByteStreamController).byobRequest?.respond(0);
  };
  const cancel = (reason: unknown) => o.onCancel?.(reason);
  if (o.bytes) {
    return new ReadableStream({
      type: "bytes",
      pull: (c) => pull(c as unknown as ReadableStreamDefaultController<Uint8Array>),
      cancel,
    });
  }
  return new ReadableStream<Uint8Array>({ pull, cancel }, { highWaterMark: 0 });
}

/** Reads everything, copying each chunk (they are only valid until the next read). */
async function readAll(reader: BodyReader): Promise<string[]> {
  const out: string[] = [];
  for (let chunk = await reader.read(); chunk; chunk = await reader.read()) {
    out.push(decoder.decode(chunk));
  }
  return out;
}

const errorLine = (message: string) => `\n${JSON.stringify({ error: message })}\n`;

Deno.test("a byte stream is read into one reused buffer; a plain stream as it comes", async () => {
  const pieces = ["data: a\n\n", "data: b\n\n", "data: c\n\n"];
  const reader = new BodyReader(source(pieces, { bytes: true }), {}, 1024);
  const buffers = new Set<number>();
  const seen: string[] = [];
  for (let chunk = await reader.read(); chunk; chunk = await reader.read()) {
    assert.equal(chunk.buffer.byteLength, 1024, "the reader's own buffer, not a fresh one");
    buffers.add(chunk.byteOffset);
    seen.push(decoder.decode(chunk));
  }
  assert.deepEqual(seen, pieces);
  assert.deepEqual([...buffers], [0], "every read lands at the start of the same buffer");
  assert.deepEqual(await readAll(new BodyReader(source(pieces))), pieces);
});

Deno.test("a body that goes quiet ends with the stall line and closes the upstream", async () => {
  let cancelled = false;
  const body = source(["data: a\n\n"], {
    bytes: true,
    then: "hang",
    onCancel: () => cancelled = true,
  });
  const started = Date.now();
  const out = await readAll(new BodyReader(body, { idleMs: 50 }));
  assert.deepEqual(out, [
    "data: a\n\n",
    errorLine("the upstream sent nothing for 0.05 s; the stream was cut"),
  ]);
  assert.ok(Date.now() - started < 2000);
  assert.ok(cancelled, "the upstream body was cancelled");
});

Deno.test("a slow but steady body is never cut, however long it runs", async () => {
  const pieces = Array.from({ length: 12 }, (_, i) => `data: ${i}\n\n`);
  const out = await readAll(new BodyReader(source(pieces, { gapMs: 20 }), { idleMs: 80 }));
  assert.deepEqual(out, pieces); // 240 ms in all, three times the idle time
});

Deno.test("the shutdown cuts an open body, and a body opened after it at once", async () => {
  const shutdown = new AbortController();
  let cancelled = false;
  const open = new BodyReader(
    source(["data: a\n\n"], { then: "hang", onCancel: () => cancelled = true }),
    { shutdown: shutdown.signal, idleMs: 10_000 },
  );
  assert.equal(decoder.decode(await open.read()), "data: a\n\n");
  const pending = open.read();
  shutdown.abort();
  assert.equal(decoder.decode(await pending), errorLine(SHUTDOWN_MESSAGE));
  assert.equal(await open.read(), undefined);
  assert.ok(cancelled);
  const late = new BodyReader(source(["data: a\n\n"]), { shutdown: shutdown.signal });
  assert.deepEqual(await readAll(late), [errorLine(SHUTDOWN_MESSAGE)]);
});

Deno.test("a connection that breaks mid-body ends with an error line, not a silent cut", async () => {
  for (const bytes of [false, true]) {
    const out = await readAll(
      new BodyReader(source(["data: a\n\n"], { bytes, then: "fail" }), { idleMs: 10_000 }),
    );
    assert.deepEqual(out, [
      "data: a\n\n",
      errorLine("the upstream connection failed mid-stream: connection reset by peer"),
    ]);
  }
});

Deno.test("a reader that leaves closes the upstream; nothing more is read", async () => {
  let reason: unknown;
  const reader = new BodyReader(
    source(["data: a\n\n"], { bytes: true, then: "hang", onCancel: (r) => reason = r }),
    { idleMs: 10_000 },
  );
  await reader.read();
  const pending = reader.read();
  await reader.cancel(new Error("client left"));
  assert.equal(await pending, undefined);
  assert.equal((reason as Error).message, "client left");
  assert.equal(await reader.read(), undefined);
});

Deno.test("GuardedBody copies every chunk out; bodyReader takes its reader and locks it", async () => {
  const pieces = ["data: a\n\n", "data: bb\n\n", "data: ccc\n\n"];
  const kept = await Array.fromAsync(new GuardedBody(source(pieces, { bytes: true })));
  assert.deepEqual(kept.map((c) => decoder.decode(c)), pieces, "earlier chunks are intact");
  const guarded = new GuardedBody(source(pieces, { bytes: true }), { idleMs: 10_000 });
  const reader = bodyReader(guarded);
  assert.ok(guarded.locked, "nothing else can read the body now");
  assert.deepEqual(await readAll(reader), pieces);
});

Deno.test("all callbacks of one signal share one listener; a forgotten one is not called", () => {
  const controller = new AbortController();
  const signal = controller.signal;
  let listeners = 0;
  const add = signal.addEventListener.bind(signal);
  signal.addEventListener = ((...args: Parameters<typeof add>) => {
    listeners++;
    add(...args);
  }) as typeof signal.addEventListener;
  const called: number[] = [];
  const forget = Array.from({ length: 100 }, (_, i) => onAbort(signal, () => called.push(i)));
  forget[7]!();
  controller.abort();
  assert.equal(listeners, 1);
  assert.equal(called.length, 99);
  assert.ok(!called.includes(7));
});
