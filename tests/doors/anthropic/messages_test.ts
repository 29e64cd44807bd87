/**
 * `POST /v1/messages` and `/v1/messages/count_tokens` over real HTTP in front of the fake
 * upstream: the conformance cases of agent-doors.md A.10, the captured Claude Code requests
 * replayed with the exact upstream bodies asserted, golden SSE answers (text; thinking then a
 * tool call), the `stream: false` answer, errors in Anthropic's shape before and after the first
 * byte, capacity failures that Claude Code retries, access keys in `x-api-key`, and the door's
 * requests in the access log and metrics.
 */
import assert from "node:assert/strict";
import { chunk, sse, textStream, usage } from "../../_fake_upstream.ts";
import { post, startProxy, TEST_TOKEN, type TestProxy } from "../../_helpers.ts";
import { anthropicRoutes } from "../../../lib/doors/anthropic/routes.ts";
import { createHandler } from "../../../lib/server/router.ts";

const QWEN = "Qwen/Qwen3-32B-TEE";
const DEEPSEEK = "deepseek-ai/DeepSeek-V3-0324";
const CHAT = "/v1/chat/completions";
const MESSAGES = "/v1/messages?beta=true";
const FIXTURES = new URL("../../fixtures/anthropic/", import.meta.url);
const STREAMED = { include_usage: true };

const ASK = { model: QWEN, max_tokens: 1024, messages: [{ role: "user", content: "Hello" }] };

/** The SSE body as [event, data] pairs, checking each frame's shape. */
async function frames(res: Response): Promise<[string, Record<string, unknown>][]> {
  const text = await res.text();
  assert.ok(text.endsWith("\n\n"), "the body ends with a whole frame");
  return text.slice(0, -2).split("\n\n").map((frame) => {
    const m = /^event: ([a-z_]+)\ndata: (.*)$/s.exec(frame);
    assert.ok(m, `not an SSE frame: ${JSON.stringify(frame)}`);
    return [m[1]!, JSON.parse(m[2]!)];
  });
}

/** The SSE body with the random message id fixed, for golden comparison. */
async function goldenBody(res: Response, name: string): Promise<void> {
  const text = (await res.text()).replace(/"msg_[0-9a-f]{24}"/g, '"msg_fixed"');
  const url = new URL(name, FIXTURES);
  if (Deno.env.get("UPDATE_GOLDEN") === "1") await Deno.writeTextFile(url, text);
  assert.equal(text, await Deno.readTextFile(url));
}

async function capture(name: string): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(new URL(`${name}.request.json`, FIXTURES))).body;
}

function lastUpstreamBody(p: TestProxy): Record<string, unknown> {
  return p.upstream.calls(CHAT).at(-1)!.body!;
}

Deno.test("messages: the smallest request, not streamed (A.10 1): upstream body and message", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, { pieces: textStream(["Hi", " there"]) });
  const res = await post(p, "/v1/messages", ASK);
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.match(body.id, /^msg_[0-9a-f]{24}$/);
  assert.deepEqual({ ...body, id: "msg" }, {
    id: "msg",
    type: "message",
    role: "assistant",
    model: QWEN,
    content: [{ type: "text", text: "Hi there" }],
    stop_reason: "end_turn",
    stop_sequence: null,
    usage: { input_tokens: 10, output_tokens: 2 },
  });
  assert.deepEqual(lastUpstreamBody(p), {
    model: QWEN,
    messages: [{ role: "user", content: "Hello" }],
    max_tokens: 1024,
    stream: true,
    stream_options: STREAMED,
  });
  assert.equal(p.upstream.calls(CHAT)[0]!.headers.get("authorization"), `Bearer ${TEST_TOKEN}`);
});

Deno.test("messages: a streamed text answer (A.10 9, golden http_text.sse)", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, { pieces: textStream(["Hello", " world!"]) });
  const res = await post(p, MESSAGES, { ...ASK, stream: true });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/event-stream");
  assert.equal(res.headers.get("cache-control"), "no-cache");
  await goldenBody(res, "http_text.sse");
});

