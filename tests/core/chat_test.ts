/**
 * The chat core under every door, over real HTTP against the fake upstream: what `/v1` gained by
 * going through it (tokens counted in the log, metrics and status page; the context guard; the
 * `max_tokens` clamp; capability checks; the event size cap; non-stream upstream answers refused;
 * the requested model echoed), reasoning carried back upstream as `reasoning_content`, every
 * secret redacted from the error messages built from upstream text, and a guard that stays
 * linear on a 100,000-message conversation.
 */
import assert from "node:assert/strict";
import { chunk, sse, textStream, usage } from "../_fake_upstream.ts";
import { post, startProxy, TEST_TOKEN } from "../_helpers.ts";
import { estimateTokens } from "../../lib/core/policy.ts";

const QWEN = "Qwen/Qwen3-32B-TEE"; // context 40960, output limit 40960, tools, reasoning
const VL = "Qwen/Qwen2.5-VL-72B-Instruct"; // vision, no tools
const CHAT = "/v1/chat/completions";
const user = (content: string) => ({ role: "user", content });

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
}

Deno.test("/v1 tokens are counted: access log, metrics and the status page's usage", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, { pieces: textStream(["a", "b", "c"]) });
  const res = await post(p, CHAT, { model: QWEN, messages: [user("hi")], stream: true });
  await res.text();
  p.upstream.enqueue(CHAT, { pieces: textStream(["d"]) });
  await (await post(p, CHAT, { model: QWEN, messages: [user("hi")] })).json();
  const line = () => p.logs.filter((l) => l.includes(` INFO POST ${CHAT} 200`));
  await waitFor(() => line().length === 2);
  assert.match(line()[0]!, / tokens=10\/3 /);
  assert.match(line()[1]!, / tokens=10\/1 /);
  const metrics = await (await fetch(`${p.url}/metrics`)).text();
  assert.match(
    metrics,
    new RegExp(`ollama_proxy_tokens_total\\{model="${QWEN}",direction="in"\\} 20`),
  );
  assert.match(
    metrics,
    new RegExp(`ollama_proxy_tokens_total\\{model="${QWEN}",direction="out"\\} 4`),
  );
  const ui = await (await fetch(`${p.url}/ui/data`)).json();
  const row = ui.usage.find((u: { model: string }) => u.model === QWEN);
  assert.equal(row.tokens_in, 20);
  assert.equal(row.tokens_out, 4);
  assert.ok(row.cost_usd > 0, "priced from the catalogue");
});

Deno.test("/v1 gets the context guard and the max_tokens clamp", async () => {
  await using p = startProxy();
  // 16,000 messages of ~100 characters: about 464,000 tokens, far over 40960.
  const messages = Array.from({ length: 16_000 }, (_, i) => user(`${i} ${"x".repeat(100)}`));
  p.upstream.enqueue(CHAT, { pieces: textStream(["ok"]) });
  const res = await post(p, CHAT, { model: QWEN, messages, max_tokens: 100_000 });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("x-proxy-ignored-options") ?? "", /100000 clamped to \d+/);
  await res.json();
  const sent = p.upstream.calls(CHAT)[0]!.body!;
  const kept = sent.messages as { content: string }[];
  assert.ok(kept.length > 100 && kept.length < 16_000, `${kept.length} messages kept`);
  assert.equal(kept.at(-1)!.content, messages.at(-1)!.content, "the newest message is kept");
  // What is sent fits the context: the kept prompt's estimate plus the clamped output.
  const prompt = estimateTokens(kept as { role: string; content: string }[]);
  const maxTokens = sent.max_tokens as number;
  assert.ok(maxTokens >= 1024 && prompt + maxTokens <= 40960, `${prompt} + ${maxTokens}`);
});

