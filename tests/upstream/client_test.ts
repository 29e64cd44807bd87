/**
 * Fault tests for the upstream client through the whole proxy: retry-then-success, the retry
 * budget, Retry-After, no retry for client/auth/quota errors, connection refused, one first-byte
 * budget for all attempts, a client that leaves before the first byte, a stall mid-stream, a
 * stream that outlasts the first-byte time-out, a connection that breaks mid-stream. Each asserts the exact status and body or final line, and that nothing
 * hangs (time-outs are set to a fraction of a second).
 */
import assert from "node:assert/strict";
import { chunk, sse, textStream } from "../_fake_upstream.ts";
import { ndjson, post, startProxy } from "../_helpers.ts";

const QWEN = "Qwen/Qwen3-32B-TEE";
const CHAT = "/v1/chat/completions";
const ask = { model: QWEN, messages: [{ role: "user", content: "hi" }] };
const capacity = {
  status: 429,
  json: { detail: "Infrastructure is at maximum capacity, try again later" },
};

Deno.test("a transient failure is retried, and the client sees only the success", async () => {
  await using p = startProxy();
  p.upstream.enqueue(CHAT, capacity);
  p.upstream.enqueue(CHAT, {
    status: 503,
    json: { detail: "No instances available (yet) for chute_id=x" },
  });
  p.upstream.enqueue(CHAT, { pieces: textStream(["ok"]) });
  const res = await post(p, "/api/chat", { ...ask, stream: false });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).message.content, "ok");
  assert.equal(p.upstream.calls(CHAT).length, 3);
  assert.equal(p.waits.length, 2);
  assert.ok(p.waits[1]! > 0 && p.waits[1]! <= 1000);
});

Deno.test("the retry budget is a count: after the last attempt the client gets the last error", async () => {
  await using p = startProxy({ config: { retry_attempts: 2 } });
  p.upstream.enqueue(CHAT, capacity);
  p.upstream.enqueue(CHAT, {
    status: 500,
    json: { detail: "exhausted all available targets to no avail" },
  });
  p.upstream.enqueue(CHAT, { pieces: textStream(["never"]) });
  const res = await post(p, "/api/chat", ask);
  assert.equal(res.status, 500);
  assert.deepEqual(await res.json(), { error: "exhausted all available targets to no avail" });
  assert.equal(p.upstream.calls(CHAT).length, 2);
});

Deno.test("the retry budget is also a total wait: a long Retry-After ends the retries", async () => {
  await using p = startProxy({ config: { retry_max_wait_seconds: 5 } });
  p.upstream.enqueue(CHAT, { ...capacity, headers: { "retry-after": "2" } });
  p.upstream.enqueue(CHAT, { ...capacity, headers: { "retry-after": "30" } });
  p.upstream.enqueue(CHAT, { pieces: textStream(["never"]) });
  const res = await post(p, "/api/chat", ask);
  assert.equal(res.status, 429);
  assert.deepEqual(p.waits, [2000]);
  assert.equal(p.upstream.calls(CHAT).length, 2);
  await res.body?.cancel();
});

Deno.test("client, auth, quota and daily-cap errors are never retried", async () => {
  await using p = startProxy();
  const cases = [
    { status: 400, json: { detail: "invalid request JSON payload" } },
    { status: 401, json: { detail: "Authentication required." } },
    {
      status: 402,
      json: {
        detail: { message: "Quota exceeded", quota_reset_timestamp: "2026-11-25T00:00:00Z" },
      },
    },
    { status: 404, json: { detail: "model not found: x" } },
    {
      status: 429,
      json: { detail: "Free models limit reached for today - maintain >= $10 balance" },
    },
  ];
  for (const reply of cases) {
    const before = p.upstream.calls(CHAT).length;
    p.upstream.enqueue(CHAT, reply);
    const res = await post(p, "/api/chat", ask);
    assert.equal(res.status, reply.status);
    await res.body?.cancel();
    assert.equal(p.upstream.calls(CHAT).length - before, 1, `retried ${reply.status}`);
  }
  assert.deepEqual(p.waits, []);
});

Deno.test("connection refused: retried, then 502 naming the upstream", async () => {
  await using p = startProxy({ config: { base_url: "http://127.0.0.1:9/v1", models: [QWEN] } });
  const res = await post(p, "/api/chat", ask);
  assert.equal(res.status, 502);
  assert.match(
    (await res.json()).error,
    /cannot reach the upstream at http:\/\/127\.0\.0\.1:9\/v1/,
  );
  assert.equal(p.waits.length, 2);
});

