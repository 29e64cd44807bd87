/**
 * Codex itself (`@openai/codex`, pinned in .ci/run) against the proxy and the fake upstream,
 * headless (`codex exec`): a plain answer and a shell-tool round trip through a custom provider
 * with `wire_api = "responses"`, and a run with `--oss` (the built-in Ollama provider: it checks
 * `/v1/models`, `/api/version` ≥ 0.13.4, `/api/tags` and `/api/pull` before `/v1/responses`).
 * Codex gets a throw-away `CODEX_HOME` whose config turns off analytics, plugins, apps, web
 * search and sub-agents, and every proxy variable points at a trap on 127.0.0.1 that records
 * any attempt to reach another host: the test asserts there was none. Without the binary the
 * tests are skipped, except in CI (`REQUIRE_CODEX=1`), where a missing Codex fails.
 */
import assert from "node:assert/strict";
import { chunk, sse, textStream, usage } from "../../_fake_upstream.ts";
import { startProxy, type TestProxy } from "../../_helpers.ts";

const QWEN = "Qwen/Qwen3-32B-TEE";
const CHAT = "/v1/chat/completions";
const VERSION = "0.171.0";

function findCodex(): string | undefined {
  const cache = Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "/tmp"}/.cache`;
  const candidates = [
    Deno.env.get("CODEX_BIN"),
    `${cache}/ollama-chutes-proxy-ci/codex-${VERSION}/node_modules/.bin/codex`,
  ];
  return candidates.find((path) => {
    try {
      return !!path && Deno.statSync(path).isFile;
    } catch {
      return false;
    }
  });
}

const CODEX = findCodex();

interface CodexRun {
  code: number;
  stdout: string;
  stderr: string;
  /** First lines of every connection that tried to leave 127.0.0.1 through a proxy variable. */
  outside: string[];
}

/** The config a user writes for the proxy (README "Codex"), with everything chatty turned off. */
function configToml(proxyUrl: string, oss: boolean): string {
  return [
    `model = "${QWEN}"`,
    oss ? `oss_provider = "ollama"` : `model_provider = "chutes-proxy"`,
    `web_search = "disabled"`,
    `check_for_update_on_startup = false`,
    ``,
    `[model_providers.chutes-proxy]`,
    `name = "Chutes via ollama-chutes-proxy"`,
    `base_url = "${proxyUrl}/v1"`,
    `wire_api = "responses"`,
    ``,
    `[analytics]`,
    `enabled = false`,
    ``,
    `[features]`,
    `plugins = false`,
    `remote_plugin = false`,
    `apps = false`,
    `multi_agent = false`,
    `goals = false`,
    ``,
  ].join("\n");
}

/** Runs `codex exec` against the proxy with a throw-away home and a trap for outside traffic. */
async function codex(p: TestProxy, prompt: string, oss = false): Promise<CodexRun> {
  const home = await Deno.makeTempDir({ prefix: "codex_home_" });
  const work = await Deno.makeTempDir({ prefix: "codex_work_" });
  const outside: string[] = [];
  const trap = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const trapping = (async () => {
    for await (const conn of trap) {
      const buffer = new Uint8Array(1024);
      const n = await conn.read(buffer).catch(() => null);
      outside.push(new TextDecoder().decode(buffer.subarray(0, n ?? 0)).split("\r\n")[0]!);
      conn.close();
    }
  })();
  try {
    await Deno.writeTextFile(`${home}/config.toml`, configToml(p.url, oss));
    const via = `http://127.0.0.1:${trap.addr.port}`;
    const local = "127.0.0.1,localhost";
    const args = ["exec", "--skip-git-repo-check", "-C", work];
    if (oss) args.push("--oss", "-m", QWEN);
    const out = await new Deno.Command(CODEX!, {
      args: [...args, prompt],
      clearEnv: true,
      env: {
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
        HOME: home,
        CODEX_HOME: home,
        ...(oss ? { CODEX_OSS_BASE_URL: `${p.url}/v1` } : {}),
        HTTPS_PROXY: via,
        HTTP_PROXY: via,
        ALL_PROXY: via,
        https_proxy: via,
        http_proxy: via,
        all_proxy: via,
        NO_PROXY: local,
        no_proxy: local,
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = (b: Uint8Array) => new TextDecoder().decode(b);
    return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr), outside };
  } finally {
    trap.close();
    await trapping.catch(() => {});
    await Deno.remove(home, { recursive: true });
    await Deno.remove(work, { recursive: true });
  }
}