Deno.test("messages: thinking then a tool call, streamed (A.10 10, golden http_thinking_tool_use.sse)", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, {
    pieces: sse([
      chunk({ role: "assistant", content: "" }),
      chunk({ reasoning_content: "Need " }),
      chunk({ reasoning_content: "the tool." }),
      chunk({
        tool_calls: [{
          index: 0,
          id: "call_k3j9x0ab",
          type: "function",
          function: { name: "get_weather", arguments: "" },
        }],
      }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
      chunk({}, "tool_calls"),
      usage(120, 18),
    ]),
  });
  const res = await post(p, MESSAGES, {
    ...ASK,
    stream: true,
    system: [{ type: "text", text: "Be terse.", cache_control: { type: "ephemeral" } }],
    thinking: { type: "enabled", budget_tokens: 2048 },
    tools: [{
      name: "get_weather",
      description: "Weather by city",
      input_schema: { type: "object", properties: { city: { type: "string" } } },
    }],
    messages: [{ role: "user", content: "Weather in Paris?" }],
  });
  await goldenBody(res, "http_thinking_tool_use.sse");
  assert.deepEqual(lastUpstreamBody(p), {
    model: QWEN,
    messages: [
      { role: "system", content: "Be terse." },
      { role: "user", content: "Weather in Paris?" },
    ],
    max_tokens: 1024,
    tools: [{
      type: "function",
      function: {
        name: "get_weather",
        description: "Weather by city",
        parameters: { type: "object", properties: { city: { type: "string" } } },
      },
    }],
    chat_template_kwargs: { thinking: true, enable_thinking: true },
    stream: true,
    stream_options: STREAMED,
  });
});

Deno.test("messages: the same answer not streamed: thinking, then tool_use, stop_reason tool_use", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, {
    pieces: sse([
      chunk({ reasoning_content: "Need the tool." }),
      chunk({
        tool_calls: [{
          index: 0,
          id: "call_1",
          type: "function",
          function: { name: "get_weather", arguments: '{"city":"Paris"}' },
        }],
      }),
      chunk({}, "tool_calls"),
      usage(120, 18),
    ]),
  });
  const res = await post(p, "/v1/messages", {
    ...ASK,
    tools: [{ name: "get_weather", input_schema: { type: "object" } }],
  });
  const body = await res.json();
  assert.deepEqual(body.content, [
    { type: "thinking", thinking: "Need the tool.", signature: "ollama-chutes-proxy" },
    { type: "tool_use", id: "call_1", name: "get_weather", input: { city: "Paris" } },
  ]);
  assert.equal(body.stop_reason, "tool_use");
  assert.deepEqual(body.usage, { input_tokens: 120, output_tokens: 18 });
});

Deno.test("messages: bad requests are 400s in Anthropic's shape naming the field (A.10 4–6)", async () => {
  await using p = startProxy();
  const expect400 = async (body: unknown, message: string | RegExp) => {
    const res = await post(p, MESSAGES, body);
    assert.equal(res.status, 400);
    const json = await res.json();
    assert.equal(json.type, "error");
    assert.equal(json.error.type, "invalid_request_error");
    if (typeof message === "string") assert.equal(json.error.message, message);
    else assert.match(json.error.message, message);
  };
  await expect400({ ...ASK, max_tokens: 0 }, "max_tokens is required and must be positive");
  await expect400({ ...ASK, max_tokens: undefined }, "max_tokens is required and must be positive");
  await expect400({ ...ASK, messages: [] }, "messages is required");
  await expect400("{not json", /^invalid JSON in request body/);
  await expect400(
    { ...ASK, messages: [{ role: "assistant", content: [{ type: "tool_use", name: "x" }] }] },
    `invalid "messages[0].content[0]": tool_use block missing required 'id' field`,
  );
  await expect400(
    { ...ASK, tools: [{ name: "x", input_schema: 5 }] },
    `invalid input_schema for tool "x": expected a JSON Schema object, got number`,
  );
  assert.equal(p.upstream.calls(CHAT).length, 0, "nothing was sent upstream");
});

