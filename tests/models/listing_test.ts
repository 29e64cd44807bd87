/**
 * Several upstreams: the catalogue merges their lists (each upstream's include/exclude choose
 * what it contributes; the first to list an id owns it), and each model routes to the upstream
 * that lists it, with that upstream's token (or none).
 */
import assert from "node:assert/strict";
import { FakeUpstream, textStream } from "../_fake_upstream.ts";
import { post, startProxy, TEST_TOKEN } from "../_helpers.ts";

const CHAT = "/v1/chat/completions";
const LOCAL_TOKEN = "local-upstream-made-up-token";

function localUpstream(): FakeUpstream {
  const local = FakeUpstream.start();
  local.models = [
    {
      id: "local/llama3",
      created: 1760000000,
      owned_by: "vllm",
      max_model_len: 8192,
    },
    { id: "Qwen/Qwen3-32B-TEE", created: 1, owned_by: "vllm" },
    { id: "local/hidden", created: 1, owned_by: "vllm" },
  ];
  return local;
}

Deno.test("the catalogue merges upstreams and routes each model to the upstream that lists it", async () => {
  const local = localUpstream();
  await using p = startProxy({
    config: {
      debug: true,
      upstreams: [{
        name: "local",
        base_url: local.url,
        api_token: LOCAL_TOKEN,
        exclude: ["*hidden*"],
      }],
    },
  });
  try {
    const { models } = await (await fetch(`${p.url}/api/tags`)).json();
    const names = models.map((m: { name: string }) => m.name);
    assert.ok(names.includes("local/llama3:latest"));
    assert.equal(names.includes("local/hidden:latest"), false);
    assert.equal(names.filter((n: string) => n === "Qwen/Qwen3-32B-TEE:latest").length, 1);

    local.enqueue(CHAT, { pieces: textStream(["from local"]) });
    const res = await post(p, "/api/chat", {
      model: "local/llama3",
      messages: [{ role: "user", content: "hi" }],
      stream: false,
    });
    assert.equal((await res.json()).message.content, "from local");
    assert.equal(local.calls(CHAT)[0]!.headers.get("authorization"), `Bearer ${LOCAL_TOKEN}`);
    assert.equal(p.upstream.calls(CHAT).length, 0);

    p.upstream.enqueue(CHAT, { pieces: textStream(["from chutes"]) });
    const qwen = await post(p, "/api/chat", {
      model: "Qwen/Qwen3-32B-TEE",
      messages: [{ role: "user", content: "hi" }],
      stream: false,
    });
    assert.equal((await qwen.json()).message.content, "from chutes");
    assert.equal(p.upstream.calls(CHAT)[0]!.headers.get("authorization"), `Bearer ${TEST_TOKEN}`);
    for (const line of p.logs) assert.equal(line.includes(LOCAL_TOKEN), false, line);
  } finally {
    await local.close();
  }
});

Deno.test("an upstream without a token gets no Authorization header; a failing one keeps its last list", async () => {
  const local = localUpstream();
  await using p = startProxy({
    config: {
      catalogue_ttl_seconds: 0,
      upstreams: [{ name: "local", base_url: local.url, include: ["local/*"] }],
    },
  });
  try {
    await p.deps.catalogue.refresh();
    local.modelsReply = { status: 500, json: { detail: "down" } };
    await p.deps.catalogue.refresh();
    const { models } = await (await fetch(`${p.url}/api/tags`)).json();
    assert.ok(models.some((m: { name: string }) => m.name === "local/llama3:latest"));
    assert.ok(
      p.logs.some((l) =>
        /WARN model listing failed, keeping the last list of http:\/\/127\.0\.0\.1:\d+\/v1/.test(l)
      ),
    );
    local.enqueue(CHAT, { pieces: textStream(["ok"]) });
    const res = await post(p, "/api/chat", {
      model: "local/llama3",
      messages: [{ role: "user", content: "x" }],
    });
    await res.body?.cancel();
    assert.equal(local.calls(CHAT)[0]!.headers.get("authorization"), null);
  } finally {
    await local.close();
  }
});

Deno.test("config upstreams are validated with errors naming the key", async () => {
  const { validateConfig } = await import("../../lib/config/config.ts");
  const base = { api_token: "t" };
  assert.throws(
    () => validateConfig({ ...base, upstreams: [{ base_url: "http://x/v1" }] }),
    /upstreams\[0\]\.name/,
  );
  assert.throws(
    () => validateConfig({ ...base, upstreams: [{ name: "a", base_url: "ftp://x" }] }),
    /upstreams\[0\]\.base_url/,
  );
  assert.throws(
    () => validateConfig({ ...base, upstreams: [{ name: "a", base_url: "http://x", token: "k" }] }),
    /upstreams\[0\]\.token/,
  );
  const ok = validateConfig({
    ...base,
    upstreams: [{ name: "a", base_url: "http://x/v1/chat/completions" }],
  });
  assert.deepEqual(ok.upstreams, [{
    name: "a",
    base_url: "http://x/v1",
    api_token: null,
    include: [],
    exclude: [],
  }]);
});
