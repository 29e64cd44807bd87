/**
 * Routes over real HTTP with raw `fetch`: liveness, version, tags, show, ps, chat and generate
 * in both reply modes, load/unload, capability checks, error statuses and bodies before the
 * first byte, error lines after it, unknown routes, and client disconnects. The fake upstream
 * records every request, so the translated body is asserted exactly.
 */
import assert from "node:assert/strict";
import { chunk, sse, textStream, usage } from "../_fake_upstream.ts";
import { ndjson, post, startProxy, TEST_TOKEN } from "../_helpers.ts";

const QWEN = "Qwen/Qwen3-32B-TEE";
const CHAT = "/v1/chat/completions";
const user = (content: string) => ({ role: "user", content });

Deno.test("GET and HEAD / answer 'Ollama is running' as text", async () => {
  await using p = startProxy();
  const res = await fetch(`${p.url}/`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/plain; charset=utf-8");
  assert.equal(await res.text(), "Ollama is running");
  const head = await fetch(`${p.url}/`, { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), "");
});

Deno.test("GET and HEAD /api/version answer a numeric version of at least 0.6.4", async () => {
  await using p = startProxy();
  const res = await fetch(`${p.url}/api/version`);
  assert.equal(res.headers.get("content-type"), "application/json; charset=utf-8");
  const text = await res.text();
  assert.equal(text, '{"version":"0.32.6"}');
  const parts = JSON.parse(text).version.split(".").map(Number);
  assert.ok(parts[0] > 0 || parts[1] > 6 || (parts[1] === 6 && parts[2] >= 4));
  assert.equal((await fetch(`${p.url}/api/version`, { method: "HEAD" })).status, 200);
});

Deno.test("/api/tags lists the upstream catalogue with tagged names and full details", async () => {
  await using p = startProxy();
  const res = await fetch(`${p.url}/api/tags`);
  assert.equal(res.status, 200);
  const { models } = await res.json();
  assert.equal(models.length, 4);
  for (const m of models) {
    assert.equal(m.name, m.model);
    assert.match(m.name, /:latest$/);
    assert.match(m.modified_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assert.ok(Number.isInteger(m.size) && m.size >= 0);
    assert.match(m.digest, /^[0-9a-f]{64}$/);
    for (
      const key of ["parent_model", "format", "family", "parameter_size", "quantization_level"]
    ) {
      assert.equal(typeof m.details[key], "string", key);
    }
    assert.ok(Array.isArray(m.details.families));
    assert.equal("expires_at" in m, false);
  }
  const qwen = models.find((m: { name: string }) => m.name === `${QWEN}:latest`);
  assert.deepEqual(qwen.details, {
    parent_model: "",
    format: "safetensors",
    family: "qwen3",
    families: ["qwen3"],
    parameter_size: "32B",
    quantization_level: "FP8",
    context_length: 40960,
  });
  assert.deepEqual(qwen.capabilities, ["completion", "tools", "thinking"]);
});

Deno.test("/api/tags applies include/exclude filters and lists aliases", async () => {
  await using p = startProxy({
    config: { include: ["Qwen/*", "deepseek-ai/*"], exclude: ["*VL*"], aliases: { coder: QWEN } },
  });
  const { models } = await (await fetch(`${p.url}/api/tags`)).json();
  assert.deepEqual(models.map((m: { name: string }) => m.name), [
    "coder:latest",
    `${QWEN}:latest`,
    "deepseek-ai/DeepSeek-V3-0324:latest",
  ]);
  p.upstream.enqueue(CHAT, { pieces: textStream(["ok"]) });
  const res = await post(p, "/api/chat", { model: "coder", messages: [user("hi")], stream: false });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).model, "coder");
  assert.equal(p.upstream.calls(CHAT)[0]!.body!.model, QWEN);
});

Deno.test("/api/tags serves the last good list, then configured models, when the upstream listing fails", async () => {
  await using p = startProxy({ config: { models: ["some/model"], catalogue_ttl_seconds: 0 } });
  p.upstream.modelsReply = { status: 500, json: { detail: "boom" } };
  const cold = await fetch(`${p.url}/api/tags`);
  assert.equal(cold.status, 200);
  assert.deepEqual((await cold.json()).models.map((m: { name: string }) => m.name), [
    "some/model:latest",
  ]);
  p.upstream.modelsReply = undefined;
  await p.deps.catalogue.refresh();
  p.upstream.modelsReply = { status: 503, json: { detail: "down" } };
  await p.deps.catalogue.refresh();
  const warm = await (await fetch(`${p.url}/api/tags`)).json();
  assert.equal(warm.models.length, 4);
});

