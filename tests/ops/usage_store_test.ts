/**
 * Usage that survives restarts: counted per hour, model, door and access-key name in an SQLite
 * file (WAL) in the state directory; still there after a real restart of the proxy process;
 * shown on /ui/data as today, this week and this month; hours past the retention deleted; a
 * corrupt or unusable file reported while the proxy keeps serving; keys named, never stored.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { createLogger } from "../../lib/base/log.ts";
import { periodStarts, UsageStore } from "../../lib/ops/usage_store.ts";
import { FakeUpstream, textStream } from "../_fake_upstream.ts";
import { ndjson, post, startProxy } from "../_helpers.ts";
import { spawnMain } from "../_process.ts";

const QWEN = "Qwen/Qwen3-32B-TEE";
const CHAT = "/v1/chat/completions";
const KEY = "usage-test-key-made-up-0123456789";
const quiet = createLogger({ debug: false, secrets: [], sink: () => {} });

async function sha256Hex(text: string): Promise<string> {
  const hash = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function startAndChat(
  dir: string,
  upstream: FakeUpstream,
  chats: number,
): Promise<Record<string, unknown>> {
  const proxy = await spawnMain([], {
    CHUTES_API_TOKEN: "cpk_usage_test_made_up",
    CHUTES_BASE_URL: upstream.url,
    CHUTES_MANAGEMENT_BASE_URL: upstream.origin,
    PROXY_STATE_DIR: dir,
    PROXY_API_KEYS: KEY,
    OLLAMA_HOST: "127.0.0.1:0",
  });
  try {
    const [, url] = await proxy.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 15_000);
    const auth = { authorization: `Bearer ${KEY}` };
    for (let i = 0; i < chats; i++) {
      upstream.enqueue(CHAT, { pieces: textStream(["a", "b"]) });
      const res = await fetch(`${url}/api/chat`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ model: QWEN, messages: [{ role: "user", content: "hi" }] }),
      });
      assert.equal(res.status, 200);
      await res.text();
    }
    // The access-log line (and the usage row) is written when the stream has ended.
    await proxy.waitFor(new RegExp(`(POST /api/chat 200 .*){${chats}}`, "s"));
    return await (await fetch(`${url}/ui/data`, { headers: auth })).json();
  } finally {
    await proxy.stop();
  }
}

Deno.test("usage persists across a real restart of the proxy, per model, door and key name", async () => {
  const dir = await Deno.makeTempDir({ prefix: "usage_state_" });
  await using upstream = FakeUpstream.start();
  try {
    const first = await startAndChat(dir, upstream, 2);
    const stored1 = first.stored_usage as Record<string, Record<string, unknown>>;
    assert.equal(stored1.today!.requests, 2);
    const second = await startAndChat(dir, upstream, 1);
    const stored = second.stored_usage as Record<string, unknown>;
    assert.equal(stored.where, `${dir}/usage.sqlite`);
    assert.equal(stored.problem, null);
    const label = `key-${(await sha256Hex(KEY)).slice(0, 8)}`;
    for (const period of ["today", "week", "month"]) {
      const p = stored[period] as Record<string, unknown>;
      assert.equal(p.requests, 3, period);
      assert.equal(p.tokens_in, 30);
      assert.equal(p.tokens_out, 6);
      assert.ok(Math.abs((p.cost_usd as number) - (30 * 0.104 + 6 * 0.416) / 1e6) < 1e-12);
      assert.deepEqual((p.by_door as { door: string }[]).map((d) => d.door), ["ollama"]);
      assert.deepEqual((p.by_model as { model: string }[]).map((d) => d.model), [QWEN]);
      assert.deepEqual((p.by_key as { key_name: string }[]).map((d) => d.key_name), [label]);
    }
    // The process-local counters started again from zero.
    assert.equal((second.usage as { tokens_in: number }[])[0]!.tokens_in, 10);
    const db = new DatabaseSync(`${dir}/usage.sqlite`);
    try {
      assert.deepEqual({ ...db.prepare("PRAGMA journal_mode").get() }, { journal_mode: "wal" });
      const text = JSON.stringify(db.prepare("SELECT * FROM usage_hourly").all());
      assert.ok(!text.includes(KEY), "the key itself was stored");
    } finally {
      db.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("hours older than the retention are deleted when the store opens", async () => {
  const dir = await Deno.makeTempDir({ prefix: "usage_retention_" });
  try {
    const now = Date.UTC(2026, 5, 15, 12);
    const day = 86_400_000;
    const event = (at: number) => ({
      at,
      model: "m",
      door: "ollama",
      keyName: "",
      failed: false,
      tokensIn: 1,
      tokensOut: 1,
      costUsd: null,
    });
    const first = UsageStore.open(`${dir}/usage.sqlite`, {
      retentionDays: 90,
      now: () => now,
      log: quiet,
    });
    first.add(event(now - 91 * day));
    first.add(event(now - 89 * day));
    first.add(event(now));
    assert.equal(first.since(0).requests, 3);
    first.close();
    const later = UsageStore.open(`${dir}/usage.sqlite`, {
      retentionDays: 90,
      now: () => now,
      log: quiet,
    });
    assert.equal(later.since(0).requests, 2);
    assert.equal(later.since(periodStarts(now).today).requests, 1);
    later.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a corrupt usage file is reported; the proxy serves on and counts in memory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "usage_corrupt_" });
  try {
    const path = `${dir}/usage.sqlite`;
    await Deno.writeTextFile(path, "this is not an SQLite database\n".repeat(200));
    const logs: string[] = [];
    const log = createLogger({ debug: false, secrets: [], sink: (_l, line) => logs.push(line) });
    const usageStore = UsageStore.open(path, { retentionDays: 90, log });
    await using p = startProxy({ usageStore });
    p.upstream.enqueue(CHAT, { pieces: textStream(["ok"]) });
    const hi = [{ role: "user", content: "hi" }];
    assert.equal(
      (await ndjson(await post(p, "/api/chat", { model: QWEN, messages: hi }))).length,
      2,
    );
    p.upstream.enqueue(CHAT, { pieces: textStream(["ok"]) });
    const res = await post(p, "/api/chat", {
      model: QWEN,
      messages: [{ role: "user", content: "hi" }],
      stream: false,
    });
    assert.equal(res.status, 200);
    await res.body?.cancel();
    for (let i = 0; i < 50 && p.deps.metrics.recent().length < 2; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const data = await (await fetch(`${p.url}/ui/data`)).json();
    assert.match(
      data.stored_usage.problem,
      /^cannot open the usage database .*usage\.sqlite: .*not a database.*; usage is counted in memory only until the proxy restarts$/,
    );
    assert.equal(data.stored_usage.where, "memory");
    assert.equal(data.stored_usage.today.requests, 2);
    assert.ok(logs.some((l) => / ERROR cannot open the usage database /.test(l)));
    // The file was left as it was, for the user to look at.
    assert.match(await Deno.readTextFile(path), /^this is not an SQLite database/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an unusable usage path (a directory) is reported the same way", async () => {
  const dir = await Deno.makeTempDir({ prefix: "usage_unusable_" });
  try {
    await Deno.mkdir(`${dir}/usage.sqlite`);
    const store = UsageStore.open(`${dir}/usage.sqlite`, { retentionDays: 90, log: quiet });
    assert.match(store.problem ?? "", /^cannot open the usage database /);
    store.add({
      at: Date.now(),
      model: "m",
      door: "openai",
      keyName: "",
      failed: true,
      tokensIn: 0,
      tokensOut: 0,
      costUsd: null,
    });
    assert.deepEqual([store.since(0).requests, store.since(0).errors], [1, 1]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("key_names names a key on /ui/data and in the log; the key itself never appears", async () => {
  const prefix = (await sha256Hex(KEY)).slice(0, 12);
  await using p = startProxy({ config: { api_keys: [KEY], key_names: { laptop: prefix } } });
  p.upstream.enqueue(CHAT, { pieces: textStream(["a"]) });
  const auth = { headers: { authorization: `Bearer ${KEY}` } };
  await ndjson(
    await post(p, "/api/chat", { model: QWEN, messages: [{ role: "user", content: "x" }] }, auth),
  );
  for (let i = 0; i < 50 && !p.logs.some((l) => l.includes("POST /api/chat 200")); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const text = await (await fetch(`${p.url}/ui/data`, auth)).text();
  const data = JSON.parse(text);
  assert.equal(data.recent[0].keyName, "laptop");
  assert.deepEqual(data.stored_usage.today.by_key.map((k: { key_name: string }) => k.key_name), [
    "laptop",
  ]);
  assert.ok(p.logs.some((l) => / INFO POST \/api\/chat 200 .* key=laptop$/.test(l)));
  assert.ok(!text.includes(KEY));
  assert.ok(!p.logs.join("\n").includes(KEY));
});

Deno.test("the key that matched names the request, whichever header carried it", async () => {
  const prefix = (await sha256Hex(KEY)).slice(0, 12);
  await using p = startProxy({ config: { api_keys: [KEY], key_names: { laptop: prefix } } });
  const ask = { model: QWEN, max_tokens: 8, messages: [{ role: "user", content: "x" }] };
  const cases: Record<string, string>[] = [
    { "x-api-key": KEY }, // Claude Code with ANTHROPIC_API_KEY
    { "x-api-key": KEY, authorization: "Bearer ollama" }, // and ANTHROPIC_AUTH_TOKEN=ollama
  ];
  for (const headers of cases) {
    p.upstream.enqueue(CHAT, { pieces: textStream(["a"]) });
    const res = await post(p, "/v1/messages", ask, {
      headers: { "content-type": "application/json", ...headers },
    });
    assert.equal(res.status, 200);
    await res.json();
  }
  for (
    let i = 0;
    i < 50 && p.logs.filter((l) => l.includes("POST /v1/messages 200")).length < 2;
    i++
  ) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const lines = p.logs.filter((l) => l.includes("POST /v1/messages 200"));
  assert.equal(lines.length, 2);
  for (const line of lines) assert.match(line, / key=laptop$/);
});
