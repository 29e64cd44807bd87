/**
 * `POST /v1/responses` over real HTTP in front of the fake upstream: the captured Codex turns
 * replayed with the exact upstream body asserted, the stream's event order (B.8 cases 7–9), the
 * token limit and a failure after the first byte (cases 12–13), `previous_response_id` (kept,
 * expanded, refused when unknown or not stored), errors in OpenAI's shape, and the door in the
 * access log and metrics.
 */
import assert from "node:assert/strict";
import { chunk, sse, textStream, usage } from "../../_fake_upstream.ts";
import { post, startProxy } from "../../_helpers.ts";
import { events } from "./_sse.ts";

const QWEN = "Qwen/Qwen3-32B-TEE";
const CHAT = "/v1/chat/completions";
const FIXTURES = new URL("../../fixtures/responses/", import.meta.url);

async function capture(name: string): Promise<Record<string, unknown>> {
  const body = JSON.parse(await Deno.readTextFile(new URL(name, FIXTURES))).body;
  return { ...body, model: QWEN };
}

Deno.test("responses http: Codex's first turn (captured) → exact upstream body, streamed answer", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, { pieces: textStream(["hi", " there"]) });
  const res = await post(p, "/v1/responses", await capture("codex-exec.request.json"));
  const all = await events(res);
  assert.equal(
    res.headers.get("x-proxy-ignored-options"),
    "tools of type web_search (Chutes runs no hosted tools)",
  );
  const sent = p.upstream.calls(CHAT)[0]!.body!;
  const source = (await capture("codex-exec.request.json")).tools as Record<string, unknown>[];
  const fn = (t: Record<string, unknown>, prefix = "") => ({
    type: "function",
    function: {
      name: prefix + (t.name as string),
      description: t.description,
      parameters: t.parameters,
    },
  });
  const members = source[4]!.tools as Record<string, unknown>[];
  assert.deepEqual(sent, {
    model: QWEN,
    messages: [
      { role: "system", content: "<text, 16979 chars>\n\n<text, 2136 chars>\n<text, 341 chars>" },
      { role: "user", content: "<text, 445 chars>" },
      { role: "user", content: "say hi" },
    ],
    tools: [
      ...source.slice(0, 4).map((t) => fn(t)),
      ...members.map((t) => fn(t, "multi_agent_v1__")),
      ...source.slice(5, 8).map((t) => fn(t)),
    ],
    tool_choice: "auto",
    parallel_tool_calls: true,
    stream: true,
    stream_options: { include_usage: true },
  });
  const done = all.at(-1)!;
  assert.equal(done.type, "response.completed");
  const response = done.response as Record<string, unknown>;
  assert.equal(response.model, QWEN);
  assert.equal(response.store, false);
  assert.deepEqual(
    (response.output as { content: { text: string }[] }[])[0]!.content[0]!.text,
    "hi there",
  );
  assert.deepEqual(response.usage, {
    input_tokens: 10,
    input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
    output_tokens: 2,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: 12,
  });
});

Deno.test("responses http: Codex's tool turn (captured) replays reasoning, call and output upstream", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, { pieces: textStream(["done"]) });
  const res = await post(
    p,
    "/v1/responses",
    await capture("codex-tool-turn-with-reasoning.request.json"),
  );
  await events(res);
  const messages = p.upstream.calls(CHAT)[0]!.body!.messages as unknown[];
  assert.deepEqual(messages.slice(2), [
    { role: "user", content: "run echo" },
    {
      role: "assistant",
      content: "",
      reasoning_content: "Let me think about it.",
      tool_calls: [{
        id: "call_1hl6gsu6kp",
        type: "function",
        function: { name: "exec_command", arguments: '{"cmd":"echo hi-from-tool"}' },
      }],
    },
    {
      role: "tool",
      tool_call_id: "call_1hl6gsu6kp",
      content:
        "Chunk ID: a48e79\nWall time: 0.0000 seconds\nProcess exited with code 0\nOriginal token count: 4\nOutput:\nhi-from-tool\n",
    },
  ]);
});