Deno.test("/api/show reports capabilities, model_info with context length, and string fields", async () => {
  await using p = startProxy();
  const res = await post(p, "/api/show", { model: QWEN });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.deepEqual(body.capabilities, ["completion", "tools", "thinking"]);
  assert.equal(body.model_info["general.architecture"], "qwen3");
  assert.equal(body.model_info["general.basename"], "Qwen3-32B-TEE");
  assert.equal(body.model_info["qwen3.context_length"], 40960);
  for (const key of ["license", "modelfile", "parameters", "template"]) {
    assert.equal(typeof body[key], "string");
  }
  assert.match(body.template, /Tools/);
  assert.match(body.parameters, /^num_ctx\s+40960$/m);
  const legacy = await (await post(p, "/api/show", { name: `${QWEN}:latest` })).json();
  assert.deepEqual(legacy.model_info, body.model_info);
  const vl = await (await post(p, "/api/show", { model: "Qwen/Qwen2.5-VL-72B-Instruct" })).json();
  assert.deepEqual(vl.capabilities, ["completion", "vision"]);
  assert.doesNotMatch(vl.template, /tools/i);
});

Deno.test("/api/show gives Copilot the requested name as basename, 404s unknown models, 400s no model", async () => {
  await using p = startProxy();
  const res = await post(p, "/api/show", { model: `${QWEN}:latest` }, {
    headers: { "content-type": "application/json", "user-agent": "GitHubCopilotChat/0.30.0" },
  });
  assert.equal((await res.json()).model_info["general.basename"], `${QWEN}:latest`);
  const missing = await post(p, "/api/show", { model: "nope/nothing" });
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), { error: "model 'nope/nothing:latest' not found" });
  const none = await post(p, "/api/show", {});
  assert.equal(none.status, 400);
  assert.deepEqual(await none.json(), { error: "model is required" });
  const wrongMethod = await fetch(`${p.url}/api/show`);
  assert.equal(wrongMethod.status, 405);
  assert.match((await wrongMethod.json()).error, /method not allowed/);
});

Deno.test("unknown routes answer JSON 404", async () => {
  await using p = startProxy();
  const res = await fetch(`${p.url}/api/nothing-here`);
  assert.equal(res.status, 404);
  assert.equal(res.headers.get("content-type"), "application/json; charset=utf-8");
  assert.match((await res.json()).error, /404 page not found/);
});

Deno.test("/api/chat streams NDJSON and sends the exact translated body upstream", async () => {
  await using p = startProxy({ config: { defaults: { temperature: 0.3, max_tokens: 100 } } });
  p.upstream.enqueue(CHAT, { pieces: textStream(["Hel", "lo"]) });
  const res = await post(p, "/api/chat", {
    model: `${QWEN}:latest`,
    messages: [user("hi")],
    options: { top_k: 20, num_predict: -1, num_ctx: 8192, seed: 7 },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/x-ndjson");
  const lines = await ndjson(res);
  assert.deepEqual(lines.map((l) => (l.message as { content: string }).content), ["Hel", "lo", ""]);
  for (const line of lines.slice(0, -1)) {
    assert.equal(line.done, false);
    assert.equal(line.model, `${QWEN}:latest`);
    assert.equal("eval_count" in line, false);
  }
  const last = lines.at(-1)!;
  assert.equal(last.done, true);
  assert.equal(last.done_reason, "stop");
  assert.equal(last.prompt_eval_count, 10);
  assert.equal(last.eval_count, 2);
  for (const key of ["total_duration", "load_duration", "prompt_eval_duration", "eval_duration"]) {
    assert.ok(Number.isInteger(last[key]) && (last[key] as number) > 0, key);
  }
  assert.deepEqual(p.upstream.calls(CHAT)[0]!.body, {
    model: QWEN,
    messages: [{ role: "user", content: "hi" }],
    stream: true,
    stream_options: { include_usage: true },
    temperature: 0.3,
    max_tokens: 100,
    top_k: 20,
    seed: 7,
  });
  assert.equal(p.upstream.calls(CHAT)[0]!.headers.get("authorization"), `Bearer ${TEST_TOKEN}`);
  assert.match(res.headers.get("x-proxy-ignored-options") ?? "", /num_predict.*num_ctx/);
});

Deno.test("/api/chat with stream:false answers one JSON object with thinking and tool calls", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, {
    pieces: sse([
      chunk({ role: "assistant", reasoning_content: "Let me " }),
      chunk({ reasoning_content: "think." }),
      chunk({
        tool_calls: [{
          index: 0,
          id: "call_abc",
          function: { name: "get_weather", arguments: '{"ci' },
        }],
      }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: 'ty":"Tokyo"}' } }] }),
      chunk({}, "tool_calls"),
      usage(30, 12),
    ]),
  });
  const tools = [{
    type: "function",
    function: { name: "get_weather", parameters: { type: "object" } },
  }];
  const res = await post(p, "/api/chat", {
    model: QWEN,
    messages: [user("weather?")],
    stream: false,
    tools,
    think: true,
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/json; charset=utf-8");
  const body = await res.json();
  assert.deepEqual(body.message, {
    role: "assistant",
    content: "",
    thinking: "Let me think.",
    tool_calls: [{
      id: "call_abc",
      function: { index: 0, name: "get_weather", arguments: { city: "Tokyo" } },
    }],
  });
  assert.equal(body.done, true);
  assert.equal(body.done_reason, "stop");
  assert.equal(body.prompt_eval_count, 30);
  assert.equal(body.eval_count, 12);
  const sent = p.upstream.calls(CHAT)[0]!.body!;
  assert.deepEqual(sent.tools, tools);
  assert.deepEqual(sent.chat_template_kwargs, { thinking: true, enable_thinking: true });
});