Deno.test("the context guard stays linear: 100,000 messages (3 MB) are trimmed, not left hanging", async () => {
  await using p = startProxy();
  const messages = Array.from({ length: 100_000 }, (_, i) => user(i % 2 ? "a" : "bb"));
  messages.push(user("the last question"));
  p.upstream.enqueue(CHAT, { pieces: textStream(["ok"]) });
  const res = await post(p, "/api/chat", { model: QWEN, messages, stream: false });
  assert.equal(res.status, 200);
  await res.json();
  const kept = p.upstream.calls(CHAT)[0]!.body!.messages as { content: string }[];
  assert.ok(kept.length < messages.length);
  assert.equal(kept.at(-1)!.content, "the last question");
  // 5 tokens a message at most: what is kept fits the 40960 context.
  assert.ok(kept.length * 5 <= 40960);
  p.upstream.enqueue(CHAT, { pieces: textStream(["ok"]) });
  const rejected = await startProxy({ upstream: p.upstream, config: { context_guard: "reject" } });
  try {
    const r = await post(rejected, "/api/chat", { model: QWEN, messages, stream: false });
    assert.equal(r.status, 400);
    assert.match((await r.json()).error, /more than the model's context length of 40960/);
  } finally {
    await rejected.deps.catalogue.refresh(); // settle its background work before closing
  }
});

Deno.test("/v1 checks capabilities before spending a request", async () => {
  await using p = startProxy();
  const tools = [{ type: "function", function: { name: "f", parameters: { type: "object" } } }];
  const res = await post(p, CHAT, { model: VL, messages: [user("hi")], tools });
  assert.equal(res.status, 400);
  assert.deepEqual((await res.json()).error, {
    message: `"${VL}" does not support tools`,
    type: "invalid_request_error",
    param: null,
    code: null,
  });
  assert.equal(p.upstream.calls(CHAT).length, 0);
});

Deno.test("an upstream 200 that is not an event stream is a 502 saying what came, on every door", async () => {
  await using p = startProxy({ config: { retry_attempts: 1 } });
  const html = `<html><body>Bad gateway ${TEST_TOKEN}</body></html>`;
  for (const path of ["/api/chat", CHAT]) {
    p.upstream.enqueue(CHAT, { text: html, headers: { "content-type": "text/html" } });
    const res = await post(p, path, { model: QWEN, messages: [user("hi")], stream: true });
    assert.equal(res.status, 502, path);
    const text = await res.text();
    assert.match(text, /the upstream answered text\/html instead of an event stream: <html>/);
    assert.equal(text.includes(TEST_TOKEN), false, path);
  }
});

Deno.test("an oversized upstream event ends a /v1 stream with an error event", async () => {
  await using p = startProxy();
  const huge = `data: {"choices":[{"delta":{"content":"${"x".repeat(9 * 1024 * 1024)}"}}]}\n\n`;
  p.upstream.enqueue(CHAT, { pieces: [...sse([chunk({ content: "ok" })], { done: false }), huge] });
  const res = await post(p, CHAT, { model: QWEN, messages: [user("hi")], stream: true });
  const text = await res.text();
  assert.ok(text.length < 10_000, "the huge event is not relayed");
  assert.match(text, /"content":"ok"/);
  assert.match(
    text,
    /data: \{"error":\{"message":"upstream sent a stream event larger than \d+ characters"/,
  );
});

Deno.test("an assistant's reasoning goes back upstream as reasoning_content, on /api and /v1", async () => {
  await using p = startProxy();
  const call = { id: "call_1", type: "function", function: { name: "f", arguments: "{}" } };
  p.upstream.enqueue(CHAT, { pieces: textStream(["ok"]) });
  await (await post(p, "/api/chat", {
    model: QWEN,
    stream: false,
    messages: [
      user("q"),
      {
        role: "assistant",
        content: "",
        thinking: "I should call f.",
        tool_calls: [{ id: "call_1", function: { name: "f", arguments: {} } }],
      },
      { role: "tool", content: "42", tool_call_id: "call_1" },
    ],
  })).json();
  const ollama = p.upstream.calls(CHAT)[0]!.body!.messages as Record<string, unknown>[];
  assert.equal(ollama[1]!.reasoning_content, "I should call f.");
  assert.equal(typeof ollama[1]!.content, "string", "never a content part");
  for (const field of ["reasoning_content", "reasoning"]) {
    p.upstream.enqueue(CHAT, { pieces: textStream(["ok"]) });
    await (await post(p, CHAT, {
      model: QWEN,
      messages: [
        user("q"),
        { role: "assistant", content: null, [field]: "think", tool_calls: [call] },
        { role: "tool", content: "42", tool_call_id: "call_1" },
      ],
    })).json();
    const sent = p.upstream.calls(CHAT).at(-1)!.body!.messages as Record<string, unknown>[];
    assert.equal(sent[1]!.reasoning_content, "think", field);
    assert.equal("reasoning" in sent[1]!, false, field);
  }
});

Deno.test("no error message built from upstream text carries a secret, on any door or mode", async () => {
  const key = "proxy-key-0123456789abcdef";
  await using p = startProxy({ config: { api_keys: [key], retry_attempts: 1 } });
  const auth = { headers: { authorization: `Bearer ${key}`, "content-type": "application/json" } };
  const echo = `token ${TEST_TOKEN} key ${key}`;
  const failures: string[][] = [
    [...sse([chunk({ content: "a" })], { done: false }), `data: {"error": "${echo}"}\n\n`],
    [...sse([chunk({ content: "a" })], { done: false }), `{"detail": "${echo}"}\n`],
    [`data: {"oops" ${echo}\n\n`],
    sse([
      chunk({
        tool_calls: [{ index: 0, id: "c", function: { name: "f", arguments: `{${echo}` } }],
      }),
      chunk({}, "tool_calls"),
      usage(1, 1),
    ]),
  ];
  let checked = 0;
  for (const pieces of failures) {
    for (
      const [path, stream] of [["/api/chat", true], ["/api/chat", false], [CHAT, true], [
        CHAT,
        false,
      ]] as const
    ) {
      p.upstream.enqueue(CHAT, { pieces });
      const res = await fetch(`${p.url}${path}`, {
        method: "POST",
        ...auth,
        body: JSON.stringify({ model: QWEN, messages: [user("hi")], stream }),
      });
      const text = await res.text();
      assert.ok(
        stream ? res.status === 200 : res.status === 502,
        `${path} ${stream}: ${res.status}`,
      );
      // The error the proxy wrote (the final line, event or body); the model's own streamed
      // text before it is the answer, relayed as generated.
      const error = text.slice(text.lastIndexOf('"error"'));
      assert.match(error, /\[redacted\]/, `${path} stream=${stream}: ${text.slice(0, 300)}`);
      assert.equal(error.includes(TEST_TOKEN), false, error);
      assert.equal(error.includes(key), false, error);
      checked++;
    }
  }
  assert.equal(checked, 16);
  await waitFor(() => p.logs.filter((l) => l.includes("(failed:")).length >= 8);
  for (const line of p.logs) {
    assert.equal(line.includes(TEST_TOKEN), false, line);
    assert.equal(line.includes(key), false, line);
  }
});

/** The chunks of a chunked HTTP/1.1 body, as framed on the wire. */
function dechunk(raw: string): string[] {
  const body = raw.slice(raw.indexOf("\r\n\r\n") + 4);
  const chunks: string[] = [];
  for (let at = 0;;) {
    const end = body.indexOf("\r\n", at);
    const size = parseInt(body.slice(at, end), 16);
    if (!size) return chunks;
    chunks.push(body.slice(end + 2, end + 2 + size));
    at = end + 2 + size + 2;
  }
}

Deno.test("each NDJSON line and SSE event is its own chunk on the wire, even when the upstream sent all at once", async () => {
  await using p = startProxy();
  const port = new URL(p.url).port;
  const cases: [string, Record<string, unknown>, (chunk: string) => boolean][] = [
    ["/api/chat", {}, (c) => c.endsWith("\n") && c.indexOf("\n") === c.length - 1],
    [CHAT, { stream: true }, (c) => c.startsWith("data: ") && c.indexOf("\n\n") === c.length - 2],
  ];
  for (const [path, extra, oneFrame] of cases) {
    p.upstream.enqueue(CHAT, { pieces: [textStream(["a", "b", "c"]).join("")] });
    const body = JSON.stringify({ model: QWEN, messages: [user("hi")], ...extra });
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
    await conn.write(new TextEncoder().encode(
      `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n` +
        `content-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
    ));
    const raw = new TextDecoder().decode(
      (await new Response(conn.readable).arrayBuffer()) as ArrayBuffer,
    );
    const chunks = dechunk(raw);
    assert.ok(chunks.length >= 4, `${path}: ${chunks.length} chunks`);
    for (const c of chunks) assert.ok(oneFrame(c), `${path}: ${JSON.stringify(c)}`);
  }
});

Deno.test("notes that carry client text make a safe header, never a 500", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, { pieces: textStream(["ok"]) });
  const res = await post(p, "/api/chat", {
    model: QWEN,
    messages: [user("hi")],
    stream: false,
    options: { "evil\r\nx-injected: 1": 1, "naïve→option": 2 },
  });
  assert.equal(res.status, 200);
  await res.json();
  assert.equal(res.headers.get("x-injected"), null);
  const note = res.headers.get("x-proxy-ignored-options") ?? "";
  assert.ok(note.includes("evil\\x0d\\x0ax-injected: 1 (unknown)"), note);
  assert.match(note, /naïve\?option \(unknown\)/);
});

Deno.test("the server's generation defaults fill only what the client left out, on every door", async (t) => {
  await using p = startProxy({ config: { defaults: { temperature: 0.2, top_k: 40 } } });
  const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ["/api/chat", { messages: [user("x")], stream: false, options: { temperature: 0.9 } }, {}],
    [CHAT, { messages: [user("x")], temperature: 0.9 }, {}],
    ["/v1/messages", { messages: [user("x")], max_tokens: 16, temperature: 0.9 }, {}],
    ["/v1/responses", { input: "x", temperature: 0.9, stream: false }, {}],
  ];
  for (const [path, body] of cases) {
    await t.step(path, async () => {
      p.upstream.enqueue(CHAT, { pieces: textStream(["ok"]) });
      const res = await post(p, path, { model: QWEN, ...body });
      assert.equal(res.status, 200, await res.clone().text());
      await res.body?.cancel();
      const sent = p.upstream.calls(CHAT).at(-1)!.body!;
      assert.equal(sent.temperature, 0.9, "the client's value wins");
      assert.equal(sent.top_k, 40, "the default fills the gap");
    });
  }
});

Deno.test("a tool call cut by the token limit reaches each door as its limit stop, not an error", async () => {
  await using p = startProxy();
  const cut = () =>
    p.upstream.enqueue(CHAT, {
      pieces: sse([
        chunk({
          tool_calls: [{ index: 0, id: "c0", function: { name: "get", arguments: '{"a":' } }],
        }),
        chunk({}, "length"),
        usage(5, 7),
      ]),
    });
  cut();
  const anthropic = await (await post(p, "/v1/messages", {
    model: QWEN,
    max_tokens: 7,
    messages: [user("x")],
  })).json();
  assert.equal(anthropic.stop_reason, "max_tokens");
  cut();
  const openai = await (await post(p, CHAT, { model: QWEN, messages: [user("x")] })).json();
  assert.equal(openai.choices[0].finish_reason, "length");
  cut();
  const responses = await (await post(p, "/v1/responses", { model: QWEN, input: "x" })).json();
  assert.equal(responses.status, "incomplete");
  assert.equal(responses.incomplete_details.reason, "max_output_tokens");
  cut();
  const ollama = await (await post(p, "/api/chat", {
    model: QWEN,
    messages: [user("x")],
    stream: false,
  })).json();
  assert.equal(ollama.done_reason, "length");
});

Deno.test("/v1: max_completion_tokens is clamped like max_tokens; several prompts are refused", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, { pieces: textStream(["ok"]) });
  const res = await post(p, CHAT, {
    model: QWEN,
    messages: [user("hi")],
    max_completion_tokens: 10_000_000,
  });
  assert.match(res.headers.get("x-proxy-ignored-options") ?? "", /max_completion_tokens above/);
  await res.json();
  const sent = p.upstream.calls(CHAT)[0]!.body!;
  assert.equal(sent.max_tokens, 40135);
  assert.equal("max_completion_tokens" in sent, false);
  const many = await post(p, "/v1/completions", { model: QWEN, prompt: ["a", "b"] });
  assert.equal(many.status, 400);
  assert.match((await many.json()).error.message, /one prompt per request/);
  assert.equal(p.upstream.calls("/v1/completions").length, 0);
});
