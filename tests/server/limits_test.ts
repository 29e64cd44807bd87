/**
 * Size and context limits over HTTP: an oversized body is a 413 JSON error whether or not it
 * declares its length, and the context guard trims or rejects a conversation that clearly
 * exceeds the model's context length.
 */
import assert from "node:assert/strict";
import { textStream } from "../_fake_upstream.ts";
import { post, startProxy, type TestProxy } from "../_helpers.ts";

const QWEN = "Qwen/Qwen3-32B-TEE"; // context length 40960 in tests/fixtures/models.json
const CHAT = "/v1/chat/completions";

Deno.test("a body over max_body_bytes is a 413 JSON error, declared or chunked", async () => {
  await using p = startProxy({ config: { max_body_bytes: 4096 } });
  const big = JSON.stringify({
    model: QWEN,
    messages: [{ role: "user", content: "x".repeat(10_000) }],
  });
  const declared = await post(p, "/api/chat", big);
  assert.equal(declared.status, 413);
  assert.deepEqual(await declared.json(), {
    error: "request body is larger than 4096 bytes (max_body_bytes)",
  });
  const bytes = new TextEncoder().encode(big);
  const chunked = await fetch(`${p.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: new ReadableStream({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 1000) controller.enqueue(bytes.slice(i, i + 1000));
        controller.close();
      },
    }),
  });
  assert.equal(chunked.status, 413);
  assert.equal(
    (await chunked.json()).error.message,
    "request body is larger than 4096 bytes (max_body_bytes)",
  );
  assert.equal(p.upstream.calls(CHAT).length, 0);
  const small = await post(p, "/api/chat", { model: QWEN });
  assert.equal(small.status, 200);
  await small.body?.cancel();
});

function longChat(turns: number, size: number) {
  const messages: { role: string; content: string }[] = [{ role: "system", content: "sys" }];
  for (let i = 0; i < turns; i++) {
    messages.push({ role: "user", content: `q${i} ${"x".repeat(size)}` });
    messages.push({ role: "assistant", content: `a${i} ${"y".repeat(size)}` });
  }
  messages.push({ role: "user", content: "last question" });
  return messages;
}

/**
 * Sends `longChat(20, 20_000)` — 20 turns of 2 × 20,000 chars ≈ 200,000 tokens: far over
 * 40,960 — to /api/chat, not streamed; asserts a 200 and returns the messages sent upstream.
 */
async function chatTooLong(p: TestProxy): Promise<{ role: string; content: string }[]> {
  p.upstream.enqueue(CHAT, { pieces: textStream(["ok"]) });
  const res = await post(p, "/api/chat", {
    model: QWEN,
    messages: longChat(20, 20_000),
    stream: false,
  });
  assert.equal(res.status, 200);
  await res.body?.cancel();
  return p.upstream.calls(CHAT)[0]!.body!.messages as { role: string; content: string }[];
}

Deno.test("context guard trim: the oldest turns are dropped until the conversation fits", async () => {
  await using p = startProxy();
  const sent = await chatTooLong(p);
  assert.equal(sent[0]!.content, "sys");
  assert.equal(sent.at(-1)!.content, "last question");
  assert.ok(sent.length < 42 && sent.length > 2, `kept ${sent.length}`);
  const chars = sent.reduce((n, m) => n + m.content.length, 0);
  assert.ok(chars / 4 <= 40960, `still ${chars / 4} tokens`);
  assert.ok(chars / 4 > 40960 - 20_000, "trimmed more than needed");
});

Deno.test("context guard reject: a clear 400, and nothing is sent upstream", async () => {
  await using p = startProxy({ config: { context_guard: "reject" } });
  const res = await post(p, "/api/chat", { model: QWEN, messages: longChat(20, 20_000) });
  assert.equal(res.status, 400);
  assert.match(
    (await res.json()).error,
    /about \d+ tokens, more than the model's context length of 40960/,
  );
  assert.equal(p.upstream.calls(CHAT).length, 0);
});

Deno.test("context guard: one message larger than the context is a 400 even when trimming", async () => {
  await using p = startProxy();
  const res = await post(p, "/api/generate", { model: QWEN, prompt: "z".repeat(200_000) });
  assert.equal(res.status, 400);
  assert.match((await res.json()).error, /context length of 40960/);
});

Deno.test("context guard off: the conversation is sent as it is", async () => {
  await using p = startProxy({ config: { context_guard: "off" } });
  assert.equal((await chatTooLong(p)).length, 42);
});