Deno.test("one first-byte budget covers every attempt: a slow first byte ends it with a true 504", async () => {
  // An upstream that takes the request and never answers: one attempt spends the budget, so the
  // client waits the budget, not attempts × budget, and is told how long it waited.
  await using q = startProxy({ config: { first_byte_timeout_seconds: 0.2 } });
  q.upstream.enqueue(CHAT, { pieces: textStream(["late"]), before: 2000 });
  q.upstream.enqueue(CHAT, { pieces: textStream(["never"]) });
  const timedOut = await post(q, "/api/chat", ask);
  assert.equal(timedOut.status, 504);
  assert.deepEqual(await timedOut.json(), {
    error: `the upstream at ${q.upstream.url} did not answer within 0.2 s`,
  });
  assert.equal(q.upstream.calls(CHAT).length, 1);
  assert.deepEqual(q.waits, []);

  // A quick transient failure is retried inside the budget; the 504 counts both attempts.
  await using p = startProxy({ config: { first_byte_timeout_seconds: 0.2 } });
  p.upstream.enqueue(CHAT, { ...capacity, headers: { "retry-after": "0" } });
  p.upstream.enqueue(CHAT, { pieces: textStream(["late"]), before: 2000 });
  const res = await post(p, "/api/chat", { ...ask, stream: false });
  assert.equal(res.status, 504);
  assert.deepEqual(await res.json(), {
    error: `the upstream at ${p.upstream.url} did not answer within 0.2 s (2 attempts)`,
  });
  assert.equal(p.upstream.calls(CHAT).length, 2);
  assert.deepEqual(p.waits, [0]);
});

Deno.test("a wait between attempts that would outlast the first-byte budget is not taken", async () => {
  await using p = startProxy({ config: { first_byte_timeout_seconds: 1 } });
  p.upstream.enqueue(CHAT, { ...capacity, headers: { "retry-after": "2" } });
  p.upstream.enqueue(CHAT, { pieces: textStream(["never"]) });
  const res = await post(p, "/api/chat", ask);
  assert.equal(res.status, 429);
  await res.body?.cancel();
  assert.equal(p.upstream.calls(CHAT).length, 1);
  assert.deepEqual(p.waits, []);
});

Deno.test("a client that leaves before the first byte aborts the upstream request", async () => {
  let received = 0;
  let aborted = 0;
  const upstream = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (r) => {
    if (r.method === "GET") return Response.json({ data: [{ id: QWEN }] });
    received++;
    return new Promise<Response>((resolve) => {
      r.signal.addEventListener("abort", () => {
        aborted++;
        resolve(new Response("late"));
      });
    });
  });
  try {
    await using p = startProxy({
      config: { base_url: `http://127.0.0.1:${upstream.addr.port}/v1` },
    });
    const controller = new AbortController();
    const res = post(p, "/api/chat", ask, { signal: controller.signal }).catch(() => undefined);
    const settle = async (done: () => boolean) => {
      for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
    };
    await settle(() => received === 1);
    controller.abort();
    await res;
    await settle(() => aborted === 1);
    assert.equal(aborted, 1);
    assert.equal(received, 1);
  } finally {
    await upstream.shutdown();
  }
});

