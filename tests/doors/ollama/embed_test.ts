/**
 * `/api/embed` and the legacy `/api/embeddings` over real HTTP and through the `npm:ollama`
 * client: the exact upstream body, input order, L2 normalisation, `dimensions`, counters, empty
 * and invalid inputs, name resolution (aliases, `:latest`), the separate embeddings host, and
 * error statuses (unknown model → Ollama's "try pulling it first", others kept as they are).
 */
import assert from "node:assert/strict";
import { Ollama } from "ollama";
import { l2Normalise, parseEmbedInput } from "../../../lib/doors/ollama/embed.ts";
import { FakeUpstream } from "../../_fake_upstream.ts";
import { post, startProxy } from "../../_helpers.ts";

const EMBED = "/v1/embeddings";
const BGE = "BAAI/bge-m3";

/** An upstream `/v1/embeddings` answer with the given vectors, listed in `order`. */
function embeddings(vectors: number[][], promptTokens = 7, order?: number[]) {
  const data = (order ?? vectors.map((_, i) => i)).map((i) => ({
    object: "embedding",
    index: i,
    embedding: vectors[i],
  }));
  return {
    json: {
      object: "list",
      model: BGE,
      data,
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    },
  };
}

function assertClose(actual: number[], expected: number[]): void {
  assert.equal(actual.length, expected.length, `length of ${JSON.stringify(actual)}`);
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-9, `${v} ≠ ${expected[i]}`));
}

Deno.test("parseEmbedInput: string, list, empty forms, and other types", () => {
  assert.deepEqual(parseEmbedInput("a"), ["a"]);
  assert.deepEqual(parseEmbedInput(["a", "b"]), ["a", "b"]);
  for (const empty of [undefined, null, "", []]) assert.deepEqual(parseEmbedInput(empty), []);
  for (const bad of [5, true, {}, ["a", 1], [null], [["a"]]]) {
    assert.throws(() => parseEmbedInput(bad), { status: 400, message: "invalid input type" });
  }
});

Deno.test("l2Normalise: unit length, zero vector stays zero", () => {
  assertClose(l2Normalise([3, 4]), [0.6, 0.8]);
  assertClose(l2Normalise([0, 0]), [0, 0]);
});

Deno.test("/api/embed: list input → exact upstream body, vectors in input order, normalised", async () => {
  await using p = startProxy();
  p.upstream.enqueue(EMBED, embeddings([[3, 4], [0, 2], [1, 1]], 12, [2, 0, 1]));
  const res = await post(p, "/api/embed", { model: `${BGE}:latest`, input: ["a", "b", "c"] });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/json; charset=utf-8");
  const body = await res.json();
  assert.deepEqual(p.upstream.calls(EMBED).map((c) => c.body), [
    { model: BGE, input: ["a", "b", "c"] },
  ]);
  assert.deepEqual(Object.keys(body), [
    "model",
    "embeddings",
    "total_duration",
    "load_duration",
    "prompt_eval_count",
  ]);
  assert.equal(body.model, `${BGE}:latest`);
  assert.equal(body.embeddings.length, 3);
  assertClose(body.embeddings[0], [0.6, 0.8]);
  assertClose(body.embeddings[1], [0, 1]);
  assertClose(body.embeddings[2], [Math.SQRT1_2, Math.SQRT1_2]);
  assert.equal(body.prompt_eval_count, 12);
  for (const key of ["total_duration", "load_duration", "prompt_eval_count"]) {
    assert.ok(Number.isInteger(body[key]) && body[key] >= 0, `${key} = ${body[key]}`);
  }
  assert.ok(body.total_duration >= body.load_duration);
});

Deno.test("/api/embed: a string input is sent as a one-element list", async () => {
  await using p = startProxy();
  p.upstream.enqueue(EMBED, embeddings([[0, 5]]));
  const body = await (await post(p, "/api/embed", { model: BGE, input: "hello" })).json();
  assert.deepEqual(p.upstream.calls(EMBED)[0]!.body, { model: BGE, input: ["hello"] });
  assertClose(body.embeddings[0], [0, 1]);
});

Deno.test("/api/embed: dimensions is forwarded, and a longer answer is cut and re-normalised", async () => {
  await using p = startProxy();
  p.upstream.enqueue(EMBED, embeddings([[3, 4, 12, 84]]));
  const body = await (await post(p, "/api/embed", { model: BGE, input: ["x"], dimensions: 2 }))
    .json();
  assert.deepEqual(p.upstream.calls(EMBED)[0]!.body, { model: BGE, input: ["x"], dimensions: 2 });
  assertClose(body.embeddings[0], [0.6, 0.8]);
  const bad = await post(p, "/api/embed", { model: BGE, input: ["x"], dimensions: -3 });
  assert.equal(bad.status, 400);
  assert.match((await bad.json()).error, /dimensions/);
});

