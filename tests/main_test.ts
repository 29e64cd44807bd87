/**
 * Tests for the entry point (`main.ts`) run as a real process: `--help`, start-up errors, and a
 * debug-mode start on port 0 in front of an unreachable upstream that still answers `/api/tags`
 * and never prints the token. Only 127.0.0.1 is contacted; the child is always killed.
 */
import assert from "node:assert/strict";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const SECRET = "cpk_main_test_made_up.secret-do-not-print-9f8e7d";

/** The environment the child gets: nothing but PATH, HOME, DENO_DIR and `extra`. */
function childEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ["PATH", "HOME", "DENO_DIR"]) {
    const value = Deno.env.get(key);
    if (value !== undefined) env[key] = value;
  }
  return { ...env, ...extra };
}

function command(cwd: string, args: string[], env: Record<string, string>): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--unstable-no-legacy-abort",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      MAIN,
      ...args,
    ],
    cwd,
    env: childEnv(env),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/** Runs main.ts to completion in a fresh temp dir. */
async function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const cwd = await Deno.makeTempDir({ prefix: "main_test_" });
  try {
    const out = await command(cwd, args, env).output();
    const decode = (b: Uint8Array) => new TextDecoder().decode(b);
    return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
}

/** Collects a child stream's text, calling `onText` with all text so far after each chunk. */
async function collect(
  stream: ReadableStream<Uint8Array>,
  sink: { text: string },
  onText: () => void,
): Promise<void> {
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    sink.text += chunk;
    onText();
  }
}

Deno.test("--help prints the usage and exits 0", async () => {
  const { code, stdout } = await run(["--help"]);
  assert.equal(code, 0);
  assert.match(stdout, /^Usage: /m);
  assert.match(stdout, /--port <port>/);
  assert.match(stdout, /CHUTES_API_TOKEN/);
});

Deno.test("without a token it exits non-zero and says to set CHUTES_API_TOKEN", async () => {
  const { code, stdout, stderr } = await run([]);
  assert.notEqual(code, 0);
  assert.match(stderr, /CHUTES_API_TOKEN/);
  assert.doesNotMatch(stdout, /listening on/);
});

Deno.test("a bad --port exits non-zero naming --port", async () => {
  const { code, stderr } = await run(["--port", "abc"], { CHUTES_API_TOKEN: SECRET });
  assert.notEqual(code, 0);
  assert.match(stderr, /--port/);
  assert.match(stderr, /"abc"/);
  assert.ok(!stderr.includes(SECRET));
});

Deno.test("an unknown flag exits non-zero naming it", async () => {
  const { code, stderr } = await run(["--frobnicate"], { CHUTES_API_TOKEN: SECRET });
  assert.notEqual(code, 0);
  assert.match(stderr, /--frobnicate/);
});

Deno.test("on port 0 before an unreachable upstream: serves /api/tags, never prints the token", async () => {
  const cwd = await Deno.makeTempDir({ prefix: "main_test_" });
  const child = command(cwd, ["--debug", "--port", "0"], {
    CHUTES_API_TOKEN: SECRET,
    CHUTES_BASE_URL: "http://127.0.0.1:9/v1",
  }).spawn();
  const stdout = { text: "" };
  const stderr = { text: "" };
  const listening = Promise.withResolvers<string>();
  const check = () => {
    const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout.text + stderr.text);
    if (m) listening.resolve(m[1]!);
  };
  const readers = Promise.all([
    collect(child.stdout, stdout, check),
    collect(child.stderr, stderr, check),
  ]).finally(() => listening.reject(new Error("child output ended before it listened")));
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("no 'listening on' line in 10 s")), 10_000);
    });
    const base = await Promise.race([listening.promise, timeout]);
    const res = await fetch(`${base}/api/tags`);
    assert.equal(res.status, 200);
    const body = await res.json() as { models?: unknown };
    assert.ok(Array.isArray(body.models), `models is not an array: ${JSON.stringify(body)}`);
    // A chat request makes the debug log dump an upstream request; it fails before any byte.
    const chat = await fetch(`${base}/api/chat`, {
      method: "POST",
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }),
    });
    const error = await chat.json() as { error?: unknown };
    assert.equal(chat.status, 502, JSON.stringify(error));
    assert.equal(typeof error.error, "string");
  } finally {
    clearTimeout(timer);
    try {
      child.kill("SIGTERM");
    } catch {
      // already exited
    }
    await child.status;
    await readers.catch(() => {});
    await Deno.remove(cwd, { recursive: true });
  }
  const all = stdout.text + stderr.text;
  assert.match(all, /GET \/api\/tags 200/);
  assert.match(all, /DEBUG upstream POST \/chat\/completions/);
  assert.ok(!all.includes(SECRET), `the token leaked into the output:\n${all}`);
  assert.ok(!all.includes(SECRET.slice(0, 20)), "a token prefix leaked into the output");
});

Deno.test("a malformed aliases file stops the start-up with an error naming the file", async () => {
  const cwd = await Deno.makeTempDir({ prefix: "main_test_" });
  try {
    await Deno.writeTextFile(`${cwd}/aliases.json`, "{not json");
    const out = await command(cwd, ["--port", "0"], { CHUTES_API_TOKEN: SECRET }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 2);
    assert.match(stderr, /^error: aliases file aliases\.json: not valid JSON/m);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});