Deno.test("a stream that stalls mid-way ends with an error line and closes the upstream", async () => {
  await using p = startProxy({ config: { idle_timeout_seconds: 0.2 } });
  p.upstream.enqueue(CHAT, {
    pieces: sse([chunk({ content: "so far" })], { done: false }),
    hang: true,
  });
  const started = Date.now();
  const lines = await ndjson(await post(p, "/api/chat", ask));
  assert.ok(Date.now() - started < 5000);
  assert.equal((lines[0]!.message as { content: string }).content, "so far");
  assert.deepEqual(lines.at(-1), {
    error: "the upstream sent nothing for 0.2 s; the stream was cut",
  });
  for (let i = 0; i < 100 && p.upstream.openStreams > 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(p.upstream.openStreams, 0);
});

Deno.test("the /v1 front door gets the same stall guard as an SSE error event", async () => {
  await using p = startProxy({ config: { idle_timeout_seconds: 0.2 } });
  p.upstream.enqueue(CHAT, {
    pieces: sse([chunk({ content: "so far" })], { done: false }),
    hang: true,
  });
  const res = await post(p, "/v1/chat/completions", { ...ask, stream: true });
  const text = await res.text();
  assert.match(text, /data: .*"content":"so far".*\n\n/);
  assert.match(
    text,
    /data: \{"error":\{"message":"the upstream sent nothing for 0.2 s; the stream was cut"/,
  );
});

Deno.test("a healthy stream that lasts longer than the first-byte time-out is not cut", async () => {
  // The first-byte time-out ends with the headers; only the idle time-out guards the body.
  await using p = startProxy({ config: { first_byte_timeout_seconds: 0.2 } });
  const pieces = Array.from({ length: 10 }, (_, i) => `t${i} `);
  p.upstream.enqueue(CHAT, { pieces: textStream(pieces), delayMs: 50 });
  const lines = await ndjson(await post(p, "/api/chat", ask));
  assert.equal(lines.at(-1)!.done, true);
  const text = lines.map((l) => (l.message as { content: string }).content).join("");
  assert.equal(text, pieces.join(""));
});

/**
 * An upstream that answers every request with the headers and one event of a chunked stream,
 * then drops the connection (no terminating chunk): a crash behind a load balancer. Its model
 * listing fails the same way, so the proxy serves the configured model list.
 */
function breakingUpstream(): { url: string; close: () => Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const event = sse([chunk({ content: "so far" })])[0]!;
  const head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n" +
    "transfer-encoding: chunked\r\n\r\n";
  const size = new TextEncoder().encode(event).length.toString(16);
  const answer = new TextEncoder().encode(`${head}${size}\r\n${event}\r\n`);
  const serve = async (conn: Deno.Conn) => {
    try {
      await conn.read(new Uint8Array(64 * 1024)); // the request; its content does not matter
      await conn.write(answer);
      await new Promise((r) => setTimeout(r, 20));
    } finally {
      conn.close();
    }
  };
  const served: Promise<void>[] = [];
  const accepting = (async () => {
    for await (const conn of listener) served.push(serve(conn).catch(() => {}));
  })();
  return {
    url: `http://127.0.0.1:${listener.addr.port}/v1`,
    close: async () => {
      listener.close();
      await accepting;
      await Promise.all(served);
    },
  };
}

Deno.test("a connection that breaks mid-stream ends with an error line, not a silent cut", async () => {
  const broken = breakingUpstream();
  try {
    await using p = startProxy({ config: { base_url: broken.url, models: [QWEN] } });
    const lines = await ndjson(await post(p, "/api/chat", ask));
    assert.equal((lines[0]!.message as { content: string }).content, "so far");
    assert.match(
      (lines.at(-1) as { error: string }).error,
      /^the upstream connection failed mid-stream: /,
    );
    const res = await post(p, "/v1/chat/completions", { ...ask, stream: true });
    assert.match(
      await res.text(),
      /data: \{"error":\{"message":"the upstream connection failed mid-stream: /,
    );
  } finally {
    await broken.close();
  }
});

Deno.test("a 204 from the upstream is an empty answer, never a 500", async () => {
  const upstream = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (r) => {
    if (r.method === "GET") return Response.json({ data: [{ id: QWEN }] });
    return new Response(null, { status: 204 });
  });
  try {
    await using p = startProxy({
      config: { base_url: `http://127.0.0.1:${upstream.addr.port}/v1` },
    });
    const res = await post(p, "/api/chat", { ...ask, stream: false });
    const text = await res.text();
    assert.notEqual(res.status, 500, text);
    assert.match(text, /"error"/);
  } finally {
    await upstream.shutdown();
  }
});

Deno.test("an upstream's own 502 or 504 answer is not sent again, nor handed to a fallback", async () => {
  await using p = startProxy({
    config: { fallbacks: { [QWEN]: ["deepseek-ai/DeepSeek-V3-0324"] } },
  });
  for (const status of [502, 504]) {
    const before = p.upstream.calls(CHAT).length;
    p.upstream.enqueue(CHAT, {
      status,
      text: "<html>Gateway Time-out</html>",
      headers: { "content-type": "text/html" },
    });
    p.upstream.enqueue(CHAT, { pieces: textStream(["billed twice?"]) });
    const res = await post(p, "/api/chat", { ...ask, stream: false });
    assert.equal(res.status, status);
    await res.body?.cancel();
    assert.equal(p.upstream.calls(CHAT).length - before, 1, `${status}: one POST`);
    // The queued answer was never taken: drain it for the next round.
    await (await post(p, "/api/chat", { ...ask, stream: false })).body?.cancel();
  }
});
