/**
 * The upstream answers that are not streamed on: redirects are refused (502 naming the status
 * and `Location`, nothing sent to the other origin) for chat, embeddings and the model listing;
 * every secret an upstream echoes is redacted before any cut, in answers and in debug logs; and
 * a model listing over the cap is not read, the last good list staying in place.
 */
import assert from "node:assert/strict";
import { FakeUpstream, textStream } from "../_fake_upstream.ts";
import { post, startProxy, TEST_TOKEN } from "../_helpers.ts";
import { MAX_LISTING_BYTES } from "../../lib/upstream/client.ts";
import { readCapped, Secrets } from "../../lib/upstream/answers.ts";
import type { ChunkSource } from "../../lib/upstream/transport.ts";

const QWEN = "Qwen/Qwen3-32B-TEE";
const CHAT = "/v1/chat/completions";
const EMBED = "/v1/embeddings";
const ask = { model: QWEN, messages: [{ role: "user", content: "hi" }] };
/** A made-up access key, long enough for any key rule. */
const KEY = "proxy-key-0123456789abcdef";

/** Every prefix of `secret` of 8 characters or more that occurs in `text`. */
function prefixesIn(text: string, secret: string): string[] {
  const found: string[] = [];
  for (let n = 8; n <= secret.length; n++) {
    if (text.includes(secret.slice(0, n))) found.push(secret.slice(0, n));
  }
  return found;
}

Deno.test("a redirect from the upstream is refused with 502 naming it; nothing goes to its target", async () => {
  await using foreign = FakeUpstream.start();
  await using p = startProxy({ config: { models: [QWEN] } });
  const location = `${foreign.url}/chat/completions`;
  const cases: [string, Record<string, unknown>, string, number][] = [
    ["/api/chat", ask, CHAT, 301],
    ["/api/chat", { ...ask, stream: false }, CHAT, 302],
    ["/v1/chat/completions", { ...ask, stream: true }, CHAT, 307],
    ["/v1/embeddings", { model: "BAAI/bge-m3", input: "a" }, EMBED, 308],
    ["/api/embed", { model: "BAAI/bge-m3", input: "a" }, EMBED, 303],
  ];
  for (const [path, body, upstreamPath, status] of cases) {
    p.upstream.enqueue(upstreamPath, { status, text: "", headers: { location } });
    const res = await post(p, path, body);
    const text = await res.text();
    assert.equal(res.status, 502, `${path} ${status}: ${text}`);
    assert.ok(
      text.includes(`answered ${status} (a redirect to ${location})`),
      `${path} ${status}: ${text}`,
    );
    assert.match(text, /redirects are not followed/);
  }
  p.upstream.modelsReply = {
    status: 302,
    text: "",
    headers: { location: `${foreign.url}/models` },
  };
  await p.deps.catalogue.refresh();
  assert.ok(p.logs.some((l) => l.includes("answered 302 (a redirect to") && l.includes("/models")));
  assert.deepEqual(foreign.requests, [], "a request followed the redirect");
  assert.equal(p.upstream.calls(CHAT).length, 3, "a redirect was retried");
});

Deno.test("a model listing redirected elsewhere does not replace the list", async () => {
  await using foreign = FakeUpstream.start();
  foreign.models = [{ id: "evil/model" }];
  await using p = startProxy();
  await p.deps.catalogue.refresh();
  p.upstream.modelsReply = {
    status: 301,
    text: "",
    headers: { location: `${foreign.url}/models` },
  };
  await p.deps.catalogue.refresh();
  const names = (await (await fetch(`${p.url}/api/tags`)).json()).models.map(
    (m: { name: string }) => m.name,
  );
  assert.ok(names.includes(`${QWEN}:latest`) || names.includes(QWEN), names.join(", "));
  assert.ok(!names.some((n: string) => n.startsWith("evil/")));
  assert.deepEqual(foreign.requests, []);
});

