/**
 * The logger's guarantees: every secret is redacted before anything is cut (a token cut in half
 * must not leak its prefix), a short secret only where it stands as a whole value, and control
 * characters in a message are escaped so one message is one line. Over HTTP: a debug log never
 * shows a prefix of a token the upstream echoed, a model name with a newline cannot forge an
 * access-log line, and a one-letter token does not mangle every `t` in the log.
 */
import assert from "node:assert/strict";
import { createLogger, escapeControls, logValue, redact } from "../../lib/base/log.ts";
import { textStream } from "../_fake_upstream.ts";
import { post, startProxy, TEST_TOKEN } from "../_helpers.ts";

function collect(secrets: string[], debug = true) {
  const lines: string[] = [];
  const log = createLogger({ debug, secrets, sink: (_l, line) => lines.push(line) });
  return { log, lines };
}

Deno.test("excerpt redacts before it cuts: a token across the cut leaves no prefix", () => {
  const { log } = collect([TEST_TOKEN]);
  const body = `${"x".repeat(1990)}Bearer ${TEST_TOKEN} and more`;
  const out = log.excerpt(body);
  assert.ok(!out.includes(TEST_TOKEN.slice(0, 6)), out.slice(-40));
  assert.match(out, /… \(\d+ more chars\)$/);
  assert.equal(log.excerpt("short"), "short");
});

Deno.test("a short secret is redacted only as a whole value, a long one everywhere", () => {
  assert.equal(
    redact("listening on http://x token=t, t", ["t"]),
    "listening on http://x token=[redacted], [redacted]",
  );
  assert.equal(
    redact("key%3Dabcdefghijklmnopqrstuvwxyz%26", ["abcdefghijklmnopqrstuvwxyz"]),
    "key%3D[redacted]%26",
  );
  assert.equal(redact("a.b+c and a.b+cd", ["a.b+c"]), "[redacted] and a.b+cd");
  assert.equal(redact("nothing", ["", "zz"]), "nothing");
});

Deno.test("control characters are escaped: one message is one line", () => {
  const { log, lines } = collect([]);
  log.info("model=a\n2099-01-01T00:00:00.000Z INFO forged\r\u001b[31m\u2028");
  assert.equal(lines.length, 1);
  for (const c of ["\n", "\r", "\u001b", "\u2028"]) assert.ok(!lines[0]!.includes(c), lines[0]);
  assert.match(lines[0]!, /model=a\\n2099-01-01T00:00:00\.000Z INFO forged\\r\\x1b\[31m\\u2028$/);
  assert.equal(escapeControls("tab\there"), "tab\\there");
  assert.equal(logValue("Qwen/Qwen3-32B"), "Qwen/Qwen3-32B");
  assert.equal(logValue("a b=c"), '"a b=c"');
});

Deno.test("HTTP, debug: an upstream echoing the token in a long error body leaks no prefix of it", async () => {
  await using p = startProxy({ config: { debug: true, retry_attempts: 1 } });
  p.upstream.enqueue("/v1/chat/completions", (seen) => ({
    status: 400,
    text: `${"x".repeat(1975)} you sent ${seen.headers.get("authorization")}`,
  }));
  const res = await post(p, "/api/chat", {
    model: "Qwen/Qwen3-32B-TEE",
    messages: [{ role: "user", content: "hi" }],
  });
  assert.equal(res.status, 400);
  await res.body?.cancel();
  const dump = p.logs.find((l) => l.includes("→ 400"));
  assert.ok(dump, p.logs.join("\n"));
  for (const line of p.logs) assert.ok(!line.includes(TEST_TOKEN.slice(0, 8)), line.slice(-80));
});

Deno.test("HTTP: a model name or an option name cannot forge a log line", async () => {
  await using p = startProxy({ config: { debug: true } });
  p.upstream.enqueue("/v1/chat/completions", { pieces: textStream(["hi"]) });
  const forged = "2099-01-01T00:00:00.000Z INFO POST /api/pull 200 model=forged";
  // A Chutes pool name (with a comma) passes through unlisted, so it reaches the access line; an
  // unknown option's name reaches the debug line of what was not forwarded. On a terminal,
  // ESC [1A ESC [2K moves up a line and erases it: a forged line without any newline.
  const res = await post(p, "/api/chat", {
    model: `Qwen/Qwen3-32B-TEE,x\n${forged}`,
    stream: false,
    messages: [{ role: "user", content: "hi" }],
    options: { [`opt\u001b[1A\u001b[2K${forged}`]: 1 },
  });
  assert.equal(res.status, 200);
  await res.body?.cancel();
  const lines = p.logs.flatMap((l) => l.split(/[\r\n]/));
  assert.ok(!lines.some((l) => l.startsWith("2099-")), lines.join("\n"));
  for (const line of p.logs) assert.ok(!line.includes("\u001b"), JSON.stringify(line));
  const access = p.logs.filter((l) => l.includes("POST /api/chat 200"));
  assert.equal(access.length, 1);
  assert.match(access[0]!, /model="Qwen\/Qwen3-32B-TEE,x\\n2099-01-01T00:00:00\.000Z INFO POST/);
  assert.ok(
    p.logs.some((l) => l.includes("not forwarded: opt\\x1b[1A\\x1b[2K2099-01-01T00:00:00.000Z")),
    p.logs.join("\n"),
  );
});

Deno.test("HTTP: a one-letter token is not redacted inside words of the log", async () => {
  await using p = startProxy({ config: { api_token: "t" } });
  const res = await fetch(`${p.url}/api/tags`);
  await res.body?.cancel();
  const access = p.logs.find((l) => l.includes("GET /api/tags 200"));
  assert.ok(access, p.logs.join("\n"));
  assert.match(access, / total=\d+ms /);
});
