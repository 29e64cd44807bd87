/**
 * Response headers built from client text: a control character in an option name (which the
 * Ollama door reports in `X-Proxy-Ignored-Options`) is escaped at the edge for every route. Sent
 * raw, it made Deno's HTTP/1 writer panic, which ended the proxy for every client.
 */
import assert from "node:assert/strict";
import { post, startProxy } from "../_helpers.ts";

Deno.test("HTTP: an option name with a control character is answered, and the proxy lives on", async () => {
  await using p = startProxy();
  p.upstream.enqueue("/v1/embeddings", {
    json: { data: [{ index: 0, embedding: [0.5, 0.25] }], usage: { prompt_tokens: 1 } },
  });
  const res = await post(p, "/api/embed", {
    model: "Qwen/Qwen3-32B-TEE",
    input: "hi",
    options: { "opt\u001b[2J\u0007": 1 },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-proxy-ignored-options"), "opt\\x1b[2J\\x07");
  await res.body?.cancel();
  const after = await fetch(`${p.url}/api/version`);
  assert.equal(after.status, 200);
  await after.body?.cancel();
});
