/**
 * The OpenAI front door driven by the real `openai` client (npm:openai) and raw fetch: models,
 * chat (stream and not), tool calls, completions, embeddings, the server's defaults and system
 * prompt, OpenAI-shaped errors with the upstream status, Chutes' bare mid-stream error line,
 * and a disconnect that cancels the upstream. Answers go through the chat core: the upstream is
 * always asked to stream, and its stream is re-encoded with the requested model name.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { chunk, sse, textStream, usage } from "../../_fake_upstream.ts";
import { post, startProxy, TEST_TOKEN } from "../../_helpers.ts";

const QWEN = "Qwen/Qwen3-32B-TEE";
const CHAT = "/v1/chat/completions";
/** A one-message chat request to QWEN, for the tests where the question does not matter. */
const ASK: { model: string; messages: OpenAI.ChatCompletionMessageParam[] } = {
  model: QWEN,
  messages: [{ role: "user", content: "x" }],
};

function client(url: string): OpenAI {
  return new OpenAI({ baseURL: `${url}/v1`, apiKey: "unused-by-proxy", maxRetries: 0 });
}

/** The upstream's stream of "Hello!" with usage 5/2. */
const completion = {
  pieces: sse([
    chunk({ role: "assistant", content: "" }),
    chunk({ content: "Hello!" }),
    chunk({}, "stop"),
    usage(5, 2),
  ]),
};

Deno.test("openai: models.list mirrors /api/tags; retrieve accepts ids with a slash", async () => {
  await using p = startProxy();
  const openai = client(p.url);
  const ids = [];
  for await (const m of openai.models.list()) ids.push(m.id);
  const tags = await (await fetch(`${p.url}/api/tags`)).json();
  assert.deepEqual(ids, tags.models.map((m: { model: string }) => m.model));
  const one = await openai.models.retrieve(QWEN);
  assert.equal(one.id, QWEN);
  assert.equal(one.owned_by, "Qwen");
  assert.equal(one.created, 1753500000);
  await assert.rejects(
    openai.models.retrieve("nope/none"),
    (err: InstanceType<typeof OpenAI.APIError>) => {
      return err.status === 404 && (err.error as { type: string }).type === "not_found_error";
    },
  );
});

Deno.test("openai: chat is forwarded with the resolved model, server defaults and system prompt", async () => {
  await using p = startProxy({
    config: {
      default_system_prompt: "Be kind.",
      defaults: { temperature: 0.2, top_k: 40 },
      aliases: { q: QWEN },
    },
  });
  p.upstream.enqueue(CHAT, completion);
  const res = await client(p.url).chat.completions.create({
    model: "q:latest",
    messages: [{ role: "user", content: "hi" }],
    temperature: 0.9,
  });
  assert.equal(res.choices[0]!.message.content, "Hello!");
  assert.equal(res.usage?.total_tokens, 7);
  assert.equal(res.model, "q:latest", "the requested name is echoed");
  const sent = p.upstream.calls(CHAT)[0]!;
  assert.deepEqual(sent.body, {
    model: QWEN,
    messages: [{ role: "system", content: "Be kind." }, { role: "user", content: "hi" }],
    temperature: 0.9,
    top_k: 40,
    stream: true,
    stream_options: { include_usage: true },
  });
  assert.equal(sent.headers.get("authorization"), `Bearer ${TEST_TOKEN}`);
});