Deno.test("/api/generate streams `response` chunks and maps system and prompt", async () => {
  await using p = startProxy({ config: { default_system_prompt: "Be brief." } });
  p.upstream.enqueue(CHAT, { pieces: textStream(["4"], "length") });
  const lines = await ndjson(await post(p, "/api/generate", { model: QWEN, prompt: "2+2?" }));
  assert.deepEqual(lines.map((l) => l.response), ["4", ""]);
  assert.equal(lines.at(-1)!.done_reason, "length");
  assert.deepEqual(p.upstream.calls(CHAT)[0]!.body!.messages, [
    { role: "system", content: "Be brief." },
    { role: "user", content: "2+2?" },
  ]);
});

Deno.test("/api/generate raw mode goes to the upstream's /completions with the prompt untouched", async () => {
  await using p = startProxy();
  p.upstream.enqueue("/v1/completions", {
    pieces: sse([
      { choices: [{ index: 0, text: "world", finish_reason: null }] },
      { choices: [{ index: 0, text: "", finish_reason: "stop" }] },
      { choices: [], usage: { prompt_tokens: 3, completion_tokens: 1 } },
    ]),
  });
  const res = await post(p, "/api/generate", {
    model: QWEN,
    prompt: "hello ",
    raw: true,
    stream: false,
  });
  const body = await res.json();
  assert.equal(body.response, "world");
  assert.equal(p.upstream.calls("/v1/completions")[0]!.body!.prompt, "hello ");
});

Deno.test("empty messages or prompt answer load/unload without calling the upstream", async () => {
  await using p = startProxy();
  const load = await post(p, "/api/chat", { model: QWEN });
  assert.equal(load.headers.get("content-type"), "application/json; charset=utf-8");
  const loadBody = await load.json();
  assert.deepEqual({ ...loadBody, created_at: "" }, {
    model: QWEN,
    created_at: "",
    message: { role: "assistant", content: "" },
    done: true,
    done_reason: "load",
  });
  const unload = await (await post(p, "/api/generate", { model: QWEN, prompt: "", keep_alive: 0 }))
    .json();
  assert.equal(unload.done_reason, "unload");
  assert.equal(unload.response, "");
  assert.equal(p.upstream.calls(CHAT).length, 0);
});

