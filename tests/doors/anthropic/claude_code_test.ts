/**
 * Claude Code itself against the proxy and the fake upstream: `claude -p` headless, as a user
 * runs it (`ANTHROPIC_BASE_URL`, `ANTHROPIC_AUTH_TOKEN`, `--model`), for a plain answer and for
 * one round trip through its `Read` tool on a file the test wrote. The CLI is the pinned npm
 * package `.ci/run` installs outside the repository (or `CLAUDE_CODE_BIN`); without it these
 * tests are ignored, unless `REQUIRE_CLAUDE_CODE=1` (CI) makes its absence a failure.
 *
 * Nothing may leave 127.0.0.1: the CLI runs with a throw-away HOME, an environment holding only
 * what is set here (no key of the machine's), `CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1`, and
 * `HTTPS_PROXY`/`HTTP_PROXY` pointing at a local listener that refuses and records every
 * connection — the test asserts it saw none.
 */
import assert from "node:assert/strict";
import { chunk, type Recorded, sse, usage } from "../../_fake_upstream.ts";
import { startProxy } from "../../_helpers.ts";

/** The pinned Claude Code version (the one agent-doors.md D.1 observed); `.ci/run` installs it. */
export const CLAUDE_CODE_VERSION = "2.1.197";

const QWEN = "Qwen/Qwen3-32B-TEE";
const CHAT = "/v1/chat/completions";
const KEY = "cc-test-key-not-secret";

function platformPackage(): string | undefined {
  const os = { linux: "linux", darwin: "darwin" }[Deno.build.os as string];
  const arch = { x86_64: "x64", aarch64: "arm64" }[Deno.build.arch as string];
  return os && arch ? `claude-code-${os}-${arch}` : undefined;
}

/** The CLI binary: `CLAUDE_CODE_BIN`, or where `.ci/run` installs the pinned package. */
function claudeBinary(): string | undefined {
  const given = Deno.env.get("CLAUDE_CODE_BIN");
  if (given) return given;
  const cache = Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "/tmp"}/.cache`;
  const pkg = platformPackage();
  if (!pkg) return undefined;
  const path = `${cache}/ollama-chutes-proxy-ci/claude-code-${CLAUDE_CODE_VERSION}` +
    `/node_modules/@anthropic-ai/${pkg}/claude`;
  try {
    return Deno.statSync(path).isFile ? path : undefined;
  } catch {
    return undefined;
  }
}

const BIN = claudeBinary();
const REQUIRED = Deno.env.get("REQUIRE_CLAUDE_CODE") === "1";

/** A listener that answers every connection (CONNECT or plain proxy request) with a 403. */
class RefusingProxy {
  readonly seen: string[] = [];
  readonly #listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  readonly #done: Promise<void>;

  constructor() {
    this.#done = this.#accept();
  }

  get url(): string {
    return `http://127.0.0.1:${this.#listener.addr.port}`;
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) void this.#refuse(conn);
    } catch {
      // closed
    }
  }

  async #refuse(conn: Deno.Conn): Promise<void> {
    try {
      const buf = new Uint8Array(4096);
      const n = await conn.read(buf);
      this.seen.push(new TextDecoder().decode(buf.subarray(0, n ?? 0)).split("\r\n")[0] ?? "");
      await conn.write(
        new TextEncoder().encode("HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n"),
      );
    } catch {
      // the client went away
    } finally {
      conn.close();
    }
  }

  async close(): Promise<void> {
    this.#listener.close();
    await this.#done;
  }
}