Deno.test("messages: unknown models and upstream errors keep their status in Anthropic's shape (A.10 11)", async () => {
  await using p = startProxy({ config: { retry_attempts: 1 } });
  const missing = await post(p, MESSAGES, { ...ASK, model: "nonexistent" });
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), {
    type: "error",
    error: { type: "not_found_error", message: "model 'nonexistent' not found" },
  });
  p.upstream.enqueue(CHAT, { status: 401, json: { detail: "Invalid token." } });
  const denied = await post(p, MESSAGES, ASK);
  assert.equal(denied.status, 401);
  assert.deepEqual((await denied.json()).error, {
    type: "authentication_error",
    message: "Invalid token.",
  });
  const batches = await fetch(`${p.url}/v1/messages/batches`);
  assert.equal(batches.status, 404);
  assert.equal((await batches.json()).error.type, "not_found_error");
  const get = await fetch(`${p.url}/v1/messages`);
  assert.equal(get.status, 405);
  assert.equal((await get.json()).type, "error");
});

Deno.test("messages: capacity failures are retried before the first byte; the last is an overloaded_error Claude Code retries", async () => {
  await using p = startProxy({ config: { retry_attempts: 2 } });
  for (let i = 0; i < 2; i++) {
    p.upstream.enqueue(CHAT, { status: 503, json: { detail: "No instances available (yet)" } });
  }
  const res = await post(p, MESSAGES, { ...ASK, stream: true });
  assert.equal(res.status, 503);
  assert.deepEqual(await res.json(), {
    type: "error",
    error: { type: "overloaded_error", message: "No instances available (yet)" },
  });
  assert.equal(p.upstream.calls(CHAT).length, 2);
  assert.equal(p.waits.length, 1, "one wait between the two attempts");
  p.upstream.enqueue(CHAT, { status: 429, json: { detail: "Too many requests" } });
  p.upstream.enqueue(CHAT, { pieces: textStream(["ok"]) });
  const retried = await post(p, MESSAGES, ASK);
  assert.equal(retried.status, 200);
  assert.equal((await retried.json()).content[0].text, "ok");
});

Deno.test("messages: a failure after the first delta is an error event, then the end (A.10 14)", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, {
    pieces: sse([chunk({ role: "assistant", content: "" }), chunk({ content: "par" })], {
      done: false,
    }),
  });
  const res = await post(p, MESSAGES, { ...ASK, stream: true });
  assert.equal(res.status, 200);
  const ev = await frames(res);
  assert.deepEqual(ev.map(([name]) => name), [
    "message_start",
    "content_block_start",
    "content_block_delta",
    "error",
  ]);
  assert.deepEqual(ev.at(-1)![1], {
    type: "error",
    error: {
      type: "api_error",
      message: "upstream stream ended before the response was complete",
    },
  });
  await new Promise((r) => setTimeout(r, 0));
  assert.ok(p.logs.some((l) => l.includes("POST /v1/messages 200") && l.includes("(failed:")));

  p.upstream.enqueue(CHAT, {
    pieces: [
      ...sse([chunk({ content: "par" })], { done: false }),
      '{"error": "Unhandled exception during response stream: x"}\n',
    ],
  });
  const collected = await post(p, MESSAGES, ASK);
  assert.equal(collected.status, 502);
  assert.deepEqual((await collected.json()).error, {
    type: "api_error",
    message: "Unhandled exception during response stream: x",
  });
});

Deno.test("messages: thinking asked of a model without it is dropped silently (relax_thinking)", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, { pieces: textStream(["hi"]) });
  const res = await post(p, MESSAGES, {
    ...ASK,
    model: DEEPSEEK,
    thinking: { type: "adaptive" },
    output_config: { effort: "high" },
  });
  assert.equal(res.status, 200);
  await res.body?.cancel();
  assert.deepEqual(lastUpstreamBody(p), {
    model: DEEPSEEK,
    messages: [{ role: "user", content: "Hello" }],
    max_tokens: 1024,
    stream: true,
    stream_options: STREAMED,
  });
});