Deno.test("model errors follow Ollama's wording per endpoint", async () => {
  await using p = startProxy();
  const cases: [string, unknown, number, string][] = [
    ["/api/chat", {}, 400, "model is required"],
    ["/api/chat", "null", 400, "model is required"],
    ["/api/generate", "null", 404, "model '' not found"],
    ["/api/generate", {}, 404, "model '' not found"],
    ["/api/chat", { model: "nope/x", messages: [user("hi")] }, 404, "model 'nope/x' not found"],
    ["/api/chat", "", 400, "missing request body"],
    [
      "/api/chat",
      { model: "deepseek-ai/DeepSeek-V3-0324", messages: [user("x")], think: true },
      400,
      '"deepseek-ai/DeepSeek-V3-0324" does not support thinking',
    ],
    [
      "/api/chat",
      {
        model: "Qwen/Qwen2.5-VL-72B-Instruct",
        messages: [user("x")],
        tools: [{ type: "function" }],
      },
      400,
      "Qwen/Qwen2.5-VL-72B-Instruct does not support tools",
    ],
  ]; // deno-fmt-ignore
  for (const [path, body, status, error] of cases) {
    const res = await post(p, path, body);
    assert.equal(res.status, status, `${path} ${JSON.stringify(body)}`);
    assert.deepEqual(await res.json(), { error });
  }
  const badJson = await post(p, "/api/chat", "{not json");
  assert.equal(badJson.status, 400);
  assert.match((await badJson.json()).error, /invalid JSON/);
  assert.equal(p.upstream.calls(CHAT).length, 0);
});

Deno.test("upstream errors before the first byte keep their status and message, even when streaming", async () => {
  await using p = startProxy({ config: { retry_attempts: 1 } });
  const cases: [number, unknown, string][] = [
    [
      429,
      { detail: "Infrastructure is at maximum capacity, try again later" },
      "Infrastructure is at maximum capacity, try again later",
    ],
    [401, { detail: "Authentication required." }, "Authentication required."],
    [402, {
      detail: {
        message: "Quota exceeded and account balance is $0.0",
        quota_reset_timestamp: "2026-11-25T00:00:00Z",
      },
    }, "Quota exceeded and account balance is $0.0 (quota resets at 2026-11-25T00:00:00Z)"],
    [
      503,
      { detail: "No instances available (yet) for chute_id=abc" },
      "No instances available (yet) for chute_id=abc",
    ],
    [
      400,
      { error: { message: "max_tokens too large", type: "BadRequestError" } },
      "max_tokens too large",
    ],
    [404, { detail: "model not found: Qwen/Qwen3-32B-TEE" }, "model not found: Qwen/Qwen3-32B-TEE"],
  ]; // deno-fmt-ignore
  for (const [status, json, error] of cases) {
    p.upstream.enqueue(CHAT, { status, json });
    const res = await post(p, "/api/chat", { model: QWEN, messages: [user("hi")] });
    assert.equal(res.status, status);
    assert.equal(res.headers.get("content-type"), "application/json; charset=utf-8");
    assert.deepEqual(await res.json(), { error });
  }
});

Deno.test("an unreachable upstream is a 502 that says where the proxy tried", async () => {
  await using p = startProxy({ config: { base_url: "http://127.0.0.1:9/v1", models: [QWEN] } });
  const res = await post(p, "/api/chat", { model: QWEN, messages: [user("hi")] });
  assert.equal(res.status, 502);
  assert.match(
    (await res.json()).error,
    /cannot reach the upstream at http:\/\/127\.0\.0\.1:9\/v1/,
  );
});

Deno.test("mid-stream failures end the stream with one error line", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, {
    pieces: [
      ...sse([chunk({ content: "partial" })], { done: false }),
      '{"error": "Unhandled exception during response stream: boom"}\n',
    ],
  });
  const bare = await ndjson(await post(p, "/api/chat", { model: QWEN, messages: [user("hi")] }));
  assert.equal((bare[0]!.message as { content: string }).content, "partial");
  assert.deepEqual(bare.at(-1), { error: "Unhandled exception during response stream: boom" });
  assert.equal(bare.some((l) => l.done === true), false);

  p.upstream.enqueue(CHAT, { pieces: sse([chunk({ content: "cut" })], { done: false }) });
  const truncated = await ndjson(
    await post(p, "/api/chat", { model: QWEN, messages: [user("hi")] }),
  );
  assert.deepEqual(truncated.at(-1), {
    error: "upstream stream ended before the response was complete",
  });

  p.upstream.enqueue(CHAT, { pieces: sse([chunk({ content: "cut" })], { done: false }) });
  const whole = await post(p, "/api/chat", { model: QWEN, messages: [user("hi")], stream: false });
  assert.equal(whole.status, 502);
  assert.deepEqual(await whole.json(), {
    error: "upstream stream ended before the response was complete",
  });
});