Deno.test("openai: streaming chat with tool calls passes through, usage included", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, {
    pieces: sse([
      chunk({ role: "assistant", content: "" }),
      chunk({
        tool_calls: [{
          index: 0,
          id: "call_1",
          type: "function",
          function: { name: "f", arguments: '{"x"' },
        }],
      }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: ": 1}" } }] }),
      chunk({}, "tool_calls"),
      usage(8, 4),
    ]),
  });
  const stream = await client(p.url).chat.completions.create({
    model: QWEN,
    messages: [{ role: "user", content: "call f" }],
    tools: [{ type: "function", function: { name: "f", parameters: { type: "object" } } }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let args = "";
  let finish;
  let total;
  for await (const part of stream) {
    args += part.choices[0]?.delta.tool_calls?.[0]?.function?.arguments ?? "";
    finish = part.choices[0]?.finish_reason ?? finish;
    total = part.usage?.total_tokens ?? total;
  }
  assert.equal(args, '{"x": 1}');
  assert.equal(finish, "tool_calls");
  assert.equal(total, 12);
  assert.equal(p.upstream.calls(CHAT)[0]!.body!.stream, true);
});

Deno.test("openai: upstream errors keep their status in OpenAI's error shape", async () => {
  await using p = startProxy({ config: { retry_attempts: 1 } });
  p.upstream.enqueue(CHAT, {
    status: 429,
    json: { detail: "Infrastructure is at maximum capacity, try again later" },
  });
  await assert.rejects(
    client(p.url).chat.completions.create(ASK),
    (err: InstanceType<typeof OpenAI.APIError>) =>
      err.status === 429 && /maximum capacity/.test(err.message),
  );
  const raw = await post(p, "/v1/chat/completions", {
    model: "nope/none",
    messages: [{ role: "user", content: "x" }],
  });
  assert.equal(raw.status, 404);
  assert.equal(raw.headers.get("content-type"), "application/json");
  assert.deepEqual(await raw.json(), {
    error: {
      message: "model 'nope/none' not found",
      type: "not_found_error",
      param: null,
      code: null,
    },
  });
  const empty = await post(p, "/v1/chat/completions", { model: QWEN, messages: [] });
  assert.equal(empty.status, 400);
  assert.equal((await empty.json()).error.type, "invalid_request_error");
  const bad = await post(p, "/v1/chat/completions", "{oops");
  assert.equal(bad.status, 400);
  await bad.body?.cancel();
  const unknown = await fetch(`${p.url}/v1/nothing`);
  assert.equal(unknown.status, 404);
  assert.equal((await unknown.json()).error.type, "not_found_error");
});

Deno.test("openai: Chutes' bare mid-stream error line reaches the client as an error", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, {
    pieces: [
      ...sse([chunk({ content: "par" })], { done: false }),
      '{"error": "Unhandled exception during response stream: x"}\n',
    ],
  });
  const stream = await client(p.url).chat.completions.create({ ...ASK, stream: true });
  const seen: string[] = [];
  await assert.rejects(async () => {
    for await (const part of stream) seen.push(part.choices[0]?.delta.content ?? "");
  }, /Unhandled exception during response stream/);
  // The role chunk first (as vLLM sends it), then the text.
  assert.deepEqual(seen, ["", "par"]);
});

Deno.test("openai: completions and embeddings are forwarded", async () => {
  await using p = startProxy();
  const text = (t: string, finish: string | null = null) => ({
    id: "cmpl-1",
    object: "text_completion",
    created: 1,
    model: QWEN,
    choices: [{ index: 0, text: t, finish_reason: finish }],
  });
  p.upstream.enqueue("/v1/completions", { pieces: sse([text(" wor"), text("ld", "stop")]) });
  const done = await client(p.url).completions.create({ model: `${QWEN}:latest`, prompt: "hello" });
  assert.equal(done.choices[0]!.text, " world");
  assert.equal(done.choices[0]!.finish_reason, "stop");
  assert.equal(done.model, `${QWEN}:latest`);
  assert.equal(p.upstream.calls("/v1/completions")[0]!.body!.model, QWEN);
  assert.equal(p.upstream.calls("/v1/completions")[0]!.body!.prompt, "hello");
  p.upstream.enqueue("/v1/embeddings", {
    json: {
      object: "list",
      data: [{ object: "embedding", index: 0, embedding: [0.6, 0.8] }],
      model: "emb",
      usage: { prompt_tokens: 2, total_tokens: 2 },
    },
  });
  const emb = await client(p.url).embeddings.create({
    model: "Qwen/Qwen3-Embedding-0.6B:latest",
    input: "hi",
    encoding_format: "float",
  });
  assert.deepEqual(emb.data[0]!.embedding, [0.6, 0.8]);
  assert.equal(p.upstream.calls("/v1/embeddings")[0]!.body!.model, "Qwen/Qwen3-Embedding-0.6B");
}); // deno-fmt-ignore

Deno.test("openai: a client that leaves a stream cancels the upstream request", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, { pieces: sse([chunk({ content: "a" })], { done: false }), hang: true });
  const controller = new AbortController();
  const res = await post(p, "/v1/chat/completions", { ...ASK, stream: true }, {
    signal: controller.signal,
  });
  const reader = res.body!.getReader();
  await reader.read();
  controller.abort();
  await reader.closed.catch(() => {});
  for (let i = 0; i < 100 && p.upstream.openStreams > 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(p.upstream.openStreams, 0);
  assert.equal(p.upstream.cancelledStreams, 1);
});

