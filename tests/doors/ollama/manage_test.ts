/**
 * Model management over real HTTP and through the `npm:ollama` client: pull (listed, pool,
 * embedding and unknown models; stream and not), copy and delete of local aliases (visible in
 * tags and show, usable in chat, persisted in a temp-dir aliases file, kept across a restart),
 * the refusals (deleting a Chutes model or a configured alias), and the clear errors of create,
 * push and blobs.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Ollama } from "ollama";
import { type AliasStore, openAliasFile } from "../../../lib/models/aliases_file.ts";
import { textStream } from "../../_fake_upstream.ts";
import { ndjson, post, startProxy, type TestProxy } from "../../_helpers.ts";

const QWEN = "Qwen/Qwen3-32B-TEE";
const CHAT = "/v1/chat/completions";
const EMBED = "/v1/embeddings";

/** Runs `body` with a fresh temp dir and its aliases file, then removes the dir. */
async function withAliasFile(
  body: (file: string, store: AliasStore) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "manage_test_" });
  try {
    const file = join(dir, "aliases.json");
    await body(file, await openAliasFile(file));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function del(p: TestProxy, body: unknown): Promise<Response> {
  return post(p, "/api/delete", body, { method: "DELETE" });
}

async function tagNames(p: TestProxy): Promise<string[]> {
  const { models } = await (await fetch(`${p.url}/api/tags`)).json();
  return models.map((m: { name: string }) => m.name);
}

async function assertError(res: Response, status: number, error: string | RegExp): Promise<void> {
  const body = await res.json();
  assert.equal(res.status, status, JSON.stringify(body));
  assert.equal(res.headers.get("content-type"), "application/json; charset=utf-8");
  if (typeof error === "string") assert.deepEqual(body, { error });
  else assert.match(body.error, error);
}

Deno.test("/api/pull: a listed model streams honest progress ending in success", async () => {
  await using p = startProxy();
  const res = await post(p, "/api/pull", { model: `${QWEN}:latest` });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/x-ndjson");
  // Nothing to download; the fake's warm-up answers "hot" at once (tests/ops/warmth_test.ts has the rest).
  assert.deepEqual(await ndjson(res), [
    { status: "pulling manifest" },
    { status: `${QWEN} is hot on Chutes.ai: chute is hot, 1 instances available` },
    { status: "success" },
  ]);
  assert.equal(p.upstream.calls(EMBED).length, 0);
});

Deno.test("/api/pull: stream false answers one success object; legacy name is accepted", async () => {
  await using p = startProxy();
  const res = await post(p, "/api/pull", { name: QWEN, stream: false });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/json; charset=utf-8");
  assert.equal(await res.text(), '{"status":"success"}');
});

Deno.test("/api/pull: a Chutes pool name succeeds without a probe", async () => {
  await using p = startProxy();
  const res = await post(p, "/api/pull", { model: `${QWEN},deepseek-ai/DeepSeek-V3-0324:latency` });
  assert.equal((await ndjson(res)).at(-1)?.status, "success");
  assert.equal(p.upstream.calls(EMBED).length, 0);
});

Deno.test("/api/pull: an unlisted embedding model is checked on the embeddings host", async () => {
  await using p = startProxy();
  p.upstream.enqueue(EMBED, { json: { data: [{ index: 0, embedding: [1, 0] }] } });
  const res = await post(p, "/api/pull", { model: "BAAI/bge-m3:latest", stream: false });
  assert.deepEqual(await res.json(), { status: "success" });
  assert.deepEqual(p.upstream.calls(EMBED)[0]!.body, { model: "BAAI/bge-m3", input: ["ping"] });
});

Deno.test("/api/pull: an unknown model is 404 saying it is not available on Chutes", async () => {
  await using p = startProxy();
  for (const stream of [true, false]) {
    p.upstream.enqueue(EMBED, { status: 404, json: { detail: "No matching chute found!" } });
    const res = await post(p, "/api/pull", { model: "llama3.2", stream });
    await assertError(
      res,
      404,
      'pull model manifest: model "llama3.2" is not available on Chutes.ai',
    );
  }
});

Deno.test("/api/pull: an auth failure on the probe keeps its status", async () => {
  await using p = startProxy();
  p.upstream.enqueue(EMBED, { status: 401, json: { detail: "Authentication required." } });
  await assertError(await post(p, "/api/pull", { model: "x" }), 401, "Authentication required.");
});

Deno.test("/api/pull: while the model list cannot be fetched it says so (503), never success", async () => {
  await using p = startProxy();
  p.upstream.modelsReply = { status: 401, json: { detail: "nope" } };
  await assertError(
    await post(p, "/api/pull", { model: QWEN }),
    503,
    /cannot check whether "Qwen\/Qwen3-32B-TEE" is available: the Chutes.ai model list/,
  );
});

Deno.test("/api/pull: a missing model is 400 model is required", async () => {
  await using p = startProxy();
  await assertError(await post(p, "/api/pull", {}), 400, "model is required");
  await assertError(await post(p, "/api/pull", { model: QWEN, stream: "yes" }), 400, /stream/);
});

Deno.test("/api/copy: creates an alias listed in tags, shown, usable in chat, saved to the file", async () => {
  await withAliasFile(async (file, store) => {
    await using p = startProxy({ aliasStore: store });
    const res = await post(p, "/api/copy", { source: `${QWEN}:latest`, destination: "my-qwen" });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "");
    assert.deepEqual(JSON.parse(await Deno.readTextFile(file)), { "my-qwen:latest": QWEN });
    const { models } = await (await fetch(`${p.url}/api/tags`)).json();
    const alias = models.find((m: { name: string }) => m.name === "my-qwen:latest");
    const source = models.find((m: { name: string }) => m.name === `${QWEN}:latest`);
    assert.equal(alias.digest, source.digest);
    assert.deepEqual(alias.capabilities, source.capabilities);
    const shown = await (await post(p, "/api/show", { model: "my-qwen" })).json();
    assert.equal(shown.model_info["qwen3.context_length"], 40960);
    p.upstream.enqueue(CHAT, { pieces: textStream(["hi"]) });
    const chat = await post(p, "/api/chat", {
      model: "my-qwen:latest",
      messages: [{ role: "user", content: "hello" }],
      stream: false,
    });
    assert.equal((await chat.json()).model, "my-qwen:latest");
    assert.equal(p.upstream.calls(CHAT)[0]!.body!.model, QWEN);
    const files = [];
    for await (const entry of Deno.readDir(join(file, ".."))) files.push(entry.name);
    assert.deepEqual(files, ["aliases.json"]); // no temp file left behind
  });
});

