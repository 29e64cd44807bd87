/**
 * Compressed request bodies over HTTP: zstd, gzip and deflate (zlib-wrapped or raw) are decoded
 * for any route; a zip bomb is a 413 by its decoded size without inflating it all; a zstd frame
 * asking for a window over 8 MiB, a corrupt body and an unknown encoding are refused (400, 400,
 * 415) in the route's error shape, and nothing reaches the upstream.
 */
import assert from "node:assert/strict";
import * as zlib from "node:zlib";
import { textStream } from "../_fake_upstream.ts";
import { startProxy, type TestProxy } from "../_helpers.ts";

const QWEN = "Qwen/Qwen3-32B-TEE";
const CHAT = "/v1/chat/completions";

function send(p: TestProxy, path: string, body: Uint8Array, encoding: string): Promise<Response> {
  return fetch(`${p.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "content-encoding": encoding },
    body: new Uint8Array(body),
  });
}

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

Deno.test("compressed bodies: zstd, gzip and deflate are decoded on every route", async () => {
  await using p = startProxy();
  const ask = { model: QWEN, input: "hi", stream: false };
  p.upstream.enqueue(CHAT, { pieces: textStream(["a"]) });
  const zstd = await send(p, "/v1/responses", zlib.zstdCompressSync(json(ask)), "zstd");
  assert.equal(zstd.status, 200, await zstd.clone().text());
  assert.equal((await zstd.json()).status, "completed");
  const chat = { model: QWEN, messages: [{ role: "user", content: "hi" }], stream: false };
  const encoded: [string, Uint8Array][] = [
    ["gzip", zlib.gzipSync(json(chat))],
    ["deflate", zlib.deflateSync(json(chat))],
    ["deflate", zlib.deflateRawSync(json(chat))],
    ["identity, gzip", zlib.gzipSync(json(chat))],
  ];
  for (const [encoding, body] of encoded) {
    p.upstream.enqueue(CHAT, { pieces: textStream(["b"]) });
    const res = await send(p, "/api/chat", body, encoding);
    assert.equal(res.status, 200, `${encoding}: ${await res.clone().text()}`);
    assert.equal((await res.json()).message.content, "b");
  }
  const sent = p.upstream.calls(CHAT).map((c) => c.body!.messages);
  assert.deepEqual(sent[0], [{ role: "user", content: "hi" }]);
  assert.deepEqual(sent[4], [{ role: "user", content: "hi" }]);
});

Deno.test("compressed bodies: a zip bomb is a 413 by its decoded size", async () => {
  await using p = startProxy({ config: { max_body_bytes: 1 << 20 } });
  // 50 MB of spaces compress to about 50 kB (gzip) and a few kB (zstd).
  const huge = new Uint8Array(50_000_000).fill(0x20);
  for (
    const [encoding, body] of [
      ["gzip", zlib.gzipSync(huge, { level: 9 })],
      ["zstd", zlib.zstdCompressSync(huge)],
    ] as const
  ) {
    assert.ok(body.length < 1 << 20, `${encoding} bomb is under the limit compressed`);
    const res = await send(p, "/v1/responses", body, encoding);
    assert.equal(res.status, 413);
    const { error } = await res.json();
    assert.equal(
      error.message,
      "request body is larger than 1048576 bytes once decompressed (max_body_bytes)",
    );
  }
  assert.equal(p.upstream.calls(CHAT).length, 0);
});

Deno.test("compressed bodies: unknown encodings 415, corrupt bodies and huge zstd windows 400", async () => {
  await using p = startProxy();
  const br = await send(p, "/v1/responses", json({ model: QWEN, input: "x" }), "br");
  assert.equal(br.status, 415);
  assert.match((await br.json()).error.message, /unsupported Content-Encoding "br"/);
  const corrupt = await send(p, "/api/chat", new Uint8Array([1, 2, 3, 4, 5]), "gzip");
  assert.equal(corrupt.status, 400);
  assert.match((await corrupt.json()).error, /^failed to decompress gzip body/);
  // A frame that declares a 16 MiB window (no content size, so no single-segment shortcut).
  const wide = zlib.zstdCompressSync(new Uint8Array(9 << 20), {
    params: {
      [zlib.constants.ZSTD_c_windowLog]: 24,
      [zlib.constants.ZSTD_c_contentSizeFlag]: 0,
    },
  });
  const res = await send(p, "/v1/responses", wide, "zstd");
  assert.equal(res.status, 400);
  assert.match((await res.json()).error.message, /^failed to decompress zstd body/);
  assert.equal(p.upstream.calls(CHAT).length, 0);
});