Deno.test("responses http: a string input is one user message; B.8 stream order and sequence numbers", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, { pieces: textStream(["Hello", " World"]) });
  const all = await events(
    await post(p, "/v1/responses", { model: QWEN, input: "hi", stream: true }),
  );
  assert.deepEqual(p.upstream.calls(CHAT)[0]!.body!.messages, [{ role: "user", content: "hi" }]);
  assert.deepEqual(all.map((e) => e.type), [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.completed",
  ]);
  assert.deepEqual(all.map((e) => e.sequence_number), all.map((_, i) => i));
  assert.equal(all[6]!.text, "Hello World");
});

Deno.test("responses http: the token limit is response.incomplete; a mid-stream failure response.failed", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, { pieces: textStream(["Hel"], "length") });
  const cut = await events(
    await post(p, "/v1/responses", {
      model: QWEN,
      input: "hi",
      stream: true,
      max_output_tokens: 1,
    }),
  );
  assert.equal(p.upstream.calls(CHAT)[0]!.body!.max_tokens, 1);
  const last = cut.at(-1)!;
  assert.equal(last.type, "response.incomplete");
  assert.deepEqual((last.response as Record<string, unknown>).incomplete_details, {
    reason: "max_output_tokens",
  });
  p.upstream.enqueue(CHAT, {
    pieces: [
      ...sse([chunk({ content: "Hel" })], { done: false }),
      'data: {"error": "worker died"}\n\n',
    ],
  });
  const failed = await events(
    await post(p, "/v1/responses", { model: QWEN, input: "hi", stream: true }),
  );
  const end = failed.at(-1)!;
  assert.equal(end.type, "response.failed");
  const response = end.response as { status: string; error: { message: string } };
  assert.equal(response.status, "failed");
  assert.match(response.error.message, /worker died/);
  assert.ok(p.logs.some((l) => /POST \/v1\/responses 200 .*\(failed: /.test(l)), p.logs.join("\n"));
});

Deno.test("responses http: stream:false answers one response object; failure before it is a 502", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, {
    pieces: sse([
      chunk({ role: "assistant", reasoning_content: "hm" }),
      chunk({ content: "Hi" }),
      chunk({}, "stop"),
      usage(4, 2),
    ]),
  });
  const res = await post(p, "/v1/responses", {
    model: QWEN,
    input: "hi",
    instructions: "Be brief.",
  });
  assert.equal(res.status, 200);
  const r = await res.json();
  assert.equal(r.object, "response");
  assert.match(r.id, /^resp_[0-9a-f]{32}$/);
  assert.equal(r.status, "completed");
  assert.equal(r.instructions, "Be brief.");
  assert.deepEqual(r.output.map((o: { type: string }) => o.type), ["reasoning", "message"]);
  assert.equal(r.output[1].content[0].text, "Hi");
  assert.equal(r.usage.total_tokens, 6);
  assert.ok(
    p.logs.some((l) => /POST \/v1\/responses 200 model=Qwen\/Qwen3-32B-TEE .*tokens=4\/2/.test(l)),
  );
  const metrics = await (await fetch(`${p.url}/metrics`)).text();
  assert.match(metrics, /ollama_proxy_requests_total\{route="\/v1\/responses",status="200"/);
  const ui = await (await fetch(`${p.url}/ui/data`)).json();
  assert.equal(ui.recent[0].route, "/v1/responses");
  assert.equal(ui.recent[0].completionTokens, 2);
  p.upstream.enqueue(CHAT, { pieces: sse([chunk({ content: "x" })], { done: false }) });
  const broken = await post(p, "/v1/responses", { model: QWEN, input: "hi" });
  assert.equal(broken.status, 502);
  assert.equal((await broken.json()).error.type, "api_error");
});

