/**
 * Graceful shutdown of the real process: on SIGTERM it stops accepting, lets an open stream
 * run until the grace period ends, then ends it with one error line, and exits with status 0.
 */
import assert from "node:assert/strict";
import { chunk, FakeUpstream, sse } from "./_fake_upstream.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

async function waitFor(check: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test({
  name: "SIGTERM: open streams get the grace period, then a final error line; exit status 0",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const upstream = FakeUpstream.start();
    const dir = await Deno.makeTempDir({ prefix: "shutdown_test_" });
    await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify({ shutdown_grace_seconds: 0.5 }));
    const env: Record<string, string> = {
      CHUTES_API_TOKEN: "cpk_made_up_shutdown_token",
      CHUTES_BASE_URL: upstream.url,
    };
    for (const key of ["PATH", "HOME", "DENO_DIR"]) {
      const v = Deno.env.get(key);
      if (v !== undefined) env[key] = v;
    }
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--unstable-no-legacy-abort",
        "--allow-net",
        "--allow-env",
        "--allow-read",
        "--allow-write",
        MAIN,
        "--port",
        "0",
      ],
      cwd: dir,
      env,
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn(); // deno-fmt-ignore
    const out = { text: "" };
    const pump = (async () => {
      const decoder = new TextDecoder();
      for await (const bytes of child.stdout) out.text += decoder.decode(bytes, { stream: true });
    })();
    const errText = new Response(child.stderr).text();
    try {
      await waitFor(() => /listening on http:\/\/127\.0\.0\.1:\d+/.test(out.text), 15_000);
      const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out.text)![1];
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
      child.kill("SIGTERM");
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
      const status = await child.status;
      assert.equal(status.code, 0);
      assert.match(out.text, /shutting down/);
    } finally {
      try {
        child.kill("SIGKILL");
      } catch {
        // already exited
      }
      await child.status;
      await pump;
      await errText;
      await upstream.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