Deno.test("messages: max_tokens is clamped to the model's output limit and said so; server defaults fill sampling", async () => {
  await using p = startProxy({ config: { defaults: { temperature: 0.6, top_k: 20 } } });
  p.upstream.models.push({
    id: "small/out-8k",
    max_model_len: 32768,
    context_length: 32768,
    max_output_length: 8192,
    supported_features: ["tools"],
  });
  p.upstream.enqueue(CHAT, { pieces: textStream(["ok"]) });
  const res = await post(p, MESSAGES, {
    ...ASK,
    model: "small/out-8k",
    max_tokens: 32000,
    top_k: 5,
  });
  assert.equal(res.status, 200);
  assert.equal(
    res.headers.get("x-proxy-ignored-options"),
    "max_tokens above the model's limit (32000 clamped to 8192)",
  );
  await res.body?.cancel();
  const sent = lastUpstreamBody(p);
  assert.equal(sent.max_tokens, 8192);
  assert.equal(sent.temperature, 0.6);
  assert.equal(sent.top_k, 5, "the client's value wins over the default");
});

Deno.test("messages: captured Claude Code first turn replayed: the exact upstream body", async () => {
  await using p = startProxy({ config: { aliases: { "fake/chat": QWEN } } });
  p.upstream.enqueue(CHAT, { pieces: textStream(["hi!"]) });
  const res = await post(p, MESSAGES, await capture("claude-code-say-hi"), {
    headers: {
      "content-type": "application/json",
      "anthropic-version": "2023-06-01",
      "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14",
      authorization: "Bearer anything",
    },
  });
  assert.equal(res.status, 200);
  const names = (await frames(res)).map(([n]) => n);
  assert.equal(names.at(-1), "message_stop");
  const golden = JSON.parse(
    await Deno.readTextFile(new URL("claude-code-say-hi.upstream.json", FIXTURES)),
  );
  assert.deepEqual(lastUpstreamBody(p), {
    ...golden.body,
    model: QWEN,
    stream: true,
    stream_options: STREAMED,
  });
});

Deno.test("messages: captured Claude Code tool-result turns replayed: the exact upstream bodies", async () => {
  await using p = startProxy({ config: { aliases: { "fake/tools": QWEN } } });
  for (const name of ["claude-code-tool-result-turn-full-tools", "claude-code-tool-result-turn"]) {
    p.upstream.enqueue(CHAT, { pieces: textStream(["It says hello."]) });
    const res = await post(p, MESSAGES, await capture(name));
    assert.equal(res.status, 200);
    await res.body?.cancel();
    const golden = JSON.parse(
      await Deno.readTextFile(new URL(`${name}.upstream.json`, FIXTURES)),
    );
    assert.deepEqual(lastUpstreamBody(p), {
      ...golden.body,
      model: QWEN,
      stream: true,
      stream_options: STREAMED,
    });
  }
  const sent = lastUpstreamBody(p).messages as Record<string, unknown>[];
  assert.equal(sent[2]!.reasoning_content, "Let me think about it.");
});

Deno.test("messages: count_tokens is answered locally, with no upstream call at all (A.10 13)", async () => {
  await using p = startProxy();
  const res = await post(
    p,
    "/v1/messages/count_tokens?beta=true",
    await capture("claude-code-count-tokens"),
  );
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.deepEqual(Object.keys(body), ["input_tokens"]);
  assert.ok(body.input_tokens > 1000, `the 16 tools are counted (${body.input_tokens})`);
  assert.equal(p.upstream.requests.length, 0);
  const bad = await post(p, "/v1/messages/count_tokens", { model: "m" });
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).error.message, "messages is required");
});

Deno.test("messages: with access keys, x-api-key is accepted as well as a bearer key", async () => {
  await using p = startProxy({ config: { api_keys: ["k-one-made-up-16ch"] } });
  p.upstream.enqueue(CHAT, { pieces: textStream(["a"]) });
  p.upstream.enqueue(CHAT, { pieces: textStream(["b"]) });
  const viaHeader = await post(p, MESSAGES, ASK, {
    headers: { "content-type": "application/json", "x-api-key": "k-one-made-up-16ch" },
  });
  assert.equal(viaHeader.status, 200);
  await viaHeader.body?.cancel();
  const viaBearer = await post(p, MESSAGES, ASK, {
    headers: { "content-type": "application/json", authorization: "Bearer k-one-made-up-16ch" },
  });
  assert.equal(viaBearer.status, 200);
  await viaBearer.body?.cancel();
  const wrong = await post(p, MESSAGES, ASK, {
    headers: { "content-type": "application/json", "x-api-key": "k-two-made-up-16ch" },
  });
  assert.equal(wrong.status, 401);
  assert.equal((await wrong.json()).error.type, "authentication_error");
  const none = await post(p, "/v1/messages/count_tokens", ASK);
  assert.equal(none.status, 401);
  await none.body?.cancel();
});