Deno.test("responses http: previous_response_id expands the kept conversation; unknown ids are a 400", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, { pieces: textStream(["Paris."]) });
  const first = await (await post(p, "/v1/responses", { model: QWEN, input: "Capital of France?" }))
    .json();
  assert.equal(first.store, true);
  p.upstream.enqueue(CHAT, { pieces: textStream(["Lyon."]) });
  const second = await post(p, "/v1/responses", {
    model: QWEN,
    previous_response_id: first.id,
    input: "And the second city?",
    stream: true,
  });
  const all = await events(second);
  assert.equal((all[0]!.response as Record<string, unknown>).previous_response_id, first.id);
  assert.deepEqual(p.upstream.calls(CHAT)[1]!.body!.messages, [
    { role: "user", content: "Capital of France?" },
    { role: "assistant", content: "Paris." },
    { role: "user", content: "And the second city?" },
  ]);
  // The streamed answer was kept too, under its own id, and only for the same credentials.
  const secondId = (all.at(-1)!.response as { id: string }).id;
  p.upstream.enqueue(CHAT, { pieces: textStream(["ok"]) });
  await (await post(p, "/v1/responses", { model: QWEN, previous_response_id: secondId })).json();
  assert.equal((p.upstream.calls(CHAT)[2]!.body!.messages as unknown[]).length, 4);
  const other = await post(p, "/v1/responses", { model: QWEN, previous_response_id: secondId }, {
    headers: { "content-type": "application/json", authorization: "Bearer someone-else" },
  });
  assert.equal(other.status, 400);
  const unknown = await post(p, "/v1/responses", {
    model: QWEN,
    input: "x",
    previous_response_id: "resp_nope",
  });
  assert.equal(unknown.status, 400);
  const body = await unknown.json();
  assert.equal(body.error.param, "previous_response_id");
  assert.equal(body.error.code, "previous_response_not_found");
  assert.match(body.error.message, /"resp_nope"/);
  p.upstream.enqueue(CHAT, { pieces: textStream(["not kept"]) });
  const unstored = await (await post(p, "/v1/responses", { model: QWEN, input: "x", store: false }))
    .json();
  assert.equal(unstored.store, false);
  const again = await post(p, "/v1/responses", { model: QWEN, previous_response_id: unstored.id });
  assert.equal(again.status, 400);
  assert.equal(p.upstream.calls(CHAT).length, 4, "refused requests never reach the upstream");
});

Deno.test("responses http: notes name odd fields safely; max_output_tokens is clamped and noted", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, { pieces: textStream(["ok"]) });
  const odd: Record<string, unknown> = { model: QWEN, input: "x", max_output_tokens: 1_000_000 };
  odd["caf\u00e9\r\nx-evil: 1"] = true;
  for (let i = 0; i < 12; i++) odd[`extra_${i}`] = i;
  odd.tools = [{ type: "web_search\n" }];
  const res = await post(p, "/v1/responses", odd);
  assert.equal(res.status, 200);
  await res.json();
  assert.equal(p.upstream.calls(CHAT)[0]!.body!.max_tokens, 40135);
  assert.equal(
    res.headers.get("x-proxy-ignored-options"),
    [
      "tools of type web_search? (Chutes runs no hosted tools)",
      "caf???x-evil: 1 (not a Responses field this proxy knows)",
      ...Array.from({ length: 9 }, (_, i) => `extra_${i} (not a Responses field this proxy knows)`),
      "3 more unknown fields",
      "max_output_tokens above the model's limit (1000000 clamped to 40135)",
    ].join(", "),
  );
});

Deno.test("responses http: client mistakes are 400s in OpenAI's shape; unknown models 404", async () => {
  await using p = startProxy();
  const cases: [unknown, RegExp][] = [
    ["{not json", /invalid JSON/],
    [[1], /request body must be a JSON object/],
    [{ input: "x" }, /^model: /],
    [
      { model: QWEN, input: [{ type: "mystery" }] },
      /input\[0\]: unknown input item type: "mystery"/,
    ],
    [{ model: QWEN, input: "x", reasoning: { effort: "extreme" } }, /invalid reasoning value/],
  ];
  for (const [body, message] of cases) {
    const res = await post(
      p,
      "/v1/responses",
      typeof body === "string" ? body : JSON.stringify(body),
    );
    assert.equal(res.status, 400);
    const { error } = await res.json();
    assert.equal(error.type, "invalid_request_error");
    assert.match(error.message, message);
  }
  const missing = await post(p, "/v1/responses", { model: "nope/none", input: "x" });
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error.type, "not_found_error");
  const vision = await post(p, "/v1/responses", {
    model: QWEN,
    input: [{
      role: "user",
      content: [{ type: "input_image", image_url: "data:image/png;base64,iVBO" }],
    }],
  });
  assert.equal(vision.status, 400);
  assert.match((await vision.json()).error.message, /does not support images/);
  assert.equal(p.upstream.calls(CHAT).length, 0);
  const wrongMethod = await fetch(`${p.url}/v1/responses`);
  assert.equal(wrongMethod.status, 405);
  assert.equal((await wrongMethod.json()).error.type, "api_error");
});