Deno.test("/api/copy: aliases persist across a restart and are read at start-up", async () => {
  await withAliasFile(async (file, store) => {
    {
      await using p = startProxy({ aliasStore: store });
      assert.equal((await post(p, "/api/copy", { source: QWEN, destination: "keep" })).status, 200);
    }
    await using again = startProxy({ aliasStore: await openAliasFile(file) });
    assert.ok((await tagNames(again)).includes("keep:latest"));
  });
});

Deno.test("/api/copy: concurrent copies are saved one after another, none lost", async () => {
  await withAliasFile(async (file, store) => {
    await using p = startProxy({ aliasStore: store });
    const names = ["c1", "c2", "c3", "c4", "c5"];
    const answers = await Promise.all(
      names.map((destination) => post(p, "/api/copy", { source: QWEN, destination })),
    );
    assert.deepEqual(answers.map((r) => r.status), [200, 200, 200, 200, 200]);
    const saved = Object.keys(JSON.parse(await Deno.readTextFile(file))).sort();
    assert.deepEqual(saved, names.map((n) => `${n}:latest`));
  });
});

Deno.test("/api/copy: an alias can be copied, and copying onto an alias replaces it", async () => {
  await using p = startProxy({ config: { aliases: { coder: "deepseek-ai/DeepSeek-V3-0324" } } });
  assert.equal((await post(p, "/api/copy", { source: "coder", destination: "a" })).status, 200);
  assert.equal((await post(p, "/api/copy", { source: QWEN, destination: "b" })).status, 200);
  assert.equal((await post(p, "/api/copy", { source: "b", destination: "A:latest" })).status, 200);
  const names = await tagNames(p);
  assert.deepEqual(names.filter((n) => n === "a:latest" || n === "A:latest"), ["A:latest"]);
  assert.equal((await p.deps.catalogue.resolve("a"))?.upstreamId, QWEN);
});

Deno.test("/api/copy: unknown source is 404; missing fields and bad names are 400", async () => {
  await using p = startProxy({ config: { aliases: { coder: QWEN } } });
  await assertError(
    await post(p, "/api/copy", { source: "nope", destination: "x" }),
    404,
    'model "nope" not found',
  );
  await assertError(await post(p, "/api/copy", { destination: "x" }), 400, "source is required");
  await assertError(await post(p, "/api/copy", { source: QWEN }), 400, "destination is required");
  for (const destination of ["has space", "a,b", "x:latency", "-x"]) {
    await assertError(
      await post(p, "/api/copy", { source: QWEN, destination }),
      400,
      `destination ${JSON.stringify(destination)} is invalid`,
    );
  }
  await assertError(
    await post(p, "/api/copy", { source: QWEN, destination: "deepseek-ai/DeepSeek-V3-0324" }),
    400,
    /is a Chutes.ai model; choose another name/,
  );
  await assertError(
    await post(p, "/api/copy", { source: QWEN, destination: "coder" }),
    400,
    /is an alias set in the configuration/,
  );
});

