/**
 * Access keys for the proxy: when PROXY_API_KEYS / `api_keys` is set, every route but
 * GET/HEAD / needs `Authorization: Bearer <key>`; a missing or wrong key is a 401 in the route's
 * own error shape; preflights pass so browsers can ask.
 */
import assert from "node:assert/strict";
import { Ollama } from "ollama";
import { exposureWarning } from "../../lib/server/auth.ts";
import { textStream } from "../_fake_upstream.ts";
import { post, startProxy } from "../_helpers.ts";
import { configFromEnv } from "../../lib/config/env.ts";

const KEY = "proxy-key-made-up-1";

Deno.test("PROXY_API_KEYS is read as a comma list", () => {
  assert.deepEqual(configFromEnv({ PROXY_API_KEYS: " a, b ,,c " }).api_keys, ["a", "b", "c"]);
});

Deno.test("without keys configured every route is open", async () => {
  await using p = startProxy();
  const res = await fetch(`${p.url}/api/tags`);
  assert.equal(res.status, 200);
  await res.body?.cancel();
});

Deno.test("with keys: liveness stays open, other routes need a valid bearer key", async () => {
  await using p = startProxy({ config: { api_keys: ["other-key", KEY] } });
  assert.equal((await fetch(`${p.url}/`)).status, 200);
  assert.equal((await fetch(`${p.url}/`, { method: "HEAD" })).status, 200);
  for (const auth of [undefined, "Bearer wrong", `Basic ${KEY}`, "Bearer ", `Bearer ${KEY}x`]) {
    const res = await fetch(`${p.url}/api/tags`, { headers: auth ? { authorization: auth } : {} });
    assert.equal(res.status, 401, String(auth));
    assert.equal(res.headers.get("content-type"), "application/json; charset=utf-8");
    assert.match((await res.json()).error, /unauthorized/);
  }
  const ok = await fetch(`${p.url}/api/tags`, { headers: { authorization: `Bearer ${KEY}` } });
  assert.equal(ok.status, 200);
  await ok.body?.cancel();
  const v1 = await fetch(`${p.url}/v1/models`);
  assert.equal(v1.status, 401);
  const body = await v1.json();
  assert.equal(body.error.type, "api_error");
  assert.equal(body.error.param, null);
  const preflight = await fetch(`${p.url}/api/chat`, {
    method: "OPTIONS",
    headers: { origin: "http://localhost" },
  });
  assert.equal(preflight.status, 204);
  await preflight.body?.cancel();
  assert.equal(p.upstream.calls("/v1/chat/completions").length, 0);
});

Deno.test("with keys: the ollama client passes with headers; the key never reaches the upstream or the log", async () => {
  await using p = startProxy({ config: { api_keys: [KEY], debug: true } });
  p.upstream.enqueue("/v1/chat/completions", { pieces: textStream(["hi"]) });
  const denied = new Ollama({ host: p.url });
  await assert.rejects(
    denied.list(),
    (err: Error & { status_code?: number }) => err.status_code === 401,
  );
  const client = new Ollama({ host: p.url, headers: { authorization: `Bearer ${KEY}` } });
  const res = await client.chat({
    model: "Qwen/Qwen3-32B-TEE",
    messages: [{ role: "user", content: "x" }],
  });
  assert.equal(res.message.content, "hi");
  const upstreamAuth = p.upstream.calls("/v1/chat/completions")[0]!.headers.get("authorization");
  assert.equal(upstreamAuth?.includes(KEY), false);
  for (const line of p.logs) assert.equal(line.includes(KEY), false, line);
  const wrong = await post(p, "/api/chat", {}, { headers: { authorization: "Bearer nope" } });
  assert.equal(wrong.status, 401);
  await wrong.body?.cancel();
});

Deno.test("binding beyond loopback without keys gives a prominent start-up warning", () => {
  assert.match(exposureWarning("0.0.0.0", []) ?? "", /without access keys.*PROXY_API_KEYS/);
  assert.match(exposureWarning("192.168.1.5", []) ?? "", /^!!!/);
  assert.equal(exposureWarning("0.0.0.0", ["k"]), undefined);
  for (const host of ["127.0.0.1", "127.0.0.2", "localhost", "::1"]) {
    assert.equal(exposureWarning(host, []), undefined);
  }
});