Deno.test("/api/embed: without usage, prompt_eval_count is an estimate (an integer)", async () => {
  await using p = startProxy();
  p.upstream.enqueue(EMBED, { json: { data: [{ index: 0, embedding: [1, 0] }] } });
  const body = await (await post(p, "/api/embed", { model: BGE, input: "twelve chars" })).json();
  assert.equal(body.prompt_eval_count, 3);
});

Deno.test("/api/embed: absent, empty and [] input answer no embeddings without calling upstream", async () => {
  await using p = startProxy();
  for (const extra of [{}, { input: "" }, { input: [] }]) {
    const res = await post(p, "/api/embed", { model: BGE, ...extra });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { model: BGE, embeddings: [] });
  }
  assert.equal(p.upstream.calls(EMBED).length, 0);
});

Deno.test("/api/embed: other input types are 400 invalid input type", async () => {
  await using p = startProxy();
  for (const input of [42, { text: "a" }, ["a", 1], [null]]) {
    const res = await post(p, "/api/embed", { model: BGE, input });
    assert.equal(res.status, 400, JSON.stringify(input));
    assert.deepEqual(await res.json(), { error: "invalid input type" });
  }
  assert.equal(p.upstream.calls(EMBED).length, 0);
});

Deno.test("/api/embed and /api/embeddings: a missing model is 400 model is required", async () => {
  await using p = startProxy();
  for (
    const [path, body] of [["/api/embed", { input: "a" }], ["/api/embeddings", { prompt: "a" }]]
  ) {
    const res = await post(p, path as string, body);
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { error: "model is required" });
  }
});

Deno.test("/api/embed: options without an equivalent are not sent, not an error, and named", async () => {
  await using p = startProxy();
  p.upstream.enqueue(EMBED, embeddings([[1, 0]]));
  const res = await post(p, "/api/embed", {
    model: BGE,
    input: ["a"],
    truncate: false,
    keep_alive: "5m",
    options: { num_ctx: 512, temperature: 0 },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-proxy-ignored-options"), "truncate, num_ctx, temperature");
  assert.deepEqual(p.upstream.calls(EMBED)[0]!.body, { model: BGE, input: ["a"] });
  const badKeepAlive = await post(p, "/api/embed", { model: BGE, input: "a", keep_alive: "soon" });
  assert.equal(badKeepAlive.status, 400);
});

Deno.test("/api/embed: aliases and listed names resolve through the catalogue", async () => {
  await using p = startProxy({ config: { aliases: { embedder: BGE } } });
  p.upstream.enqueue(EMBED, embeddings([[1, 0]]));
  p.upstream.enqueue(EMBED, embeddings([[1, 0]]));
  const res = await post(p, "/api/embed", { model: "embedder", input: "a" });
  assert.equal((await res.json()).model, "embedder");
  await post(p, "/api/embed", { model: "Qwen/Qwen3-32B-TEE:latest", input: "a" });
  assert.deepEqual(p.upstream.calls(EMBED).map((c) => c.body!.model), [
    BGE,
    "Qwen/Qwen3-32B-TEE",
  ]);
});

Deno.test("/api/embed: requests go to embed_base_url when it differs from base_url", async () => {
  const embedHost = FakeUpstream.start();
  try {
    await using p = startProxy({ config: { embed_base_url: embedHost.url } });
    embedHost.enqueue(EMBED, embeddings([[1, 0]]));
    const res = await post(p, "/api/embed", { model: BGE, input: "a" });
    assert.equal(res.status, 200);
    assert.equal(embedHost.calls(EMBED).length, 1);
    assert.equal(
      embedHost.calls(EMBED)[0]!.headers.get("authorization"),
      `Bearer ${p.deps.config.api_token}`,
    );
    assert.equal(p.upstream.calls(EMBED).length, 0);
  } finally {
    await embedHost.close();
  }
});

Deno.test("/api/embed: an unknown model is 404 'try pulling it first' with the name as sent", async () => {
  await using p = startProxy();
  p.upstream.enqueue(EMBED, { status: 404, json: { detail: "No matching chute found!" } });
  p.upstream.enqueue(EMBED, { status: 400, json: { detail: "model not found: nomic" } });
  for (const path of ["/api/embed", "/api/embeddings"]) {
    const res = await post(p, path, { model: "nomic-embed-text", input: "a", prompt: "a" });
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), {
      error: 'model "nomic-embed-text" not found, try pulling it first',
    });
  }
  assert.equal(p.upstream.calls(EMBED)[0]!.body!.model, "nomic-embed-text");
});

