/**
 * The catalogue after a failed listing and while idle: a background loop retries a failed
 * listing with capped backoff (first retries within seconds) and keeps a good list fresh with no
 * traffic; a name not found before any list starts a new listing, so `/api/pull` works as soon
 * as the upstream is back; the log never claims a "last known list" when there is none; a
 * stale list is refreshed by `/readyz` itself, so an idle healthy proxy stays ready.
 */
import assert from "node:assert/strict";
import { createApp, startBackground } from "../../lib/app.ts";
import { startServer } from "../../lib/server/serve.ts";
import { FakeUpstream } from "../_fake_upstream.ts";
import { startProxy, testConfig } from "../_helpers.ts";

const MODELS = "/v1/models";

async function until(what: string, test: () => Promise<boolean> | boolean, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("a failed first listing is retried in the background until /readyz is ready, with honest logs", async () => {
  await using p = startProxy({ config: { retry_attempts: 1 } });
  p.upstream.modelsReply = { status: 503, json: { detail: "down" } };
  const background = new AbortController();
  const running = startBackground(p.deps, background.signal, {
    checkToken: false,
    firstRetryMs: 20,
  });
  try {
    await until("two failed listings", () => p.upstream.calls(MODELS).length >= 2);
    const down = await fetch(`${p.url}/readyz`);
    assert.equal(down.status, 503);
    assert.match(
      (await down.json()).reason,
      /has not been fetched yet \(the last attempt failed: .*down/,
    );
    p.upstream.modelsReply = undefined;
    await until("ready", async () => {
      const res = await fetch(`${p.url}/readyz`);
      await res.body?.cancel();
      return res.status === 200;
    });
  } finally {
    background.abort();
    await running;
  }
  const failures = p.logs.filter((l) => l.includes("model listing failed"));
  assert.ok(failures.length >= 2);
  for (const line of failures) {
    assert.match(
      line,
      /no model list yet: model names pass through to the upstream unchecked; retrying in \d+ ms$/,
    );
    assert.doesNotMatch(line, /last known list/);
  }
  assert.ok(p.logs.some((l) => / INFO model listing succeeded: \d+ models$/.test(l)));
});

Deno.test("a failure after a good list says which list is kept", async () => {
  await using p = startProxy({ config: { retry_attempts: 1 } });
  assert.equal(await p.deps.catalogue.refresh(), true);
  p.upstream.modelsReply = { status: 500, json: { detail: "boom" } };
  assert.equal(await p.deps.catalogue.refresh(), false);
  assert.match(
    p.logs.at(-1)!,
    /model listing failed: .*boom; keeping the list of 4 models fetched 0 s ago$/,
  );
});

Deno.test("/api/pull right after the upstream came back succeeds: a name not found lists again", async () => {
  await using p = startProxy({ config: { retry_attempts: 1 } });
  p.upstream.modelsReply = { status: 503, json: { detail: "down" } };
  await p.deps.catalogue.refresh();
  p.upstream.modelsReply = undefined;
  await new Promise((r) => setTimeout(r, 300)); // at most one on-demand listing per 250 ms
  const pull = await fetch(`${p.url}/api/pull`, {
    method: "POST",
    body: JSON.stringify({ model: "Qwen/Qwen3-32B-TEE", stream: false }),
  });
  assert.equal(pull.status, 200, await pull.clone().text());
  assert.deepEqual(await pull.json(), { status: "success" });
  assert.equal(p.deps.catalogue.live, true);
});

Deno.test("while idle, the background loop keeps listing every period", async () => {
  await using p = startProxy();
  const background = new AbortController();
  const running = startBackground(p.deps, background.signal, { checkToken: false });
  try {
    await until("the first listing", () => p.deps.catalogue.live);
  } finally {
    background.abort();
    await running;
  }
  // The period is catalogue_ttl_seconds (30 s at least); the loop's schedule itself is proven
  // with a short period on the function the app uses.
  const { keepFresh } = await import("../../lib/models/freshness.ts");
  const before = p.upstream.calls(MODELS).length;
  const fast = new AbortController();
  const loop = keepFresh(p.deps.catalogue, fast.signal, { periodMs: 30 });
  await until("three idle listings", () => p.upstream.calls(MODELS).length >= before + 3);
  fast.abort();
  await loop;
});

Deno.test("an idle proxy whose list is older than the readiness window is refreshed by /readyz", async () => {
  await using upstream = FakeUpstream.start();
  let wall = Date.parse("2026-01-01T00:00:00Z");
  const { deps, handler } = createApp(testConfig(upstream.url), {
    wallNow: () => wall,
    logSink: () => {},
  });
  await using server = startServer({ host: "127.0.0.1", port: 0, log: deps.log }, handler);
  const url = `http://127.0.0.1:${server.addr.port}`;
  await deps.catalogue.refresh();
  wall += 700_000; // ten minutes and more without traffic
  const res = await fetch(`${url}/readyz`);
  assert.equal(res.status, 200, JSON.stringify(await res.clone().json()));
  assert.equal((await res.json()).catalogue_age_seconds, 0);
  assert.equal(upstream.calls(MODELS).length, 2);
});