Deno.test("messages: the door's requests are in the access log, the metrics and the status page", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, { pieces: textStream(["a", "b"]) });
  const res = await post(p, MESSAGES, { ...ASK, stream: true });
  await res.text();
  await new Promise((r) => setTimeout(r, 0));
  const line = p.logs.find((l) => l.includes("POST /v1/messages 200"));
  assert.ok(line, p.logs.join("\n"));
  assert.match(line, new RegExp(`model=${QWEN} .*tokens=10/2`));
  const metrics = await (await fetch(`${p.url}/metrics`)).text();
  assert.match(metrics, /route="\/v1\/messages"/);
  const ui = await (await fetch(`${p.url}/ui/data`)).json();
  assert.ok(
    ui.recent.some((r: { route: string; model: string }) =>
      r.route === "/v1/messages" && r.model === QWEN
    ),
    JSON.stringify(ui.recent),
  );
});

Deno.test("messages: ping events keep the stream alive while the first token is pending", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, {
    pieces: [
      ...sse([chunk({ role: "assistant", content: "" })], { done: false }),
      textStream(["late"]).join(""),
    ],
    delayMs: 100,
  });
  // The app's door pings every 10 s; the same rows with a 10 ms interval show it in a test.
  const handler = createHandler(p.deps, [anthropicRoutes(10)]);
  const res = await handler(
    new Request("http://127.0.0.1/v1/messages", {
      method: "POST",
      body: JSON.stringify({ ...ASK, stream: true }),
    }),
  );
  const names = (await frames(res)).map(([n]) => n);
  const firstBlock = names.indexOf("content_block_start");
  assert.equal(names[0], "message_start");
  assert.ok(names.slice(1, firstBlock).length >= 1, names.join(" "));
  assert.ok(names.slice(1, firstBlock).every((n) => n === "ping"), names.join(" "));
  assert.ok(!names.slice(firstBlock).includes("ping"), "no ping once tokens flow");
});

Deno.test("messages: blocks dropped from the history are noted in the debug log", async () => {
  await using p = startProxy({ config: { debug: true } });
  p.upstream.enqueue(CHAT, { pieces: textStream(["ok"]) });
  const res = await post(p, MESSAGES, {
    ...ASK,
    messages: [{
      role: "user",
      content: [{ type: "document", source: { type: "text", data: "x" } }, {
        type: "text",
        text: "summarise",
      }],
    }],
  });
  await res.body?.cancel();
  assert.ok(
    p.logs.some((l) =>
      l.includes("anthropic: dropped from the history: messages[0].content[0] (document)")
    ),
    p.logs.join("\n"),
  );
});

Deno.test("messages: a capacity failure mid-answer is an overloaded_error whether streamed or not", async () => {
  await using p = startProxy();
  const overloaded = () =>
    p.upstream.enqueue(CHAT, {
      pieces: [
        ...sse([chunk({ content: "par" })], { done: false }),
        '{"detail": "No instances available (yet) for chute_id=x"}\n',
      ],
    });
  overloaded();
  const ev = await frames(await post(p, MESSAGES, { ...ASK, stream: true }));
  assert.equal((ev.at(-1)![1].error as { type: string }).type, "overloaded_error");
  overloaded();
  // Claude Code's retry without streaming gets a 529 it retries with backoff, not a 502.
  const collected = await post(p, MESSAGES, ASK);
  assert.equal(collected.status, 529);
  assert.equal((await collected.json()).error.type, "overloaded_error");
});