Deno.test("/api/embed: other upstream errors keep their status and message", async () => {
  await using p = startProxy();
  p.upstream.enqueue(EMBED, {
    status: 402,
    json: { detail: "This model requires a higher subscription tier or positive balance." },
  });
  const res = await post(p, "/api/embed", { model: BGE, input: "a" });
  assert.equal(res.status, 402);
  assert.deepEqual(await res.json(), {
    error: "This model requires a higher subscription tier or positive balance.",
  });
});

Deno.test("/api/embed: an answer without one vector per input is a 502", async () => {
  await using p = startProxy();
  p.upstream.enqueue(EMBED, embeddings([[1, 0]]));
  const res = await post(p, "/api/embed", { model: BGE, input: ["a", "b"] });
  assert.equal(res.status, 502);
  assert.match((await res.json()).error, /1 vectors of numbers for 2 inputs/);
});

Deno.test("/api/embeddings (legacy): prompt → one raw, not normalised, embedding", async () => {
  await using p = startProxy();
  p.upstream.enqueue(EMBED, embeddings([[3, 4]]));
  const res = await post(p, "/api/embeddings", { model: `${BGE}:latest`, prompt: "hello" });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { embedding: [3, 4] });
  assert.deepEqual(p.upstream.calls(EMBED)[0]!.body, { model: BGE, input: ["hello"] });
});

Deno.test("/api/embeddings (legacy): an empty prompt answers an empty embedding, no upstream call", async () => {
  await using p = startProxy();
  for (const body of [{ model: BGE }, { model: BGE, prompt: "" }]) {
    const res = await post(p, "/api/embeddings", body);
    assert.deepEqual(await res.json(), { embedding: [] });
  }
  assert.equal(p.upstream.calls(EMBED).length, 0);
});

Deno.test("ollama client: embed and embeddings", async () => {
  await using p = startProxy();
  const client = new Ollama({ host: p.url });
  p.upstream.enqueue(EMBED, embeddings([[0, 2], [2, 0]], 4));
  const embedded = await client.embed({ model: BGE, input: ["a", "b"], dimensions: 2 });
  assert.equal(embedded.model, BGE);
  assertClose(embedded.embeddings[0]!, [0, 1]);
  assertClose(embedded.embeddings[1]!, [1, 0]);
  assert.equal(embedded.prompt_eval_count, 4);
  assert.deepEqual(p.upstream.calls(EMBED)[0]!.body, {
    model: BGE,
    input: ["a", "b"],
    dimensions: 2,
  });
  p.upstream.enqueue(EMBED, embeddings([[0.5, 0.25]]));
  assert.deepEqual(await client.embeddings({ model: BGE, prompt: "a" }), {
    embedding: [0.5, 0.25],
  });
  p.upstream.enqueue(EMBED, { status: 404, json: { detail: "model not found" } });
  await assert.rejects(client.embed({ model: "missing", input: "a" }), {
    name: "ResponseError",
    status_code: 404,
    message: 'model "missing" not found, try pulling it first',
  });
});

Deno.test("/api/embed: an option name with a line break makes a safe header, never a 500", async () => {
  await using p = startProxy();
  p.upstream.enqueue(EMBED, embeddings([[3, 4]]));
  const res = await post(p, "/api/embed", {
    model: BGE,
    input: ["a"],
    options: { "evil\r\nx-injected: 1": 1 },
  });
  assert.equal(res.status, 200);
  await res.json();
  assert.equal(res.headers.get("x-injected"), null);
  assert.equal(res.headers.get("x-proxy-ignored-options"), "evil\\x0d\\x0ax-injected: 1");
});

Deno.test("embeddings are counted like chats: model and prompt tokens in the log and metrics, every door", async () => {
  await using p = startProxy();
  p.upstream.enqueue(EMBED, embeddings([[3, 4]], 11));
  await (await post(p, "/api/embed", { model: BGE, input: ["a"] })).json();
  p.upstream.enqueue(EMBED, embeddings([[3, 4]], 13));
  await (await post(p, "/api/embeddings", { model: BGE, prompt: "a" })).json();
  p.upstream.enqueue(EMBED, embeddings([[3, 4]], 17));
  await (await post(p, "/v1/embeddings", { model: BGE, input: "a" })).json();
  const lines = () => p.logs.filter((l) => / 200 model=/.test(l) && /embed/.test(l));
  for (let i = 0; i < 50 && lines().length < 3; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(lines().map((l) => /tokens=(\d+)\/0/.exec(l)?.[1]), ["11", "13", "17"]);
  const metrics = await (await fetch(`${p.url}/metrics`)).text();
  assert.match(metrics, /ollama_proxy_tokens_total\{model="BAAI\/bge-m3",direction="in"\} 41/);
});
