/**
 * Tests for demo mode (`lib/demo/demo.ts`, `lib/demo/answers.ts`, `--demo`): the demo upstream's wire
 * format (OpenAI SSE one event per token, tool-call deltas, reasoning first, JSON when not
 * streaming), the demo config needing no token, the whole proxy in demo mode driven by the real
 * `npm:ollama` client, and `main.ts --demo` as a process with no token in its environment.
 */
import assert from "node:assert/strict";
import { Ollama } from "ollama";
import { createApp } from "../../lib/app.ts";
import { DEMO_BASE_URL, DEMO_TOKEN, validateConfig } from "../../lib/config/config.ts";
import { loadConfig } from "../../lib/config/sources.ts";
import { createDemoFetch, DEMO_MODELS, demoFetch } from "../../lib/demo/demo.ts";
import { exampleValue } from "../../lib/demo/answers.ts";
import { spawnMain } from "../_process.ts";
import { ConfigError } from "../../lib/config/values.ts";

/** The proxy in demo mode on 127.0.0.1 port 0, built exactly as `main.ts --demo` builds it. */
function startDemo(fetchImpl: typeof fetch = createDemoFetch({ tokenDelayMs: 1 })) {
  const config = validateConfig({ port: 0 }, { demo: true });
  const logs: string[] = [];
  const { handler } = createApp(config, {
    fetch: fetchImpl,
    logSink: (_level, line) => logs.push(line),
  });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    logs,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

const WEATHER_TOOL = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Current weather in a city",
    parameters: {
      type: "object",
      properties: {
        city: { type: "string" },
        unit: { type: "string", enum: ["celsius", "fahrenheit"] },
        days: { type: "integer" },
      },
      required: ["city", "unit"],
    },
  },
};