/** Runs `claude -p <prompt>` in `cwd` against the proxy at `url`. */
async function claude(
  url: string,
  refuser: RefusingProxy,
  cwd: string,
  home: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(BIN!, {
    args: ["-p", ...args, "--model", QWEN],
    cwd,
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: home,
      XDG_CONFIG_HOME: `${home}/.config`,
      XDG_CACHE_HOME: `${home}/.cache`,
      TMPDIR: home,
      TERM: "dumb",
      ANTHROPIC_BASE_URL: url,
      ANTHROPIC_AUTH_TOKEN: KEY,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      DISABLE_AUTOUPDATER: "1",
      DISABLE_ERROR_REPORTING: "1",
      DISABLE_TELEMETRY: "1",
      HTTPS_PROXY: refuser.url,
      HTTP_PROXY: refuser.url,
      https_proxy: refuser.url,
      http_proxy: refuser.url,
      NO_PROXY: "127.0.0.1,localhost",
      no_proxy: "127.0.0.1,localhost",
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

/** The last user-side message of an upstream request (what the fake model "reads"). */
function lastMessage(r: Recorded): Record<string, unknown> {
  return (r.body!.messages as Record<string, unknown>[]).at(-1)!;
}

async function withClaude(
  config: Record<string, unknown>,
  fn: (ctx: {
    url: string;
    proxy: ReturnType<typeof startProxy>;
    refuser: RefusingProxy;
    project: string;
    home: string;
  }) => Promise<void>,
): Promise<void> {
  const home = await Deno.makeTempDir({ prefix: "claude-home-" });
  const project = await Deno.makeTempDir({ prefix: "claude-project-" });
  const refuser = new RefusingProxy();
  const proxy = startProxy({ config: { api_keys: [KEY], ...config } });
  try {
    await fn({ url: proxy.url, proxy, refuser, project, home });
    assert.deepEqual(refuser.seen, [], "nothing tried to leave 127.0.0.1");
  } finally {
    await proxy.close();
    await refuser.close();
    await Deno.remove(home, { recursive: true });
    await Deno.remove(project, { recursive: true });
  }
}

const ignore = !BIN && !REQUIRED;

Deno.test("claude code: .ci/run installs the version these tests expect", async () => {
  const run = await Deno.readTextFile(new URL("../../../.ci/run", import.meta.url));
  assert.equal(/^CLAUDE_CODE_VERSION=(\S+)$/m.exec(run)?.[1], CLAUDE_CODE_VERSION);
});

Deno.test({
  name: "claude code: the CLI is installed where .ci/run puts it (REQUIRE_CLAUDE_CODE=1)",
  ignore: !REQUIRED,
  fn: () => assert.ok(BIN, "the pinned @anthropic-ai/claude-code is not installed"),
});

Deno.test({
  name: "claude code: `claude -p` gets a plain answer through the proxy",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withClaude({}, async ({ url, proxy, refuser, project, home }) => {
      proxy.upstream.enqueue(CHAT, {
        pieces: sse([
          chunk({ role: "assistant", content: "" }),
          chunk({ reasoning_content: "A greeting is asked." }),
          chunk({ content: "Hi from the fake upstream." }),
          chunk({}, "stop"),
          usage(900, 7),
        ]),
      });
      const run = await claude(url, refuser, project, home, ["say hi"]);
      assert.equal(run.code, 0, `claude failed:\n${run.stdout}\n${run.stderr}`);
      assert.equal(run.stdout.trim(), "Hi from the fake upstream.");
      const calls = proxy.upstream.calls(CHAT);
      assert.equal(calls.length, 1, "one request upstream");
      const body = calls[0]!.body!;
      const messages = body.messages as { role: string; content: unknown }[];
      assert.equal(messages[0]!.role, "system");
      assert.equal(messages.filter((m) => m.role === "system").length, 1, "one system message");
      assert.match(JSON.stringify(messages.at(-1)!.content), /say hi/);
      assert.ok((body.tools as unknown[]).length > 5, "Claude Code's tools are offered");
      const line = proxy.logs.find((l) => l.includes("POST /v1/messages 200"));
      assert.ok(line, proxy.logs.join("\n"));
    });
  },
});

Deno.test({
  name: "claude code: one round trip through its Read tool; the answer quotes the file",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withClaude({}, async ({ url, proxy, refuser, project, home }) => {
      const secretLine = `the magic word is ${crypto.randomUUID().slice(0, 8)}`;
      const file = `${project}/hello.txt`;
      await Deno.writeTextFile(file, `${secretLine}\n`);
      proxy.upstream.enqueue(CHAT, {
        pieces: sse([
          chunk({ role: "assistant", content: "" }),
          chunk({ reasoning_content: "I should read the file." }),
          chunk({
            tool_calls: [{
              index: 0,
              id: "call_read1",
              type: "function",
              function: { name: "Read", arguments: JSON.stringify({ file_path: file }) },
            }],
          }),
          chunk({}, "tool_calls"),
          usage(900, 20),
        ]),
      });
      // The fake model answers with what the tool result it was given says.
      proxy.upstream.enqueue(CHAT, (request) => {
        const result = lastMessage(request);
        const text = typeof result.content === "string" ? result.content : "";
        const quoted = /the magic word is \w+/.exec(text)?.[0] ?? "no file content seen";
        return {
          pieces: sse([
            chunk({ role: "assistant", content: "" }),
            chunk({ content: `The file says: ${quoted}` }),
            chunk({}, "stop"),
            usage(950, 9),
          ]),
        };
      });
      const run = await claude(url, refuser, project, home, [
        "read hello.txt and tell me what it says",
        "--allowedTools",
        "Read",
      ]);
      assert.equal(run.code, 0, `claude failed:\n${run.stdout}\n${run.stderr}`);
      assert.equal(run.stdout.trim(), `The file says: ${secretLine}`);
      const calls = proxy.upstream.calls(CHAT);
      assert.equal(calls.length, 2);
      const second = calls[1]!.body!.messages as Record<string, unknown>[];
      const assistant = second.at(-2)!;
      assert.equal(assistant.role, "assistant");
      assert.deepEqual(assistant.tool_calls, [{
        id: "call_read1",
        type: "function",
        function: { name: "Read", arguments: JSON.stringify({ file_path: file }) },
      }]);
      assert.equal(assistant.reasoning_content, "I should read the file.");
      const tool = second.at(-1)!;
      assert.equal(tool.role, "tool");
      assert.equal(tool.tool_call_id, "call_read1");
      assert.match(tool.content as string, new RegExp(secretLine));
    });
  },
});

/** A plain streamed answer from the fake upstream. */
const RECOVERED = {
  pieces: sse([chunk({ content: "Recovered answer." }), chunk({}, "stop"), usage(5, 2)]),
};

Deno.test({
  name: "claude code: a capacity failure reaches it as overloaded_error, and it retries",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withClaude({ retry_attempts: 1 }, async ({ url, proxy, refuser, project, home }) => {
      proxy.upstream.enqueue(CHAT, { status: 503, json: { detail: "No instances available" } });
      proxy.upstream.enqueue(CHAT, RECOVERED);
      const run = await claude(url, refuser, project, home, ["say hi"]);
      assert.equal(run.code, 0, `claude failed:\n${run.stdout}\n${run.stderr}`);
      assert.equal(run.stdout.trim(), "Recovered answer.");
      assert.equal(proxy.upstream.calls(CHAT).length, 2);
      assert.ok(proxy.logs.some((l) => l.includes("POST /v1/messages 503")));
    });
  },
});

Deno.test({
  name: "claude code: a stream that fails after its first delta is retried, not cut short",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withClaude({}, async ({ url, proxy, refuser, project, home }) => {
      proxy.upstream.enqueue(CHAT, {
        pieces: sse([chunk({ content: "Partial ans" })], { done: false }),
      });
      proxy.upstream.enqueue(CHAT, RECOVERED);
      const run = await claude(url, refuser, project, home, ["say hi"]);
      assert.equal(run.code, 0, `claude failed:\n${run.stdout}\n${run.stderr}`);
      assert.equal(run.stdout.trim(), "Recovered answer.", "the partial text was discarded");
      assert.ok(proxy.logs.some((l) => l.includes("(failed: upstream stream ended")));
    });
  },
});
