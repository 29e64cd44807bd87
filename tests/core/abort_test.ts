/**
 * Client aborts at scale: many streams abandoned mid-way, on /api/chat and /v1, leave no
 * upstream request open (the fake upstream counts open streams) and no growth in open file
 * descriptors of the test process, which hosts the proxy.
 */
import assert from "node:assert/strict";
import { chunk, sse } from "../_fake_upstream.ts";
import { post, startProxy } from "../_helpers.ts";

const QWEN = "Qwen/Qwen3-32B-TEE";

/** Open descriptors of this process (Deno only lets `--allow-all` read /proc/self, so ask ls). */
async function openFds(): Promise<number> {
  const out = await new Deno.Command("ls", { args: [`/proc/${Deno.pid}/fd`], stdout: "piped" })
    .output();
  return new TextDecoder().decode(out.stdout).trim().split("\n").length;
}

async function settle(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
}

Deno.test({
  name: "200 streams aborted mid-way leave no upstream request open and no descriptor growth",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    await using p = startProxy();
    const round = async (n: number) => {
      await Promise.all(Array.from({ length: n }, async (_, i) => {
        const path = i % 2 === 0 ? "/api/chat" : "/v1/chat/completions";
        p.upstream.enqueue("/v1/chat/completions", {
          pieces: sse([chunk({ content: "x" }), chunk({ content: "y" })], { done: false }),
          hang: true,
        });
        const controller = new AbortController();
        const res = await post(p, path, {
          model: QWEN,
          messages: [{ role: "user", content: "hi" }],
          stream: true,
        }, {
          signal: controller.signal,
        });
        const reader = res.body!.getReader();
        await reader.read();
        controller.abort();
        await reader.closed.catch(() => {});
      }));
      await settle(() => p.upstream.openStreams === 0);
    };
    await round(20); // warm up pools and caches
    const before = await openFds();
    await round(100);
    await round(100);
    assert.equal(p.upstream.openStreams, 0);
    assert.equal(p.upstream.cancelledStreams, 220);
    let after = await openFds();
    for (let i = 0; i < 50 && after > before + 5; i++) {
      await new Promise((r) => setTimeout(r, 20));
      after = await openFds();
    }
    assert.ok(after <= before + 5, `descriptors grew from ${before} to ${after}`);
  },
});
