/**
 * Access keys for the proxy: when PROXY_API_KEYS / `api_keys` is set, every route but
 * GET/HEAD / needs `Authorization: Bearer <key>`; a missing or wrong key is a 401 in the route's
 * own error shape; preflights pass so browsers can ask. Keys under 16 characters are refused at
 * start-up, and a wrong key costs its source address a growing delay.
 */
import assert from "node:assert/strict";
import { Ollama } from "ollama";
import { exposureWarning, FailureDelays } from "../../lib/server/auth.ts";
import { textStream } from "../_fake_upstream.ts";
import { post, startProxy, testConfig } from "../_helpers.ts";
import { ConfigError } from "../../lib/config/values.ts";
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
  await using p = startProxy({ config: { api_keys: ["other-key-made-up-2", KEY] } });
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

Deno.test("an access key shorter than 16 characters is refused at start-up, without printing it", () => {
  assert.throws(
    () => testConfig("http://127.0.0.1:9/v1", { api_keys: [KEY, "k-short"] }),
    (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /"api_keys": access key 2 of 2 has 7 characters; .*at least 16/);
      assert.ok(!err.message.includes("k-short"), err.message);
      return true;
    },
  );
});

Deno.test("with keys: each wrong key from an address waits longer before its 401; a right key does not", async () => {
  await using p = startProxy({ config: { api_keys: [KEY] } });
  for (let i = 0; i < 4; i++) {
    const res = await fetch(`${p.url}/api/tags`, {
      headers: { authorization: `Bearer guess${i}` },
    });
    assert.equal(res.status, 401);
    await res.body?.cancel();
  }
  const ok = await fetch(`${p.url}/api/tags`, { headers: { authorization: `Bearer ${KEY}` } });
  assert.equal(ok.status, 200);
  await ok.body?.cancel();
  assert.deepEqual(p.waits, [100, 200, 400, 800]);
});

Deno.test("FailureDelays: capped, forgotten after a quiet minute, and bounded in memory", () => {
  let now = 0;
  const delays = new FailureDelays(() => now);
  const seen = Array.from({ length: 8 }, () => delays.fail("10.0.0.1"));
  assert.deepEqual(seen, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
  assert.equal(delays.fail("10.0.0.2"), 100, "per address");
  now += 61_000;
  assert.equal(delays.fail("10.0.0.1"), 100, "forgotten");
  for (let i = 0; i < 20_000; i++) delays.fail(`addr-${i}`);
  assert.equal(delays.size, 10_000);
});
