/**
 * Graceful shutdown of the real process: on SIGTERM it stops accepting, lets an open stream
 * run until the grace period ends, then ends it with one error line, and exits with status 0 —
 * also when a client stopped reading. A Ctrl+C delivered twice at once (as under `deno task`)
 * drains; a later one cuts.
 */
import assert from "node:assert/strict";
import { chunk, FakeUpstream, sse, textStream } from "../_fake_upstream.ts";
import { spawnMain } from "../_process.ts";
import { connect } from "../_raw_http.ts";

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

/** main.ts on port 0 with `config`, in front of `upstream`; its base URL once it listens. */
async function startMain(upstream: FakeUpstream, config: Record<string, unknown>) {
  const proxy = await spawnMain(["--port", "0"], {
    CHUTES_API_TOKEN: "cpk_made_up_shutdown_token",
    CHUTES_BASE_URL: upstream.url,
  }, { prepare: (dir) => Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(config)) });
  const [, url] = await proxy.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 15_000);
  return { proxy, url: url! };
}

/** Resolves with the exit status, or with "still running" after `ms`. */
function exitWithin(exited: Promise<Deno.CommandStatus>, ms: number) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"still running">((r) =>
    timer = setTimeout(() => r("still running"), ms)
  );
  return Promise.race([exited, late]).finally(() => clearTimeout(timer));
}

Deno.test({
  name:
    "SIGTERM with a client that stopped reading: the process still exits after the grace period",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const upstream = FakeUpstream.start();
    const { proxy, url } = await startMain(upstream, { shutdown_grace_seconds: 0.5 });
    const conn = await connect(url);
    try {
      // Far more than the socket buffers hold: the answer can never be flushed to this client.
      upstream.enqueue("/v1/chat/completions", {
        pieces: textStream(Array.from({ length: 400 }, () => "x".repeat(64 * 1024))),
      });
      const body = JSON.stringify({
        model: "Qwen/Qwen3-32B-TEE",
        messages: [{ role: "user", content: "hi" }],
      });
      await conn.write(new TextEncoder().encode(
        `POST /api/chat HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
      ));
      while (upstream.calls("/v1/chat/completions").length === 0) {
        await new Promise((r) => setTimeout(r, 10));
      }
      await new Promise((r) => setTimeout(r, 300)); // let the buffers fill
      const status = await exitWithin(proxy.stop("SIGTERM"), 8000);
      assert.notEqual(status, "still running", proxy.output());
      assert.equal((status as Deno.CommandStatus).code, 0);
      assert.match(proxy.output(), /the grace period is over: cutting open streams now/);
    } finally {
      conn.close();
      await proxy.stop("SIGKILL");
      await upstream.close();
    }
  },
});

Deno.test({
  name: "Ctrl+C delivered twice at once (deno task forwards it too) drains; a later one cuts",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const upstream = FakeUpstream.start();
    const { proxy, url } = await startMain(upstream, { shutdown_grace_seconds: 30 });
    try {
      // The upstream's next token comes well after the keypress: receiving it (and not the cut
      // line) is what proves the open stream was left to drain.
      upstream.enqueue("/v1/chat/completions", {
        pieces: sse([chunk({ content: "before" }), chunk({ content: "after" })], { done: false }),
        delayMs: 1500,
        hang: true,
      });
      const res = await fetch(`${url}/api/chat`, {
        method: "POST",
        body: JSON.stringify({
          model: "Qwen/Qwen3-32B-TEE",
          messages: [{ role: "user", content: "hi" }],
        }),
      });
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      const next = async () => JSON.parse(decoder.decode((await reader.read()).value).trim());
      assert.equal((await next()).message.content, "before");
      // What a terminal's Ctrl+C under `deno task start` delivers: the process group's SIGINT
      // and the one deno task forwards, microseconds apart. (50 ms here: two signals closer than
      // the process takes to handle one may be merged by the kernel, and the test must see two.)
      const exited = proxy.stop("SIGINT");
      await new Promise((r) => setTimeout(r, 50));
      void proxy.stop("SIGINT");
      await proxy.waitFor(/shutting down \(SIGINT\)/);
      assert.equal((await next()).message.content, "after", "one Ctrl+C cut the open stream");
      assert.doesNotMatch(proxy.output(), /cutting open streams/);
      void proxy.stop("SIGINT"); // a second, deliberate Ctrl+C
      let rest = "";
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        rest += decoder.decode(r.value);
      }
      assert.equal(
        rest.trim().split("\n").at(-1),
        '{"error":"the proxy is shutting down; the answer was cut"}',
      );
      assert.equal((await exited).code, 0);
      assert.match(proxy.output(), /second signal: cutting open streams now/);
    } finally {
      await proxy.stop("SIGKILL");
      await upstream.close();
    }
  },
});
