/**
 * Fallback chains over HTTP: a primary that fails transiently after its retries gives way to the
 * next model, and the answer names the model that actually answered; non-transient failures do
 * not fall back; when every candidate fails the client gets the last error; Chutes' own model
 * pools pass through untouched.
 */
import assert from "node:assert/strict";
import { textStream } from "../_fake_upstream.ts";
import { ndjson, post, startProxy } from "../_helpers.ts";

const DEEPSEEK = "deepseek-ai/DeepSeek-V3-0324";
const QWEN = "Qwen/Qwen3-32B-TEE";
const GEMMA = "unsloth/gemma-3-4b-it";
const CHAT = "/v1/chat/completions";
const cold = { status: 503, json: { detail: "No instances available (yet) for chute_id=x" } };
const config = { retry_attempts: 2, fallbacks: { [DEEPSEEK]: [QWEN, GEMMA] } };
const ask = (model: string) => ({ model, messages: [{ role: "user", content: "hi" }] });

Deno.test("a cold primary falls back after its retries; the answer names the model that answered", async () => {
  await using p = startProxy({ config });
  p.upstream.enqueue(CHAT, cold);
  p.upstream.enqueue(CHAT, cold);
  p.upstream.enqueue(CHAT, { pieces: textStream(["from qwen"]) });
  const res = await post(p, "/api/chat", ask(`${DEEPSEEK}:latest`));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-proxy-fallback"), `${DEEPSEEK} -> ${QWEN}`);
  const lines = await ndjson(res);
  for (const line of lines) assert.equal(line.model, `${QWEN}:latest`);
  assert.equal((lines[0]!.message as { content: string }).content, "from qwen");
  assert.deepEqual(p.upstream.calls(CHAT).map((c) => c.body!.model), [DEEPSEEK, DEEPSEEK, QWEN]);
});

Deno.test("the chain goes on to the last alternate; when all fail the client gets the last error", async () => {
  await using p = startProxy({ config: { ...config, retry_attempts: 1 } });
  p.upstream.enqueue(CHAT, cold);
  p.upstream.enqueue(CHAT, {
    status: 429,
    json: { detail: "Infrastructure is at maximum capacity, try again later" },
  });
  p.upstream.enqueue(CHAT, {
    status: 500,
    json: { detail: "exhausted all available targets to no avail" },
  });
  const res = await post(p, "/api/chat", ask(DEEPSEEK));
  assert.equal(res.status, 500);
  assert.deepEqual(await res.json(), { error: "exhausted all available targets to no avail" });
  assert.deepEqual(p.upstream.calls(CHAT).map((c) => c.body!.model), [DEEPSEEK, QWEN, GEMMA]);
});

Deno.test("a non-transient failure does not fall back", async () => {
  await using p = startProxy({ config });
  p.upstream.enqueue(CHAT, {
    status: 402,
    json: { detail: "Quota exceeded and account balance is $0" },
  });
  const res = await post(p, "/api/chat", ask(DEEPSEEK));
  assert.equal(res.status, 402);
  await res.body?.cancel();
  assert.equal(p.upstream.calls(CHAT).length, 1);
});

Deno.test("the /v1 front door falls back too", async () => {
  await using p = startProxy({ config: { ...config, retry_attempts: 1 } });
  p.upstream.enqueue(CHAT, cold);
  p.upstream.enqueue(CHAT, { pieces: textStream(["from qwen"]) });
  const res = await post(p, "/v1/chat/completions", ask(DEEPSEEK));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-proxy-fallback"), `${DEEPSEEK} -> ${QWEN}`);
  const body = await res.json();
  assert.equal(body.model, `${QWEN}:latest`, "the listed name of the model that answered");
  assert.equal(body.choices[0].message.content, "from qwen");
});

Deno.test("Chutes model pools and routing suffixes pass through untouched", async () => {
  await using p = startProxy();
  for (const pool of [`${DEEPSEEK},${QWEN}`, `${DEEPSEEK},${QWEN}:latency`, `${QWEN}:throughput`]) {
    p.upstream.enqueue(CHAT, { pieces: textStream(["ok"]) });
    const res = await post(p, "/api/chat", { ...ask(pool), stream: false });
    assert.equal(res.status, 200, pool);
    assert.equal((await res.json()).model, pool);
    assert.equal(p.upstream.calls(CHAT).at(-1)!.body!.model, pool);
  }
});

Deno.test("an alternate gets what it can serve: one without tools is skipped, the output limit is its own", async () => {
  const VL = "Qwen/Qwen2.5-VL-72B-Instruct"; // no tools (features known)
  await using p = startProxy({
    config: { retry_attempts: 1, fallbacks: { [QWEN]: [VL, DEEPSEEK] } },
  });
  p.upstream.models = p.upstream.models.map((m) =>
    m.id === DEEPSEEK ? { ...m, context_length: 8192, max_output_length: 4096 } : m
  );
  await p.deps.catalogue.refresh();
  p.upstream.enqueue(CHAT, cold);
  p.upstream.enqueue(CHAT, { pieces: textStream(["ok"]) });
  const tools = [{ type: "function", function: { name: "f", parameters: { type: "object" } } }];
  const res = await post(p, "/v1/chat/completions", {
    ...ask(QWEN),
    tools,
    max_tokens: 30000,
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-proxy-fallback"), `${QWEN} -> ${DEEPSEEK}`);
  await res.json();
  const calls = p.upstream.calls(CHAT);
  assert.deepEqual(calls.map((c) => c.body!.model), [QWEN, DEEPSEEK]);
  assert.equal(calls[1]!.body!.max_tokens, 4096);
});