Deno.test("every secret an upstream echoes is redacted from answers and debug logs, before any cut", async () => {
  await using p = startProxy({ config: { api_keys: [KEY], debug: true } });
  const auth = { headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` } };
  // The key sits in the message; the token straddles the debug log's 2,000-character cut.
  const prefix = `upstream ${CHAT.slice(3)} → 400: `;
  p.upstream.enqueue(CHAT, { status: 400, text: `${KEY} ${"e".repeat(1988)} ${TEST_TOKEN}` });
  const res = await post(p, "/api/chat", ask, auth);
  const text = await res.text();
  assert.equal(res.status, 400);
  assert.match(text, /^\{"error":"\[redacted\] e+/);
  // The request body in the debug log, with the token across its cut too.
  p.upstream.enqueue(CHAT, { pieces: textStream(["ok"]) });
  const probe = { ...ask, messages: [{ role: "user", content: "probe" }] };
  await (await post(p, "/api/chat", probe, auth)).text();
  const at = JSON.stringify(p.upstream.calls(CHAT)[1]!.body).indexOf("probe");
  const content = `${"c".repeat(2000 - at - 13)} ${TEST_TOKEN}`;
  p.upstream.enqueue(CHAT, { pieces: textStream(["ok"]) });
  await (await post(p, "/api/chat", { ...ask, messages: [{ role: "user", content }] }, auth))
    .text();
  const logs = p.logs.join("\n");
  assert.ok(logs.includes(`${prefix}[redacted] eee`), logs.slice(0, 300));
  assert.match(logs, /upstream POST \/chat\/completions .*"content":"c+ \[redacted\]/);
  for (const secret of [TEST_TOKEN, KEY]) {
    assert.deepEqual(prefixesIn(text, secret), [], "in the answer");
    assert.deepEqual(prefixesIn(logs, secret), [], "in the log");
  }
});

Deno.test("Secrets: redacts every secret, then cuts; blanks are ignored", () => {
  const secrets = new Secrets(["", "s3cret-value-1", "another-secret"]);
  assert.equal(secrets.longest, 14);
  assert.equal(secrets.redact("a s3cret-value-1 b another-secret"), "a [redacted] b [redacted]");
  assert.equal(secrets.cut(`${"a".repeat(5)} s3cret-value-1`, 9), "aaaaa [re…");
  assert.equal(new Secrets([]).redact("as it is"), "as it is");
});

/** A source serving `pieces`, recording whether it was cancelled. */
function pieces(list: string[]): ChunkSource & { cancelled: boolean } {
  const queue = list.map((p) => new TextEncoder().encode(p));
  const source = {
    cancelled: false,
    read: () => Promise.resolve(queue.shift()),
    cancel: () => void (source.cancelled = true),
  };
  return source;
}

Deno.test("readCapped: reads up to the cap; past it refuses (or cuts) and cancels the body", async () => {
  assert.equal(await readCapped(pieces(["ab", "cd"]), 4, "x"), "abcd");
  const over = pieces(["ab", "cde"]);
  await assert.rejects(() => readCapped(over, 4, "the listing"), {
    status: 502,
    message: `the listing is larger than ${4 / (1024 * 1024)} MiB; not read`,
  });
  assert.ok(over.cancelled);
  const said = pieces(["ab"]);
  await assert.rejects(() => readCapped(said, 4, "x", { contentLength: 5 }), { status: 502 });
  assert.ok(said.cancelled);
  const cut = pieces(["ab", "cde", "f"]);
  assert.equal(await readCapped(cut, 4, "x", { cut: true }), "abcd");
  assert.ok(cut.cancelled);
});

Deno.test("a model listing over the cap is not read, and the last good list stays", async () => {
  await using p = startProxy();
  await p.deps.catalogue.refresh();
  const big = {
    data: [{ id: "huge/model", object: "model", pad: "x".repeat(MAX_LISTING_BYTES) }],
  };
  const text = JSON.stringify(big);
  // Once with its length in the headers, once chunked (no length), as a streamed body.
  p.upstream.modelsReply = { text };
  await p.deps.catalogue.refresh();
  const mib = MAX_LISTING_BYTES / (1024 * 1024);
  p.upstream.modelsReply = {
    pieces: Array.from(
      { length: 9 },
      (_, i) => text.slice(i * mib * 2 ** 17, (i + 1) * mib * 2 ** 17),
    )
      .concat(text.slice(9 * mib * 2 ** 17)),
  };
  await p.deps.catalogue.refresh();
  const warnings = p.logs.filter((l) =>
    l.includes(`the upstream /models answer is larger than ${mib} MiB; not read`)
  );
  assert.equal(warnings.length, 2, p.logs.join("\n"));
  const tags = (await (await fetch(`${p.url}/api/tags`)).json()).models;
  assert.ok(tags.length > 1);
  assert.ok(!tags.some((m: { name: string }) => m.name.startsWith("huge/")));
});