function shellTurn(): string[] {
  return sse([
    chunk({ role: "assistant", reasoning_content: "I will run it." }),
    chunk({
      tool_calls: [{
        index: 0,
        id: "call_x1",
        type: "function",
        function: { name: "exec_command", arguments: "" },
      }],
    }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '{"cmd":"echo hi-from-tool"}' } }] }),
    chunk({}, "tool_calls"),
    usage(10, 5),
  ]);
}

const ignore = !CODEX && !Deno.env.get("REQUIRE_CODEX");
const missing = `codex ${VERSION} is not installed (.ci/run installs it from npm)`;

Deno.test({
  name: `codex ${VERSION} exec: a plain answer through wire_api = "responses"`,
  ignore,
  fn: async () => {
    assert.ok(CODEX, missing);
    await using p = startProxy();
    p.upstream.enqueue(CHAT, { pieces: textStream(["hi from ", "the proxy"]) });
    const run = await codex(p, "say hi");
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /hi from the proxy/);
    assert.deepEqual(run.outside, []);
    const sent = p.upstream.calls(CHAT);
    assert.equal(sent.length, 1);
    const body = sent[0]!.body!;
    assert.equal(body.model, QWEN);
    const messages = body.messages as { role: string; content: string }[];
    assert.equal(messages[0]!.role, "system");
    assert.deepEqual(messages.at(-1), { role: "user", content: "say hi" });
    const names = (body.tools as { function: { name: string } }[]).map((t) => t.function.name);
    assert.ok(names.includes("exec_command"), names.join());
    assert.ok(p.logs.some((l) => /POST \/v1\/responses 200 model=Qwen\/Qwen3-32B-TEE/.test(l)));
  },
});

Deno.test({
  name: `codex ${VERSION} exec: a shell-tool round trip (reasoning, exec_command, its output)`,
  ignore,
  fn: async () => {
    assert.ok(CODEX, missing);
    await using p = startProxy();
    p.upstream.enqueue(CHAT, { pieces: shellTurn() });
    p.upstream.enqueue(CHAT, { pieces: textStream(["done running"]) });
    const run = await codex(p, "run echo hi-from-tool");
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /done running/);
    assert.match(run.stderr, /hi-from-tool/);
    assert.deepEqual(run.outside, []);
    const second = p.upstream.calls(CHAT)[1]!.body!.messages as Record<string, unknown>[];
    assert.deepEqual(second.at(-2), {
      role: "assistant",
      content: "",
      reasoning_content: "I will run it.",
      tool_calls: [{
        id: "call_x1",
        type: "function",
        function: { name: "exec_command", arguments: '{"cmd":"echo hi-from-tool"}' },
      }],
    });
    const tool = second.at(-1)!;
    assert.equal(tool.role, "tool");
    assert.equal(tool.tool_call_id, "call_x1");
    assert.match(tool.content as string, /Process exited with code 0[\s\S]*hi-from-tool/);
  },
});

Deno.test({
  name: `codex ${VERSION} exec --oss: version, tags and pull checks pass, then the tool round trip`,
  ignore,
  fn: async () => {
    assert.ok(CODEX, missing);
    await using p = startProxy();
    p.upstream.enqueue(CHAT, { pieces: shellTurn() });
    p.upstream.enqueue(CHAT, { pieces: textStream(["done running"]) });
    const run = await codex(p, "run echo hi-from-tool", true);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /done running/);
    assert.deepEqual(run.outside, []);
    const served = p.logs.map((l) => / INFO (GET|POST) (\S+) (\d+)/.exec(l))
      .filter((m) => m !== null).map((m) => `${m[1]} ${m[2]} ${m[3]}`);
    assert.deepEqual(served, [
      "GET /v1/models 200",
      "GET /api/version 200",
      "GET /api/tags 200",
      "POST /api/pull 200",
      "POST /v1/responses 200",
      "POST /v1/responses 200",
    ]);
  },
});
