/**
 * Response headers built from client text: a control character in an option name (which the
 * Ollama door reports in `X-Proxy-Ignored-Options`) is escaped at the edge. Sent raw, it made
 * Deno's HTTP/1 writer panic, which ended the proxy for every client.
 */
import assert from "node:assert/strict";
import { textStream } from "../_fake_upstream.ts";
import { post, startProxy } from "../_helpers.ts";

Deno.test("HTTP: an option name with a control character is answered, and the proxy lives on", async () => {
  await using p = startProxy();
  p.upstream.enqueue("/v1/chat/completions", { pieces: textStream(["hi"]) });
  const res = await post(p, "/api/chat", {
    model: "Qwen/Qwen3-32B-TEE",
    stream: false,
    messages: [{ role: "user", content: "hi" }],
    options: { "opt\u001b[2J\u0007": 1 },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-proxy-ignored-options"), "opt\\x1b[2J\\x07 (unknown)");
  await res.body?.cancel();
  const after = await fetch(`${p.url}/api/version`);
  assert.equal(after.status, 200);
  await after.body?.cancel();
});