Deno.test("a client that disconnects mid-stream cancels the upstream request", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, {
    pieces: sse([chunk({ content: "a" }), chunk({ content: "b" })], { done: false }),
    hang: true,
  });
  const controller = new AbortController();
  const res = await post(p, "/api/chat", { model: QWEN, messages: [user("hi")] }, {
    signal: controller.signal,
  });
  const reader = res.body!.getReader();
  await reader.read();
  assert.equal(p.upstream.openStreams, 1);
  controller.abort();
  await reader.closed.catch(() => {});
  for (let i = 0; i < 100 && p.upstream.openStreams > 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(p.upstream.openStreams, 0);
  assert.equal(p.upstream.cancelledStreams, 1);
});

Deno.test("/api/ps lists recently used models and drops them on keep_alive 0", async () => {
  await using p = startProxy();
  assert.deepEqual(await (await fetch(`${p.url}/api/ps`)).json(), { models: [] });
  await (await post(p, "/api/chat", { model: QWEN })).body?.cancel();
  const { models } = await (await fetch(`${p.url}/api/ps`)).json();
  assert.equal(models.length, 1);
  assert.equal(models[0].name, `${QWEN}:latest`);
  assert.equal(models[0].context_length, 40960);
  assert.ok(Date.parse(models[0].expires_at) > Date.now());
  await (await post(p, "/api/chat", { model: QWEN, keep_alive: 0 })).body?.cancel();
  assert.deepEqual(await (await fetch(`${p.url}/api/ps`)).json(), { models: [] });
});

Deno.test("debug logs never contain the token", async () => {
  await using p = startProxy({ config: { debug: true } });
  p.upstream.enqueue(CHAT, { status: 401, json: { detail: `bad token ${TEST_TOKEN}` } });
  const res = await post(p, "/api/chat", {
    model: QWEN,
    messages: [user(`my key is ${TEST_TOKEN}`)],
  });
  assert.equal(res.status, 401);
  assert.deepEqual(await res.json(), { error: "bad token [redacted]" });
  assert.ok(p.logs.some((l) => l.includes("DEBUG")));
  assert.ok(p.logs.some((l) => l.includes("[redacted]")));
  for (const line of p.logs) assert.equal(line.includes(TEST_TOKEN), false, line);
});

Deno.test("num_predict above what the model can give is clamped, and the header says so", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, { pieces: textStream(["ok"]) });
  const res = await post(p, "/api/chat", {
    model: QWEN,
    messages: [user("hi")],
    stream: false,
    options: { num_predict: 100000 },
  });
  assert.equal(res.status, 200);
  // The context (40960) less the prompt's estimate (5) and a 2 % margin (820): prompt + output
  // must fit the context, or vLLM and SGLang refuse the request.
  assert.match(res.headers.get("x-proxy-ignored-options") ?? "", /100000 clamped to 40135/);
  assert.equal(p.upstream.calls(CHAT)[0]!.body!.max_tokens, 40135);
});

Deno.test("/api/tags lists newest first, as Ollama sorts it; /v1/models keeps the same order", async () => {
  await using p = startProxy();
  const { models } = await (await fetch(`${p.url}/api/tags`)).json();
  assert.deepEqual(models.map((m: { name: string }) => m.name), [
    `${QWEN}:latest`,
    "deepseek-ai/DeepSeek-V3-0324:latest",
    "unsloth/gemma-3-4b-it:latest",
    "Qwen/Qwen2.5-VL-72B-Instruct:latest",
  ]);
  const v1 = await (await fetch(`${p.url}/v1/models`)).json();
  assert.deepEqual(
    v1.data.map((m: { id: string }) => m.id),
    models.map((m: { name: string }) => m.name),
  );
});

Deno.test("an alias to an embedding model is listed as one and refuses chat", async () => {
  await using p = startProxy({
    config: { aliases: { "qwen3-embed": "Qwen/Qwen3-Embedding-0.6B" } },
  });
  const { models } = await (await fetch(`${p.url}/api/tags`)).json();
  const embed = models.find((m: { name: string }) => m.name === "qwen3-embed:latest");
  assert.deepEqual(embed.capabilities, ["embedding"]);
  const res = await post(p, "/api/chat", { model: "qwen3-embed", messages: [user("hi")] });
  assert.equal(res.status, 400);
  assert.deepEqual(await res.json(), { error: '"qwen3-embed" does not support chat' });
});