/** POSTs to the demo upstream directly and parses its SSE events (without `[DONE]`). */
async function demoEvents(path: string, body: unknown): Promise<Record<string, unknown>[]> {
  const fetchDemo = createDemoFetch({ tokenDelayMs: 0 });
  const res = await fetchDemo(`${DEMO_BASE_URL}${path}`, {
    method: "POST",
    body: JSON.stringify({ stream: true, ...body as object }),
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
  const text = await res.text();
  assert.ok(text.endsWith("data: [DONE]\n\n"), "the stream does not end with [DONE]");
  const events = text.split("\n\n").filter((e) => e !== "");
  for (const event of events) assert.match(event, /^data: /);
  return events.slice(0, -1).map((e) => JSON.parse(e.slice("data: ".length)));
}

type Chunk = { choices: { delta: Record<string, unknown>; finish_reason: string | null }[] };

Deno.test("demo upstream: /models lists the labelled demo models with realistic fields", async () => {
  const res = await demoFetch(`${DEMO_BASE_URL}/models`);
  const body = await res.json() as { data: Record<string, unknown>[] };
  assert.deepEqual(body.data.map((m) => m.id), [
    "demo/chat",
    "demo/tools",
    "demo/thinker",
    "demo/vision",
  ]);
  for (const m of body.data) {
    assert.equal(m.object, "model");
    assert.ok((m.context_length as number) >= 8192);
    assert.ok(Array.isArray(m.input_modalities));
  }
  assert.deepEqual(body.data[1]?.supported_features, ["json_mode", "structured_outputs", "tools"]);
  assert.ok((body.data[2]?.supported_features as string[]).includes("reasoning"));
});

Deno.test("demo upstream: chat streams role, one event per token, finish, usage, [DONE]", async () => {
  const events = await demoEvents("/chat/completions", {
    model: "demo/chat",
    messages: [{ role: "system", content: "Be kind." }, { role: "user", content: "Hi otters" }],
  }) as unknown as (Chunk & { usage?: Record<string, number> })[];
  assert.deepEqual(events[0]?.choices[0]?.delta, { role: "assistant", content: "" });
  const content = events.slice(1, -2).map((e) => e.choices[0]?.delta.content as string);
  assert.ok(content.length > 10, "one event per token");
  assert.ok(content.every((t) => t.trim().split(/\s+/).length === 1), JSON.stringify(content));
  const text = content.join("");
  assert.match(text, /^This is a demo answer from ollama-chutes-proxy/);
  assert.match(text, /You said: “Hi otters”/);
  assert.equal(events.at(-2)?.choices[0]?.finish_reason, "stop");
  const last = events.at(-1)!;
  assert.deepEqual(last.choices, []);
  assert.equal(last.usage?.completion_tokens, content.length);
});

Deno.test("demo upstream: the tools model streams a tool call with arguments over several chunks", async () => {
  const events = await demoEvents("/chat/completions", {
    model: "demo/tools",
    messages: [{ role: "user", content: "What is the weather in Paris?" }],
    tools: [WEATHER_TOOL],
  }) as unknown as Chunk[];
  const calls = events.flatMap((e) =>
    (e.choices[0]?.delta.tool_calls ?? []) as {
      id?: string;
      function: { name?: string; arguments: string };
    }[]
  );
  assert.equal(calls[0]?.function.name, "get_weather");
  assert.match(calls[0]?.id ?? "", /^call_/);
  const pieces = calls.slice(1).map((c) => c.function.arguments);
  assert.ok(pieces.length > 2, "arguments arrive in pieces");
  assert.deepEqual(JSON.parse(pieces.join("")), { city: "Paris", unit: "celsius" });
  assert.equal(events.at(-2)?.choices[0]?.finish_reason, "tool_calls");
});

Deno.test("demo upstream: the thinker streams reasoning_content first, unless thinking is off", async () => {
  const body = { model: "demo/thinker", messages: [{ role: "user", content: "Why?" }] };
  const events = (await demoEvents("/chat/completions", body) as unknown as Chunk[]).slice(1, -2);
  const kinds = events.map((e) => Object.keys(e.choices[0]?.delta ?? {})[0]);
  const firstContent = kinds.indexOf("content");
  assert.ok(firstContent > 5);
  assert.ok(kinds.slice(0, firstContent).every((k) => k === "reasoning_content"));
  assert.ok(kinds.slice(firstContent).every((k) => k === "content"));
  const off = await demoEvents("/chat/completions", {
    ...body,
    chat_template_kwargs: { thinking: false, enable_thinking: false },
  }) as unknown as Chunk[];
  assert.ok(off.every((e) => !("reasoning_content" in (e.choices[0]?.delta ?? {}))));
});

Deno.test("demo upstream: JSON answers when not streaming, max_tokens, errors", async () => {
  const post = (path: string, body: unknown) =>
    demoFetch(`${DEMO_BASE_URL}${path}`, { method: "POST", body: JSON.stringify(body) });
  const chat = await (await post("/chat/completions", {
    model: "demo/tools",
    messages: [{ role: "user", content: "Weather in Oslo" }],
    tools: [WEATHER_TOOL],
  })).json();
  assert.equal(chat.object, "chat.completion");
  assert.equal(chat.choices[0].finish_reason, "tool_calls");
  assert.deepEqual(JSON.parse(chat.choices[0].message.tool_calls[0].function.arguments), {
    city: "Oslo",
    unit: "celsius",
  });
  const text = await (await post("/completions", { model: "demo/chat", prompt: "Once upon" }))
    .json();
  assert.match(text.choices[0].text, /demo answer.*Once upon/);
  const cut = await (await post("/chat/completions", {
    model: "demo/chat",
    messages: [{ role: "user", content: "x" }],
    max_tokens: 3,
  })).json();
  assert.equal(cut.choices[0].finish_reason, "length");
  assert.equal(cut.usage.completion_tokens, 3);
  const missing = await post("/chat/completions", { model: "gpt-4", messages: [] });
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), { detail: "model not found: gpt-4" });
  await assert.rejects(demoFetch("https://llm.chutes.ai/v1/models"), TypeError);
});

