/**
 * Graceful shutdown of the real process: on SIGTERM it stops accepting, lets an open stream
 * run until the grace period ends, then ends it with one error line, and exits with status 0.
 */
import assert from "node:assert/strict";
import { chunk, FakeUpstream, sse } from "../_fake_upstream.ts";
import { spawnMain } from "../_process.ts";

Deno.test({
  name: "SIGTERM: open streams get the grace period, then a final error line; exit status 0",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const upstream = FakeUpstream.start();
    const proxy = await spawnMain(["--port", "0"], {
      CHUTES_API_TOKEN: "cpk_made_up_shutdown_token",
      CHUTES_BASE_URL: upstream.url,
    }, {
      prepare: (dir) =>
        Deno.writeTextFile(`${dir}/config.json`, JSON.stringify({ shutdown_grace_seconds: 0.5 })),
    });
    try {
      await proxy.waitFor(/listening on http:\/\/127\.0\.0\.1:\d+/, 15_000);
      const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(proxy.stdout())![1];
      upstream.enqueue("/v1/chat/completions", {
        pieces: sse([chunk({ content: "before shutdown" })], { done: false }),
        hang: true,
      });
      const res = await fetch(`http://127.0.0.1:${port}/api/chat`, {
        method: "POST",
        body: JSON.stringify({
          model: "Qwen/Qwen3-32B-TEE",
          messages: [{ role: "user", content: "hi" }],
        }),
      });
      const reader = res.body!.getReader();
      await reader.read();
      const signalled = Date.now();
      const exited = proxy.stop("SIGTERM");
      let rest = "";
      const decoder = new TextDecoder();
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        rest += decoder.decode(r.value);
      }
      const elapsed = Date.now() - signalled;
      assert.equal(
        rest.trim().split("\n").at(-1),
        '{"error":"the proxy is shutting down; the answer was cut"}',
      );
      assert.ok(elapsed >= 400, `cut after ${elapsed} ms, before the grace period`);
      const status = await exited;
      assert.equal(status.code, 0);
      assert.match(proxy.stdout(), /shutting down/);
    } finally {
      await proxy.stop("SIGKILL");
      await upstream.close();
    }
  },
});
