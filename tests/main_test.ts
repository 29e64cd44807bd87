/**
 * Tests for the entry point (`main.ts`) run as a real process: `--help`, start-up errors, and a
 * debug-mode start on port 0 in front of an unreachable upstream that still answers `/api/tags`
 * and never prints the token; bind problems as one line; the background work at start-up (the
 * token check, the listing retried). Only 127.0.0.1 is contacted; the child is always killed.
 */
import assert from "node:assert/strict";
import { runMain, spawnMain } from "./_process.ts";
import { FakeUpstream } from "./_fake_upstream.ts";

const SECRET = "cpk_main_test_made_up.secret-do-not-print-9f8e7d";

Deno.test("--help prints the usage and exits 0", async () => {
  const { code, stdout } = await runMain(["--help"]);
  assert.equal(code, 0);
  assert.match(stdout, /^Usage: /m);
  assert.match(stdout, /--port <port>/);
  assert.match(stdout, /CHUTES_API_TOKEN/);
});

Deno.test("without a token it exits non-zero and says to set CHUTES_API_TOKEN", async () => {
  const { code, stdout, stderr } = await runMain([]);
  assert.notEqual(code, 0);
  assert.match(stderr, /CHUTES_API_TOKEN/);
  assert.doesNotMatch(stdout, /listening on/);
});

Deno.test("a bad --port exits non-zero naming --port", async () => {
  const { code, stderr } = await runMain(["--port", "abc"], { CHUTES_API_TOKEN: SECRET });
  assert.notEqual(code, 0);
  assert.match(stderr, /--port/);
  assert.match(stderr, /"abc"/);
  assert.ok(!stderr.includes(SECRET));
});

Deno.test("an unknown flag exits non-zero naming it", async () => {
  const { code, stderr } = await runMain(["--frobnicate"], { CHUTES_API_TOKEN: SECRET });
  assert.notEqual(code, 0);
  assert.match(stderr, /--frobnicate/);
});

Deno.test("on port 0 before an unreachable upstream: serves /api/tags, never prints the token", async () => {
  const proxy = await spawnMain(["--debug", "--port", "0"], {
    CHUTES_API_TOKEN: SECRET,
    CHUTES_BASE_URL: "http://127.0.0.1:9/v1",
  });
  try {
    const [, base] = await proxy.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 10_000);
    const res = await fetch(`${base}/api/tags`);
    assert.equal(res.status, 200);
    const body = await res.json() as { models?: unknown };
    assert.ok(Array.isArray(body.models), `models is not an array: ${JSON.stringify(body)}`);
    // A chat request makes the debug log dump an upstream request; it fails before any byte.
    const chat = await fetch(`${base}/api/chat`, {
      method: "POST",
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }),
    });
    const error = await chat.json() as { error?: unknown };
    assert.equal(chat.status, 502, JSON.stringify(error));
    assert.equal(typeof error.error, "string");
  } finally {
    await proxy.stop();
  }
  const all = proxy.output();
  assert.match(all, /GET \/api\/tags 200/);
  assert.match(all, /DEBUG upstream POST \/chat\/completions/);
  assert.ok(!all.includes(SECRET), `the token leaked into the output:\n${all}`);
  assert.ok(!all.includes(SECRET.slice(0, 20)), "a token prefix leaked into the output");
});

Deno.test("a malformed aliases file stops the start-up with an error naming the file", async () => {
  const { code, stderr } = await runMain(["--port", "0"], { CHUTES_API_TOKEN: SECRET }, {
    prepare: (cwd) => Deno.writeTextFile(`${cwd}/aliases.json`, "{not json"),
  });
  assert.equal(code, 2);
  assert.match(stderr, /^error: aliases file aliases\.json: not valid JSON/m);
});

Deno.test("a port in use or an address not of this machine: one line naming it and the fix, exit 2", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = taken.addr.port;
  const inUse = await runMain(["--port", String(port)], { CHUTES_API_TOKEN: SECRET });
  assert.equal(inUse.code, 2, inUse.stderr);
  const lines = inUse.stderr.trim().split("\n");
  assert.equal(lines.length, 1, inUse.stderr);
  assert.match(
    lines[0]!,
    new RegExp(
      `^error: cannot listen on 127\\.0\\.0\\.1:${port}: the port is already in use .*OLLAMA_HOST=127\\.0\\.0\\.1:11435`,
    ),
  );
  const foreign = await runMain(["--host", "192.0.2.1:11434"], { CHUTES_API_TOKEN: SECRET });
  assert.equal(foreign.code, 2, foreign.stderr);
  assert.match(
    foreign.stderr,
    /^error: cannot listen on 192\.0\.2\.1:11434: that is not an address of this machine/,
  );
  assert.equal(foreign.stderr.trim().split("\n").length, 1);
});

Deno.test("at start-up: a refused token is an ERROR line and /readyz's reason; a failed listing is retried", async () => {
  await using upstream = FakeUpstream.start();
  upstream.modelsReply = { status: 503, json: { detail: "booting" } };
  upstream.probeReply = { status: 401, json: { detail: "Authentication required." } };
  const proxy = await spawnMain(["--port", "0"], {
    CHUTES_API_TOKEN: SECRET,
    CHUTES_BASE_URL: upstream.url,
  }, { prepare: (cwd) => Deno.writeTextFile(`${cwd}/config.json`, '{"retry_attempts": 1}') });
  try {
    const [, base] = await proxy.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 10_000);
    await proxy.waitFor(/ERROR the upstream refused the API token \(HTTP 401: .*CHUTES_API_TOKEN=/);
    await proxy.waitFor(
      /WARN model listing failed: .*booting; no model list yet: .*retrying in 1 s/,
    );
    upstream.modelsReply = undefined;
    await proxy.waitFor(/INFO model listing succeeded: 4 models/, 5000);
    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 503);
    assert.match((await ready.json()).reason, /refused the API token.*CHUTES_API_TOKEN/);
  } finally {
    await proxy.stop();
  }
  assert.ok(!proxy.output().includes(SECRET));
});