Deno.test("demo answers: example values follow the schema", () => {
  assert.deepEqual(
    exampleValue({
      type: "object",
      properties: {
        q: { type: "string" },
        n: { type: "number" },
        tags: { type: "array", items: { type: "string" } },
        ok: { type: ["boolean", "null"] },
      },
    }, "x"),
    { q: "x", n: 2.5, tags: ["x"], ok: true },
  );
});

Deno.test("demo config: no token needed, the demo upstream replaces every upstream setting", async () => {
  const config = validateConfig({ port: 0 }, { demo: true });
  assert.equal(config.api_token, DEMO_TOKEN);
  assert.equal(config.base_url, DEMO_BASE_URL);
  assert.equal(config.embed_base_url, DEMO_BASE_URL);
  assert.throws(() => validateConfig({ port: 0 }), ConfigError);
  const loaded = await loadConfig({
    args: ["--demo", "--port", "0"],
    env: { CHUTES_BASE_URL: "https://llm.chutes.ai/v1" },
    readTextFile: (path) =>
      Promise.resolve(
        path === "config.json"
          ? JSON.stringify({
            include: ["Qwen/*"],
            upstreams: [{ name: "x", base_url: "http://x" }],
          })
          : undefined,
      ),
  });
  assert.ok(!loaded.help && loaded.demo);
  assert.equal(loaded.config.base_url, DEMO_BASE_URL);
  assert.deepEqual(loaded.config.include, []);
  assert.deepEqual(loaded.config.upstreams, []);
  await assert.rejects(
    loadConfig({
      args: ["--demo", "--check"],
      env: {},
      readTextFile: () => Promise.resolve(undefined),
    }),
    /cannot be combined/,
  );
});

Deno.test("demo mode with the ollama client: list, show, chat, generate, embed", async () => {
  await using demo = startDemo();
  const client = new Ollama({ host: demo.url });
  const { models } = await client.list();
  assert.deepEqual(models.map((m) => m.name), DEMO_MODELS.map((m) => `${m.id}:latest`));
  assert.ok(models.every((m) => m.name.startsWith("demo/")));
  assert.deepEqual((await client.show({ model: "demo/tools" })).capabilities, [
    "completion",
    "tools",
  ]);
  assert.deepEqual((await client.show({ model: "demo/thinker" })).capabilities, [
    "completion",
    "thinking",
  ]);
  assert.deepEqual((await client.show({ model: "demo/vision" })).capabilities, [
    "completion",
    "vision",
  ]);

  const parts: string[] = [];
  let final;
  const stream = await client.chat({
    model: "demo/chat",
    messages: [{ role: "user", content: "Tell me about otters" }],
    stream: true,
  });
  for await (const part of stream) {
    if (part.message.content !== "") parts.push(part.message.content);
    if (part.done) final = part;
  }
  assert.ok(parts.length > 10, `expected one part per token, got ${parts.length}`);
  assert.match(parts.join(""), /demo answer from ollama-chutes-proxy.*Tell me about otters/);
  assert.equal(final?.done_reason, "stop");
  assert.equal(final?.eval_count, parts.length);

  const whole = await client.chat({
    model: "demo/chat",
    messages: [{ role: "user", content: "Hello" }],
  });
  assert.match(whole.message.content, /^This is a demo answer .*“Hello”/);

  const generated = await client.generate({ model: "demo/chat", prompt: "Write a haiku" });
  assert.match(generated.response, /demo answer.*Write a haiku/);

  const embedded = await client.embed({ model: "demo/embed", input: ["a cat", "a dog", "a cat"] });
  assert.equal(embedded.embeddings.length, 3);
  const [cat, dog, cat2] = embedded.embeddings as [number[], number[], number[]];
  assert.equal(cat.length, 384);
  assert.ok(Math.abs(Math.hypot(...cat) - 1) < 1e-6, "normalised");
  assert.deepEqual(cat, cat2);
  assert.notDeepEqual(cat, dog);
});

