/**
 * Warmth on Chutes over real HTTP: the models table's hot / warming / cold and busy ratio from
 * the public utilisation list (no token sent), `ollama pull` following Chutes' warm-up as
 * honest NDJSON progress (`warming …` lines, then `success` once hot; an error line when the
 * warm-up is refused; a time-out that says the chute is still cold), and a load request
 * (empty `messages`) starting a warm-up without waiting for it.
 */
import assert from "node:assert/strict";
import { Ollama } from "ollama";
import { warmupStream } from "../_fake_upstream.ts";
import { ndjson, post, startProxy } from "../_helpers.ts";

const QWEN = "Qwen/Qwen3-32B-TEE";
const WARMUP = `/chutes/warmup/${QWEN}`;

Deno.test("/ui/data models carry warmth from the utilisation list, fetched without the token", async () => {
  await using p = startProxy();
  const data = await (await fetch(`${p.url}/ui/data`)).json();
  const warmth = Object.fromEntries(
    data.models.map((m: { name: string; warmth: unknown }) => [m.name, m.warmth]),
  );
  assert.deepEqual(warmth, {
    "Qwen/Qwen3-32B-TEE:latest": { state: "hot", busy: 0.42, instances: 3, source: "utilization" },
    "deepseek-ai/DeepSeek-V3-0324:latest": {
      state: "warming",
      busy: 0,
      instances: 0,
      source: "utilization",
    },
    "Qwen/Qwen2.5-VL-72B-Instruct:latest": null,
    "unsloth/gemma-3-4b-it:latest": {
      state: "cold",
      busy: null,
      instances: 0,
      source: "utilization",
    },
  });
  const call = p.upstream.calls("/chutes/utilization")[0]!;
  assert.equal(call.headers.get("authorization"), null);
});

Deno.test("pull: `warming` lines while Chutes warms the chute, then `success` once hot", async () => {
  await using p = startProxy();
  p.upstream.enqueue(WARMUP, {
    pieces: warmupStream([
      ["cold", "waiting for instances ..."],
      ["cold", "waiting for instances ..."],
      ["hot", "chute is hot, 2 instances available"],
    ]),
    delayMs: 20,
  });
  const res = await post(p, "/api/pull", { model: QWEN });
  assert.deepEqual(await ndjson(res), [
    { status: "pulling manifest" },
    { status: `warming up ${QWEN} on Chutes.ai: cold, waiting for instances ...` },
    { status: `warming up ${QWEN} on Chutes.ai: cold, waiting for instances ...` },
    { status: `${QWEN} is hot on Chutes.ai: chute is hot, 2 instances available` },
    { status: "success" },
  ]);
  const call = p.upstream.calls(WARMUP)[0]!;
  assert.equal(call.headers.get("authorization"), `Bearer ${p.deps.config.api_token}`);
  // The warm-up's word is now the model's warmth on the status page.
  assert.equal(p.deps.warmth.of(QWEN)?.state, "hot");
});

Deno.test("pull through the ollama client: progress then success", async () => {
  await using p = startProxy();
  const client = new Ollama({ host: p.url });
  const statuses: string[] = [];
  for await (const part of await client.pull({ model: QWEN, stream: true })) {
    statuses.push(part.status);
  }
  assert.equal(statuses.at(-1), "success");
});

Deno.test("pull: a refused warm-up ends with an error line naming Chutes' reason", async () => {
  await using p = startProxy();
  p.upstream.enqueue(WARMUP, {
    status: 402,
    json: { detail: "Account balance is $0.0, please top-up with fiat or send tao to 5abc" },
  });
  const lines = await ndjson(await post(p, "/api/pull", { model: QWEN }));
  assert.deepEqual(lines, [
    { status: "pulling manifest" },
    {
      error: `cannot warm up ${QWEN} on Chutes.ai: HTTP 402: Account balance is $0.0, please ` +
        "top-up with fiat or send tao to 5abc (chat requests within your subscription or daily " +
        "quota may still work)",
    },
  ]);
});

Deno.test("pull: a chute still cold at warmup_timeout_seconds says so (stream and not)", async () => {
  await using p = startProxy({ config: { warmup_timeout_seconds: 0.3 } });
  p.upstream.enqueue(WARMUP, {
    pieces: warmupStream([["cold", "waiting for instances ..."]]),
    hang: true,
  });
  const lines = await ndjson(await post(p, "/api/pull", { model: QWEN }));
  assert.deepEqual(lines.slice(0, 2), [
    { status: "pulling manifest" },
    { status: `warming up ${QWEN} on Chutes.ai: cold, waiting for instances ...` },
  ]);
  assert.deepEqual(lines.slice(2), [{
    error: `${QWEN} is still cold on Chutes.ai after 0.3 s (waiting for instances ...); it ` +
      "keeps warming up there: try again in a few minutes",
  }]);
  assert.equal(p.upstream.openStreams, 0, "the warm-up stream was closed");

  p.upstream.enqueue(WARMUP, { pieces: [], hang: true });
  const res = await post(p, "/api/pull", { model: QWEN, stream: false });
  assert.equal(res.status, 504);
  assert.match(
    (await res.json()).error,
    /^Qwen\/Qwen3-32B-TEE is still cold on Chutes\.ai after 0\.3 s/,
  );
});

Deno.test("pull: a warm-up stream that ends before hot is an error, not success", async () => {
  await using p = startProxy();
  p.upstream.enqueue(WARMUP, { pieces: warmupStream([["cold", "waiting for instances ..."]]) });
  const lines = await ndjson(await post(p, "/api/pull", { model: QWEN }));
  assert.deepEqual(lines.at(-1), {
    error: `cannot warm up ${QWEN} on Chutes.ai: the warm-up of ${QWEN} ended before the chute ` +
      "was hot (last status: cold, waiting for instances ...)",
  });
});

Deno.test("a load request (empty messages) starts a warm-up without waiting; unload does not", async () => {
  await using p = startProxy();
  p.upstream.enqueue(WARMUP, {
    pieces: warmupStream([["cold", "waiting"], ["hot", "chute is hot"]]),
    delayMs: 50,
  });
  const res = await post(p, "/api/chat", { model: QWEN, messages: [] });
  assert.equal((await res.json()).done_reason, "load");
  for (let i = 0; i < 100 && !p.logs.some((l) => l.includes("warm-up of")); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(p.upstream.calls(WARMUP).length, 1);
  assert.ok(p.logs.some((l) => l.endsWith(`INFO warm-up of ${QWEN}: hot`)));
  await (await post(p, "/api/generate", { model: QWEN, prompt: "", keep_alive: 0 })).json();
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(p.upstream.calls(WARMUP).length, 1, "an unload must not warm up");
});
