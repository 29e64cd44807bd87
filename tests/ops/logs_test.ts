/**
 * Logs a sysadmin can use, over real HTTP: `log_format: "json"` writes one parseable object per
 * line with the access log's facts as fields; failed requests say why; 401/402/429/5xx answered
 * to clients are WARN; debug lines carry the request id; probes, scrapes and the status page's
 * data requests are logged only in debug mode. The recent-requests table on /ui/data gives the
 * failure reason of every failed row, a stream that failed after its 200 included.
 */
import assert from "node:assert/strict";
import { chunk, sse, textStream } from "../_fake_upstream.ts";
import { ndjson, post, startProxy, TEST_TOKEN, type TestProxy } from "../_helpers.ts";

const QWEN = "Qwen/Qwen3-32B-TEE";
const CHAT = "/v1/chat/completions";
const ask = { model: QWEN, messages: [{ role: "user", content: "hi" }] };

async function settle(p: TestProxy, lines: number): Promise<void> {
  for (let i = 0; i < 100 && p.deps.metrics.recent().length < lines; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("log_format json: one object per line; the access line carries every field", async () => {
  await using p = startProxy({ config: { log_format: "json", retry_attempts: 1 } });
  p.upstream.enqueue(CHAT, { pieces: textStream(["a", "b"]) });
  const res = await post(p, "/api/chat", ask);
  const id = res.headers.get("x-request-id");
  await ndjson(res);
  p.upstream.enqueue(CHAT, { status: 503, json: { detail: "No instances available (yet)" } });
  await (await post(p, CHAT, ask)).body?.cancel();
  await settle(p, 2);
  const lines = p.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
  for (const line of lines) {
    assert.match(String(line.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(["debug", "info", "warn", "error"].includes(String(line.level)));
    assert.equal(typeof line.msg, "string");
  }
  const ok = lines.find((l) => l.request_id === id && l.route === "/api/chat")!;
  assert.deepEqual(
    { ...ok, time: undefined, ttft_ms: typeof ok.ttft_ms, duration_ms: typeof ok.duration_ms },
    {
      time: undefined,
      level: "info",
      msg: ok.msg,
      request_id: id,
      door: "ollama",
      method: "POST",
      route: "/api/chat",
      path: "/api/chat",
      model: QWEN,
      status: 200,
      upstream_status: 200,
      attempts: 1,
      tokens_in: 10,
      tokens_out: 2,
      ttft_ms: "number",
      duration_ms: "number",
      client: "127.0.0.1",
      outcome: "ok",
    },
  );
  const failed = lines.find((l) => l.route === CHAT)!;
  assert.equal(failed.level, "warn");
  assert.equal(failed.door, "openai");
  assert.equal(failed.status, 503);
  assert.equal(failed.upstream_status, 503);
  assert.equal(failed.outcome, "failed");
  assert.equal(failed.error, "No instances available (yet)");
});

Deno.test("json lines redact secrets, even ones JSON would escape", async () => {
  const key = 'a-proxy-key-with-"quotes"-and-\\back';
  await using p = startProxy({ config: { log_format: "json", api_keys: [key], debug: true } });
  p.deps.log.info(`saw ${key} and ${TEST_TOKEN}`, { note: `field ${key}` });
  const text = p.logs.join("\n");
  assert.ok(!text.includes(TEST_TOKEN));
  assert.ok(!text.includes(JSON.stringify(key).slice(1, -1)));
  const line = JSON.parse(p.logs.at(-1)!);
  assert.equal(line.msg, "saw [redacted] and [redacted]");
  assert.equal(line.note, "field [redacted]");
});

Deno.test("401, 402, 429 and 5xx answered to clients are WARN with the reason; a 404 is INFO", async () => {
  await using p = startProxy({ config: { retry_attempts: 1 } });
  const cases: [number, string][] = [
    [401, "Authentication required."],
    [402, "Quota exceeded"],
    [429, "Infrastructure is at maximum capacity"],
    [500, "Internal Server Error"],
  ];
  for (const [status, detail] of cases) {
    p.upstream.enqueue(CHAT, { status, json: { detail } });
    await (await post(p, "/api/chat", { ...ask, stream: false })).body?.cancel();
  }
  await (await post(p, "/api/chat", { ...ask, model: "no/such-model" })).body?.cancel();
  await settle(p, 5);
  const access = p.logs.filter((l) => l.includes(" POST /api/chat "));
  assert.equal(access.length, 5);
  for (const [i, [status, detail]] of cases.entries()) {
    assert.match(access[i]!, new RegExp(` WARN POST /api/chat ${status} .*\\(failed: ${detail}`));
  }
  assert.match(
    access[4]!,
    / INFO POST \/api\/chat 404 .*\(failed: model 'no\/such-model' not found\)$/,
  );
});

Deno.test("probes, /metrics and /ui/data are logged only in debug mode; debug lines carry the request id", async () => {
  const quietPaths = ["/healthz", "/readyz", "/metrics", "/ui/data", "/favicon.ico"];
  {
    await using p = startProxy();
    for (const path of quietPaths) await (await fetch(`${p.url}${path}`)).body?.cancel();
    await (await fetch(`${p.url}/api/version`)).body?.cancel();
    const requestLines = p.logs.filter((l) => / (GET|POST) \//.test(l));
    assert.deepEqual(
      requestLines.map((l) => l.replace(/^.* (INFO|WARN) /, "")).map((l) =>
        l.split(" ").slice(0, 3).join(" ")
      ),
      ["GET /api/version 200"],
    );
  }
  await using p = startProxy({ config: { debug: true } });
  for (const path of quietPaths) await (await fetch(`${p.url}${path}`)).body?.cancel();
  for (const path of quietPaths) {
    assert.ok(p.logs.some((l) => l.includes(` DEBUG GET ${path} `)), path);
  }
  p.upstream.enqueue(CHAT, { pieces: textStream(["a"]) });
  const res = await post(p, "/api/chat", ask);
  const id = res.headers.get("x-request-id")!;
  await ndjson(res);
  const debug = p.logs.filter((l) => l.includes(" DEBUG upstream POST /chat/completions"));
  assert.equal(debug.length, 1);
  assert.ok(debug[0]!.endsWith(` id=${id}`), debug[0]);
});

Deno.test("/ui/data: every failed row says why (upstream error, time-out, client abort, failed stream)", async () => {
  await using p = startProxy({ config: { retry_attempts: 1, first_byte_timeout_seconds: 0.2 } });
  p.upstream.enqueue(CHAT, { status: 503, json: { detail: "No instances available (yet)" } });
  await (await post(p, "/api/chat", ask)).body?.cancel();
  p.upstream.enqueue(CHAT, { pieces: textStream(["late"]), before: 1000 });
  await (await post(p, "/api/chat", ask)).body?.cancel();
  p.upstream.enqueue(CHAT, {
    pieces: [...sse([chunk({ content: "par" })], { done: false }), '{"error": "CUDA error"}\n'],
  });
  await ndjson(await post(p, "/api/chat", ask));
  p.upstream.enqueue(CHAT, { pieces: textStream(["a"]).slice(0, 2), hang: true });
  const controller = new AbortController();
  const left = await post(p, "/api/chat", ask, { signal: controller.signal });
  await left.body!.getReader().read();
  controller.abort();
  await settle(p, 4);
  const data = await (await fetch(`${p.url}/ui/data`)).json();
  const rows = data.recent.map((r: Record<string, unknown>) => [r.status, r.outcome, r.error]);
  assert.equal(rows.length, 4);
  assert.deepEqual(rows.slice(0, 2).toSorted(), [
    [200, "aborted", "the client left before the end"],
    [200, "failed", "CUDA error"],
  ]);
  assert.deepEqual(rows[2], [504, "failed", rows[2][2]]);
  assert.match(rows[2][2], /no answer .*within 0\.2 s|0\.2 s/);
  assert.deepEqual(rows[3], [503, "failed", "No instances available (yet)"]);
  for (const r of data.recent) {
    assert.equal(r.door, "ollama");
    assert.equal(r.model, QWEN);
    assert.match(r.id, /^[0-9a-f]{8}$/);
    assert.equal(typeof r.totalMs, "number");
  }
  // The errors of the last hour, with reasons, for the one-glance view (client aborts are not errors).
  assert.deepEqual(data.errors_last_hour.map((r: { status: number }) => r.status).toSorted(), [
    200,
    503,
    504,
  ]);
});

Deno.test("/favicon.ico is an icon, without a key even when keys are on", async () => {
  await using p = startProxy({ config: { api_keys: ["favicon-test-key-0123456789"] } });
  const res = await fetch(`${p.url}/favicon.ico`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "image/x-icon");
  const bytes = new Uint8Array(await res.arrayBuffer());
  assert.deepEqual([...bytes.subarray(0, 6)], [0, 0, 1, 0, 1, 0]);
  assert.equal(bytes.length, 6 + 16 + 40 + 16 * 16 * 4 + 16 * 4);
});