Deno.test("demo mode with the ollama client: tool call with object arguments, then the result", async () => {
  await using demo = startDemo();
  const client = new Ollama({ host: demo.url });
  const messages = [{ role: "user", content: "What's the weather in Lisbon?" }];
  const answer = await client.chat({ model: "demo/tools", messages, tools: [WEATHER_TOOL] });
  const call = answer.message.tool_calls?.[0];
  assert.equal(call?.function.name, "get_weather");
  assert.deepEqual(call?.function.arguments, { city: "Lisbon", unit: "celsius" });

  const streamed = [];
  const stream = await client.chat({
    model: "demo/tools",
    messages,
    tools: [WEATHER_TOOL],
    stream: true,
  });
  for await (const part of stream) streamed.push(...(part.message.tool_calls ?? []));
  assert.deepEqual(streamed.map((c) => c.function.arguments), [{
    city: "Lisbon",
    unit: "celsius",
  }]);

  const followUp = await client.chat({
    model: "demo/tools",
    tools: [WEATHER_TOOL],
    messages: [
      ...messages,
      answer.message,
      { role: "tool", tool_name: "get_weather", content: "18 °C and sunny" },
    ],
  });
  assert.match(followUp.message.content, /the tool answered “18 °C and sunny”/);
  assert.equal(followUp.message.tool_calls, undefined);
});

Deno.test("demo mode with the ollama client: the thinker returns message.thinking", async () => {
  await using demo = startDemo();
  const client = new Ollama({ host: demo.url });
  const answer = await client.chat({
    model: "demo/thinker",
    messages: [{ role: "user", content: "Is 7 prime?" }],
    think: true,
  });
  assert.match(answer.message.thinking ?? "", /demo thinker.*canned/);
  assert.match(answer.message.content, /demo answer.*Is 7 prime\?/);
  const refused = await client.chat({
    model: "demo/chat",
    messages: [{ role: "user", content: "x" }],
    think: true,
  }).then(() => undefined, (err: Error) => err);
  assert.match(String(refused?.message), /does not support thinking/);
});

Deno.test("demo mode streams visibly: tokens arrive one by one, paced", async () => {
  await using demo = startDemo(demoFetch);
  const client = new Ollama({ host: demo.url });
  const arrivals: number[] = [];
  const stream = await client.generate({ model: "demo/chat", prompt: "hi", stream: true });
  for await (const part of stream) if (part.response !== "") arrivals.push(performance.now());
  assert.ok(arrivals.length > 10);
  const spread = arrivals.at(-1)! - arrivals[0]!;
  assert.ok(spread >= (arrivals.length - 1) * 10, `tokens came ${spread} ms apart in all`);
});

Deno.test("main.ts --demo with no token: banner, then /api/tags lists the demo models", async () => {
  const child = await spawnMain(["--demo", "--port", "0"], {});
  try {
    await child.waitFor(/DEMO MODE/);
    const [, base] = await child.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
    const res = await fetch(`${base}/api/tags`);
    assert.equal(res.status, 200);
    const { models } = await res.json() as { models: { name: string }[] };
    assert.ok(models.length >= 3);
    assert.ok(models.every((m) => m.name.includes("demo")), JSON.stringify(models));
  } finally {
    await child.stop();
  }
  assert.match(child.output(), /DEMO MODE: every answer is canned/);
  assert.doesNotMatch(child.output(), /error:/);
});

Deno.test("demo mode: pull of a demo model succeeds, pull of a name the demo lacks is an error", async () => {
  await using demo = startDemo();
  const client = new Ollama({ host: demo.url });
  const pulled: string[] = [];
  for await (const part of await client.pull({ model: "demo/chat", stream: true })) {
    pulled.push(part.status);
  }
  assert.equal(pulled.at(-1), "success");
  const res = await fetch(`${demo.url}/api/pull`, {
    method: "POST",
    body: JSON.stringify({ model: "llama3.2", stream: false }),
  });
  assert.equal(res.status, 404);
  assert.deepEqual(await res.json(), {
    error: 'pull model manifest: model "llama3.2" is not available on Chutes.ai',
  });
  // The demo has no Chutes account: the status page says so instead of calling anyone.
  const data = await (await fetch(`${demo.url}/ui/data`)).json();
  assert.match(data.account.disabled, /^demo mode/);
});