/** The `data:` payloads of an SSE body, parsed (`[DONE]` kept as the string). */
function events(text: string): unknown[] {
  return text.split("\n\n").filter((e) => e !== "").map((e) => {
    assert.ok(e.startsWith("data: "), e);
    const data = e.slice("data: ".length);
    return data === "[DONE]" ? data : JSON.parse(data);
  });
}

Deno.test("openai: a text stream is re-encoded with the requested model, usage when asked, then [DONE]", async () => {
  await using p = startProxy({ config: { aliases: { q: QWEN } } });
  p.upstream.enqueue(CHAT, { pieces: textStream(["a", "b"]) });
  const res = await post(p, "/v1/chat/completions", {
    ...ASK,
    model: "q",
    stream: true,
    stream_options: { include_usage: true },
  });
  assert.equal(res.headers.get("content-type"), "text/event-stream");
  const got = events(await res.text()) as Record<string, unknown>[];
  assert.equal(got.at(-1), "[DONE]");
  const chunks = got.slice(0, -1) as {
    id: string;
    object: string;
    model: string;
    choices: { delta?: Record<string, unknown>; finish_reason: string | null }[];
    usage?: Record<string, number>;
  }[];
  for (const c of chunks) {
    assert.equal(c.model, "q");
    assert.equal(c.object, "chat.completion.chunk");
    assert.equal(c.id, chunks[0]!.id);
  }
  assert.deepEqual(chunks.map((c) => c.choices[0]?.delta), [
    { role: "assistant", content: "" },
    { content: "a" },
    { content: "b" },
    {},
    undefined,
  ]);
  assert.equal(chunks[3]!.choices[0]!.finish_reason, "stop");
  assert.deepEqual(chunks[4]!.choices, []);
  assert.deepEqual(chunks[4]!.usage, { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12 });
});

Deno.test("openai: without include_usage no usage-only chunk is sent", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, { pieces: textStream(["a", "b"]) });
  const res = await post(p, "/v1/chat/completions", { ...ASK, stream: true });
  const got = events(await res.text()) as { choices?: unknown[] }[];
  assert.equal(got.at(-1), "[DONE]");
  for (const e of got.slice(0, -1)) assert.equal(e.choices?.length, 1);
  p.upstream.enqueue(CHAT, { pieces: textStream(["a", "b"]) });
  const stream = await client(p.url).chat.completions.create({ ...ASK, stream: true });
  let text = "";
  for await (const part of stream) text += part.choices[0]!.delta.content ?? "";
  assert.equal(text, "ab");
});

Deno.test("openai: reasoning_effort is mapped as Ollama reads it; unknown values are a 400", async () => {
  await using p = startProxy();
  const cases: [unknown, Record<string, unknown>][] = [
    ["minimal", { reasoning_effort: "low" }],
    ["high", { reasoning_effort: "high" }],
    ["xhigh", { reasoning_effort: "high" }],
    ["none", { chat_template_kwargs: { thinking: false, enable_thinking: false } }],
  ];
  for (const [effort, expected] of cases) {
    p.upstream.enqueue(CHAT, completion);
    await (await post(p, "/v1/chat/completions", {
      ...ASK,
      reasoning_effort: effort,
    })).body?.cancel();
    const sent = p.upstream.calls(CHAT).at(-1)!.body!;
    for (const [key, value] of Object.entries(expected)) {
      assert.deepEqual(sent[key], value, String(effort));
    }
    if (effort === "none") assert.equal("reasoning_effort" in sent, false);
  }
  const bad = await post(p, "/v1/chat/completions", {
    ...ASK,
    reasoning_effort: "extreme",
  });
  assert.equal(bad.status, 400);
  assert.match((await bad.json()).error.message, /invalid reasoning value: 'extreme'/);
});

Deno.test("openai: embeddings without input or with a bad encoding_format are a 400", async () => {
  await using p = startProxy();
  for (const body of [{ model: "e" }, { model: "e", input: [] }, { model: "e", input: [1, "a"] }]) {
    const res = await post(p, "/v1/embeddings", body);
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.message, "invalid input");
  }
  const res = await post(p, "/v1/embeddings", { model: "e", input: "x", encoding_format: "hex" });
  assert.equal(res.status, 400);
  assert.match((await res.json()).error.message, /encoding_format/);
  assert.equal(p.upstream.calls("/v1/embeddings").length, 0);
});
