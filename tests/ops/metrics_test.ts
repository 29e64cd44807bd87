/**
 * Health, readiness and Prometheus metrics over HTTP: probes answer without a key, readiness
 * follows the upstream catalogue, and the counters move with real requests (requests by route,
 * status and model; tokens in/out; attempts and retries; histograms; open streams).
 */
import assert from "node:assert/strict";
import { chunk, sse, textStream } from "../_fake_upstream.ts";
import { ndjson, post, startProxy } from "../_helpers.ts";

const QWEN = "Qwen/Qwen3-32B-TEE";
const CHAT = "/v1/chat/completions";
const ask = { model: QWEN, messages: [{ role: "user", content: "hi" }] };

async function metrics(url: string, init: RequestInit = {}): Promise<string> {
  const res = await fetch(`${url}/metrics`, init);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return await res.text();
}

function value(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

Deno.test("/healthz is always ok; /readyz follows the upstream catalogue", async () => {
  await using p = startProxy({ config: { catalogue_ttl_seconds: 0 } });
  p.upstream.modelsReply = { status: 500, json: { detail: "down" } };
  const health = await fetch(`${p.url}/healthz`);
  assert.deepEqual(await health.json(), { status: "ok" });
  await p.deps.catalogue.refresh();
  const notReady = await fetch(`${p.url}/readyz`);
  assert.equal(notReady.status, 503);
  assert.match((await notReady.json()).reason, /has not been fetched yet/);
  p.upstream.modelsReply = undefined;
  await p.deps.catalogue.refresh();
  const ready = await fetch(`${p.url}/readyz`);
  assert.equal(ready.status, 200);
  assert.equal((await ready.json()).status, "ready");
});

Deno.test("/metrics counters move with requests, tokens, retries and streams", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, { status: 503, json: { detail: "No instances available (yet)" } });
  p.upstream.enqueue(CHAT, { pieces: textStream(["a", "b", "c"]) });
  await ndjson(await post(p, "/api/chat", ask));
  await (await post(p, "/api/chat", { model: "nope/x", messages: [] })).body?.cancel();
  await (await fetch(`${p.url}/some/unknown/${crypto.randomUUID()}`)).body?.cancel();
  let text = "";
  for (let i = 0; i < 50; i++) {
    text = await metrics(p.url);
    if (value(text, `ollama_proxy_tokens_total{model="${QWEN}",direction="out"}`) === 3) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(
    value(text, `ollama_proxy_requests_total{route="/api/chat",status="200",model="${QWEN}"}`),
    1,
  );
  assert.equal(
    value(text, `ollama_proxy_requests_total{route="/api/chat",status="404",model=""}`),
    1,
  );
  assert.equal(value(text, `ollama_proxy_requests_total{route="other",status="404",model=""}`), 1);
  assert.equal(value(text, `ollama_proxy_tokens_total{model="${QWEN}",direction="in"}`), 10);
  assert.equal(value(text, `ollama_proxy_tokens_total{model="${QWEN}",direction="out"}`), 3);
  assert.equal(value(text, "ollama_proxy_upstream_attempts_total"), 2);
  assert.equal(value(text, "ollama_proxy_upstream_retries_total"), 1);
  assert.equal(value(text, `ollama_proxy_time_to_first_token_seconds_count{route="/api/chat"}`), 1);
  assert.equal(
    value(text, `ollama_proxy_request_duration_seconds_bucket{route="/api/chat",le="+Inf"}`),
    2,
  );
  assert.equal(value(text, "ollama_proxy_open_streams"), 0);
});

Deno.test("/metrics counts an open stream while it runs", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, { pieces: sse([chunk({ content: "x" })], { done: false }), hang: true });
  const controller = new AbortController();
  const res = await post(p, "/api/chat", ask, { signal: controller.signal });
  const reader = res.body!.getReader();
  await reader.read();
  assert.equal(value(await metrics(p.url), "ollama_proxy_open_streams"), 1);
  controller.abort();
  await reader.closed.catch(() => {});
  let open: number | undefined = 1;
  for (let i = 0; i < 100 && open !== 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
    open = value(await metrics(p.url), "ollama_proxy_open_streams");
  }
  assert.equal(open, 0);
});

Deno.test("with access keys, probes stay open but /metrics needs a key", async () => {
  await using p = startProxy({ config: { api_keys: ["metrics-key-made-up"] } });
  assert.equal((await fetch(`${p.url}/healthz`)).status, 200);
  const readyz = await fetch(`${p.url}/readyz`);
  assert.notEqual(readyz.status, 401);
  await readyz.body?.cancel();
  const denied = await fetch(`${p.url}/metrics`);
  assert.equal(denied.status, 401);
  await denied.body?.cancel();
  await metrics(p.url, { headers: { authorization: "Bearer metrics-key-made-up" } });
});

Deno.test("client-chosen model names cannot grow the metrics, the status page or memory", async () => {
  await using p = startProxy({ config: { retry_attempts: 1 } });
  // Unknown names are 404s: counted, but under no model label.
  for (let i = 0; i < 30; i++) {
    const res = await post(p, "/api/chat", { ...ask, model: `nope-${i}-${"x".repeat(100_000)}` });
    assert.equal(res.status, 404);
    await res.body?.cancel();
  }
  // Chutes pools pass through as named: a long one is cut in every record.
  const pool = `${QWEN},${"y".repeat(50_000)}`;
  p.upstream.enqueue(CHAT, { pieces: textStream(["ok"]) });
  await (await post(p, "/api/chat", { ...ask, model: pool, stream: false })).json();
  const metrics = await (await fetch(`${p.url}/metrics`)).text();
  assert.ok(metrics.length < 20_000, `${metrics.length} characters of metrics`);
  assert.equal(metrics.includes("nope-"), false);
  assert.match(metrics, /model="Qwen\/Qwen3-32B-TEE,y{100,200}…"/);
  const ui = await (await fetch(`${p.url}/ui/data`)).text();
  assert.ok(ui.length < 100_000, `${ui.length} characters of /ui/data`);
  assert.equal(ui.includes("x".repeat(1000)), false);
});

Deno.test("past 500 model names, further ones are counted as 'other'", async () => {
  await using p = startProxy();
  const m = p.deps.metrics;
  const record = (model: string) =>
    m.record(
      {
        at: 0,
        method: "POST",
        route: "/api/chat",
        status: 200,
        model,
        attempts: 1,
        promptTokens: 1,
        completionTokens: 1,
        ttftMs: undefined,
        totalMs: 1,
        id: "x",
        failed: false,
      } as Parameters<typeof m.record>[0],
    );
  for (let i = 0; i < 600; i++) record(`pool-${i}`);
  const text = m.prometheus();
  assert.match(text, /model="pool-499"/);
  assert.equal(text.includes('model="pool-500"'), false);
  assert.match(text, /ollama_proxy_tokens_total\{model="other",direction="in"\} 100/);
});
