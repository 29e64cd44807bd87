/**
 * The access log: exactly one line per request, written when the answer is complete, with the
 * model, statuses, attempts, tokens, time to first token, total time, request id (also sent as
 * X-Request-Id) and Chutes' invocation id.
 */
import assert from "node:assert/strict";
import { chunk, sse, textStream } from "../_fake_upstream.ts";
import { ndjson, post, startProxy } from "../_helpers.ts";

const QWEN = "Qwen/Qwen3-32B-TEE";
const CHAT = "/v1/chat/completions";
const ask = { model: QWEN, messages: [{ role: "user", content: "hi" }] };
const access = (logs: string[], path: string) =>
  logs.filter((l) => / (INFO|WARN) POST /.test(l) && l.includes(` POST ${path} `));

Deno.test("a streamed chat logs one line at its end, with tokens, attempts and the invocation id", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, { status: 503, json: { detail: "No instances available (yet)" } });
  p.upstream.enqueue(CHAT, { pieces: textStream(["a", "b", "c"]) });
  const res = await post(p, "/api/chat", ask);
  const id = res.headers.get("x-request-id");
  assert.match(id ?? "", /^[0-9a-f]{8}$/);
  await ndjson(res);
  for (let i = 0; i < 50 && access(p.logs, "/api/chat").length === 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const lines = access(p.logs, "/api/chat");
  assert.equal(lines.length, 1);
  const line = lines[0]!;
  assert.match(
    line,
    new RegExp(
      `POST /api/chat 200 model=${QWEN} upstream=200 attempts=2 tokens=10/3 ttft=\\d+ms total=\\d+ms id=${id}$`,
    ),
  );
});

Deno.test("errors and non-streamed answers are logged at once, with the upstream's status", async () => {
  await using p = startProxy({ config: { retry_attempts: 1 } });
  p.upstream.enqueue(CHAT, { status: 401, json: { detail: "Authentication required." } });
  await (await post(p, "/api/chat", ask)).body?.cancel();
  assert.match(
    access(p.logs, "/api/chat")[0] ?? "",
    / WARN POST \/api\/chat 401 model=\S+ upstream=401 total=\d+ms id=\S+ \(failed: Authentication required\.\)$/,
  );
  p.upstream.enqueue(CHAT, { pieces: textStream(["x"]), before: 0 });
  await (await post(p, "/v1/chat/completions", { ...ask, stream: true })).text();
  for (let i = 0; i < 50 && access(p.logs, "/v1/chat/completions").length === 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(access(p.logs, "/v1/chat/completions").length, 1);
});

Deno.test("Chutes' X-Chutes-InvocationID is logged for support", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, {
    json: { id: "x", object: "chat.completion", choices: [] },
    headers: { "x-chutes-invocationid": "inv-123" },
  });
  await (await post(p, "/v1/chat/completions", ask)).body?.cancel();
  assert.match(access(p.logs, "/v1/chat/completions")[0] ?? "", /chutes=inv-123/);
});

Deno.test("a client that leaves mid-stream is logged once, saying so", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, { pieces: textStream(["a"]).slice(0, 2), hang: true });
  const controller = new AbortController();
  const res = await post(p, "/api/chat", ask, { signal: controller.signal });
  const reader = res.body!.getReader();
  await reader.read();
  controller.abort();
  await reader.closed.catch(() => {});
  for (let i = 0; i < 100 && access(p.logs, "/api/chat").length === 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const lines = access(p.logs, "/api/chat");
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /\(client left\)$/);
});

Deno.test("a stream that fails after its 200 is logged as failed and counted as a stream failure", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, {
    pieces: [
      ...sse([chunk({ content: "par" })], { done: false }),
      '{"error": "Unhandled exception during response stream"}\n',
    ],
  });
  await ndjson(await post(p, "/api/chat", ask));
  p.upstream.enqueue(CHAT, { pieces: ['data: {"choices":[]}\n\n', '{"detail": "boom"}\n'] });
  await (await post(p, "/v1/chat/completions", { ...ask, stream: true })).text();
  for (let i = 0; i < 50 && access(p.logs, "/v1/chat/completions").length === 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.match(
    access(p.logs, "/api/chat")[0] ?? "",
    / WARN POST \/api\/chat 200 .*\(failed: Unhandled exception during response stream\)$/,
  );
  assert.match(
    access(p.logs, "/v1/chat/completions")[0] ?? "",
    / 200 .*\(failed: boom\)$/,
  );
  const metrics = await (await fetch(`${p.url}/metrics`)).text();
  assert.match(metrics, /^ollama_proxy_stream_failures_total 2$/m);
  const minutes = p.deps.metrics.lastHour();
  assert.equal(minutes.reduce((n, m) => n + m.errors, 0), 2);
});

Deno.test("a client that gives up on an answer that is not streamed is logged as leaving, not as a 502", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, {
    pieces: sse([chunk({ content: "slow" })], { done: false }),
    hang: true,
  });
  const controller = new AbortController();
  const pending = post(p, "/api/chat", { ...ask, stream: false }, { signal: controller.signal });
  for (let i = 0; i < 100 && p.upstream.openStreams === 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  controller.abort();
  await pending.catch(() => {});
  for (let i = 0; i < 100 && access(p.logs, "/api/chat").length === 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const line = access(p.logs, "/api/chat")[0] ?? "";
  assert.match(line, / 499 /);
  assert.equal(line.includes("502"), false, line);
  assert.equal(p.logs.some((l) => l.includes(" WARN ")), false);
  for (let i = 0; i < 100 && p.upstream.openStreams > 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(p.upstream.openStreams, 0, "the upstream stream is closed");
});

Deno.test("a stream cut short after tokens came is logged with the tokens so far (Chutes bills them)", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, {
    pieces: [
      ...sse([chunk({ content: "a" }), chunk({ content: "b" }), chunk({ content: "c" })], {
        done: false,
      }),
      '{"error": "Unhandled exception during response stream"}\n',
    ],
  });
  await ndjson(await post(p, "/api/chat", ask));
  for (let i = 0; i < 50 && access(p.logs, "/api/chat").length === 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  // The prompt's estimate (no usage came) and the three deltas.
  assert.match(access(p.logs, "/api/chat")[0] ?? "", / tokens=\d+\/3 .*\(failed: /);
});