Deno.test("/api/copy: a file that cannot be written is a 500 naming it, and nothing changes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "manage_test_" });
  try {
    const store = await openAliasFile(join(dir, "missing-dir", "aliases.json"));
    await using p = startProxy({ aliasStore: store });
    await assertError(
      await post(p, "/api/copy", { source: QWEN, destination: "lost" }),
      500,
      /^cannot save the aliases to .*missing-dir.*aliases\.json: /,
    );
    assert.ok(!(await tagNames(p)).includes("lost:latest"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("/api/delete: removes a local alias with an empty 200, from tags and the file", async () => {
  await withAliasFile(async (file, store) => {
    await using p = startProxy({ aliasStore: store });
    await post(p, "/api/copy", { source: QWEN, destination: "gone" });
    const res = await del(p, { model: "gone:latest" });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "");
    assert.ok(!(await tagNames(p)).includes("gone:latest"));
    assert.deepEqual(JSON.parse(await Deno.readTextFile(file)), {});
    await assertError(await del(p, { name: "gone" }), 404, "model 'gone' not found");
  });
});

Deno.test("/api/delete: a Chutes model or a configured alias is refused, never faked", async () => {
  await using p = startProxy({ config: { aliases: { coder: QWEN } } });
  await assertError(
    await del(p, { model: QWEN }),
    400,
    `cannot delete model '${QWEN}': it is served by Chutes.ai and this proxy cannot delete it ` +
      "(only aliases made with copy can be deleted)",
  );
  await assertError(
    await del(p, { model: "coder" }),
    400,
    /^cannot delete model 'coder': it is an alias set in the configuration .*remove it there/,
  );
  const names = await tagNames(p);
  assert.ok(names.includes(`${QWEN}:latest`) && names.includes("coder:latest"));
  await assertError(await del(p, { model: "ghost" }), 404, "model 'ghost' not found");
  await assertError(await del(p, {}), 400, "model is required");
});

Deno.test("/api/create, /api/push and /api/blobs answer a clear JSON error, never success", async () => {
  await using p = startProxy();
  await assertError(
    await post(p, "/api/create", { model: "mine", from: QWEN, system: "be brief" }),
    400,
    /^cannot create "mine": this proxy serves models from Chutes.ai .*use copy/,
  );
  await assertError(await post(p, "/api/create", {}), 400, "model is required");
  await assertError(
    await post(p, "/api/push", { model: "mine" }),
    400,
    /^cannot push "mine": .*cannot upload models/,
  );
  await assertError(await post(p, "/api/push", {}), 400, "model is required");
  const digest = `sha256:${"a".repeat(64)}`;
  await assertError(
    await post(p, `/api/blobs/${digest}`, "GGUF bytes"),
    400,
    `cannot store or look up blob "${digest}": this proxy keeps no model files ` +
      "(models are served by Chutes.ai)",
  );
  const head = await fetch(`${p.url}/api/blobs/${digest}`, { method: "HEAD" });
  assert.equal(head.status, 400);
  assert.equal(await head.text(), "");
  await assertError(await fetch(`${p.url}/api/blobs/${digest}`), 405, /method not allowed/);
});

Deno.test("ollama client: pull streamed and not, copy, delete, and create rejected", async () => {
  await using p = startProxy();
  const client = new Ollama({ host: p.url });
  const statuses = [];
  for await (const part of await client.pull({ model: QWEN, stream: true })) {
    statuses.push(part.status);
  }
  assert.deepEqual(statuses.at(-1), "success");
  assert.deepEqual(await client.pull({ model: QWEN }), { status: "success" });
  p.upstream.enqueue(EMBED, { status: 404, json: { detail: "No matching chute found!" } });
  await assert.rejects(client.pull({ model: "nope" }), { name: "ResponseError", status_code: 404 });
  assert.deepEqual(await client.copy({ source: QWEN, destination: "cl" }), { status: "success" });
  assert.ok((await client.list()).models.some((m) => m.name === "cl:latest"));
  assert.deepEqual(await client.delete({ model: "cl" }), { status: "success" });
  assert.ok(!(await client.list()).models.some((m) => m.name === "cl:latest"));
  await assert.rejects(client.delete({ model: QWEN }), {
    status_code: 400,
    message: /cannot delete model/,
  });
  await assert.rejects(client.create({ model: "mine", from: QWEN }), {
    name: "ResponseError",
    status_code: 400,
    message: /^cannot create "mine"/,
  });
  await assert.rejects(client.push({ model: "mine" }), { status_code: 400 });
});

Deno.test("/api/copy stops at 1000 aliases with a 400 saying so; replacing one still works", async () => {
  await using p = startProxy();
  for (let i = 0; i < 1000; i++) {
    await p.deps.catalogue.addAlias(`alias-${i}`, "Qwen/Qwen3-32B-TEE");
  }
  const more = await post(p, "/api/copy", {
    source: "Qwen/Qwen3-32B-TEE",
    destination: "one-more",
  });
  assert.equal(more.status, 400);
  assert.match((await more.json()).error, /1000 aliases exist already/);
  const again = await post(p, "/api/copy", {
    source: "Qwen/Qwen3-32B-TEE",
    destination: "alias-7",
  });
  assert.equal(again.status, 200);
  await again.body?.cancel();
});
