/**
 * Tests for the config loader (`lib/config/config.ts`, `lib/config/sources.ts`): the precedence
 * defaults ← config.json ← env (and `.env`) ← CLI flags, the env variables the proxy reads, the
 * normalisation of URLs and bind addresses, and error messages that name the key and the value.
 * Files and the environment are injected records; nothing touches disk or `Deno.env`.
 */
import assert from "node:assert/strict";
import { type Config, DEFAULT_BASE_URL } from "../../lib/config/config.ts";
import { loadConfig, parseDotEnv, parseFlags, USAGE } from "../../lib/config/sources.ts";
import { ConfigError, normaliseBaseUrl, parseBindAddress } from "../../lib/config/values.ts";

const TOKEN = "cpk_config_test_token";

/** Runs `loadConfig` against in-memory files; answers the config and the paths read. */
async function load(
  args: string[],
  env: Record<string, string>,
  files: Record<string, string> = {},
): Promise<{ config: Config; configPath: string | null; reads: string[] }> {
  const reads: string[] = [];
  const result = await loadConfig({
    args,
    env,
    readTextFile: (path) => {
      reads.push(path);
      return Promise.resolve(files[path]);
    },
  });
  if (result.help) throw new Error("unexpected help result");
  return { config: result.config, configPath: result.configPath, reads };
}

/** Asserts that loading fails with a `ConfigError` whose message contains every fragment. */
async function loadFails(
  args: string[],
  env: Record<string, string>,
  files: Record<string, string>,
  fragments: string[],
): Promise<void> {
  const err = await load(args, env, files).then(
    () => assert.fail("expected a ConfigError"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
  for (const f of fragments) {
    assert.ok(err.message.includes(f), `message ${JSON.stringify(err.message)} lacks ${f}`);
  }
}

Deno.test("defaults apply when only a token is given", async () => {
  const { config, configPath, reads } = await load([], { CHUTES_API_TOKEN: TOKEN });
  assert.equal(config.api_token, TOKEN);
  assert.equal(config.base_url, DEFAULT_BASE_URL);
  assert.equal(config.host, "127.0.0.1");
  assert.equal(config.port, 11434);
  assert.equal(config.debug, false);
  assert.equal(config.max_history_messages, -1);
  assert.equal(config.default_system_prompt, null);
  assert.equal(config.defaults.temperature, null);
  assert.equal(configPath, null);
  assert.deepEqual(reads, ["config.json", ".env"]);
});

Deno.test("precedence: defaults ← config.json ← env ← flags", async (t) => {
  const file = JSON.stringify({ port: 1001, host: "10.0.0.1", debug: false, api_token: "file" });
  const cases: {
    name: string;
    args: string[];
    env: Record<string, string>;
    files: Record<string, string>;
    want: Pick<Config, "port" | "host" | "debug" | "api_token">;
  }[] = [
    {
      name: "config.json over defaults",
      args: [],
      env: {},
      files: { "config.json": file },
      want: { port: 1001, host: "10.0.0.1", debug: false, api_token: "file" },
    },
    {
      name: "env over config.json",
      args: [],
      env: { OLLAMA_HOST: "0.0.0.0:2002", PROXY_DEBUG: "1", CHUTES_API_TOKEN: "env" },
      files: { "config.json": file },
      want: { port: 2002, host: "0.0.0.0", debug: true, api_token: "env" },
    },
    {
      name: ".env text over config.json",
      args: [],
      env: {},
      files: { "config.json": file, ".env": "OLLAMA_HOST=0.0.0.0:2003\nCHUTES_API_TOKEN=dotenv\n" },
      want: { port: 2003, host: "0.0.0.0", debug: false, api_token: "dotenv" },
    },
    {
      name: "real env over .env",
      args: [],
      env: { CHUTES_API_TOKEN: "env", OLLAMA_HOST: "1.2.3.4:2004" },
      files: { ".env": "CHUTES_API_TOKEN=dotenv\nOLLAMA_HOST=0.0.0.0:2003\n" },
      want: { port: 2004, host: "1.2.3.4", debug: false, api_token: "env" },
    },
    {
      name: "flags over env and config.json",
      args: ["--port", "3003", "--host", "192.168.1.1", "--debug"],
      env: { OLLAMA_HOST: "0.0.0.0:2002", PROXY_DEBUG: "0" },
      files: { "config.json": file },
      want: { port: 3003, host: "192.168.1.1", debug: true, api_token: "file" },
    },
    {
      name: "--host with a port sets the port too",
      args: ["--host", "0.0.0.0:4004"],
      env: { OLLAMA_HOST: "127.0.0.1:2002" },
      files: { "config.json": file },
      want: { port: 4004, host: "0.0.0.0", debug: false, api_token: "file" },
    },
    {
      name: "--host with a bracketed IPv6 address and port",
      args: ["--host", "[::1]:4005"],
      env: {},
      files: { "config.json": file },
      want: { port: 4005, host: "::1", debug: false, api_token: "file" },
    },
    {
      name: "--host with a bare IPv6 address keeps the port from below",
      args: ["--host", "::1"],
      env: {},
      files: { "config.json": file },
      want: { port: 1001, host: "::1", debug: false, api_token: "file" },
    },
    {
      name: "--host with a bracketed IPv6 address and no port keeps the port from below",
      args: ["--host", "[::1]"],
      env: {},
      files: { "config.json": file },
      want: { port: 1001, host: "::1", debug: false, api_token: "file" },
    },
    {
      name: "--host with a scheme means its port",
      args: ["--host", "https://0.0.0.0"],
      env: {},
      files: { "config.json": file },
      want: { port: 443, host: "0.0.0.0", debug: false, api_token: "file" },
    },
    {
      name: "--host without a port keeps the port from below",
      args: ["--host", "0.0.0.0"],
      env: { OLLAMA_HOST: "127.0.0.1:2002" },
      files: { "config.json": file },
      want: { port: 2002, host: "0.0.0.0", debug: false, api_token: "file" },
    },
    {
      name: "--port over --host's port",
      args: ["--host", "0.0.0.0:4004", "--port", "5005"],
      env: {},
      files: { "config.json": file },
      want: { port: 5005, host: "0.0.0.0", debug: false, api_token: "file" },
    },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      const { config } = await load(c.args, c.env, c.files);
      assert.deepEqual(
        { port: config.port, host: config.host, debug: config.debug, api_token: config.api_token },
        c.want,
      );
    });
  }
});

Deno.test("CHUTES_API_TOKEN and its alias CHUTES_API_KEY", async (t) => {
  const cases: { env: Record<string, string>; want: string }[] = [
    { env: { CHUTES_API_TOKEN: "tok" }, want: "tok" },
    { env: { CHUTES_API_KEY: "key" }, want: "key" },
    { env: { CHUTES_API_TOKEN: "tok", CHUTES_API_KEY: "key" }, want: "tok" },
    { env: { CHUTES_API_TOKEN: "", CHUTES_API_KEY: "key" }, want: "key" },
    { env: { CHUTES_API_TOKEN: "  padded  " }, want: "padded" },
  ];
  for (const c of cases) {
    await t.step(JSON.stringify(c.env), async () => {
      assert.equal((await load([], c.env)).config.api_token, c.want);
    });
  }
});

Deno.test("a missing token says how to set it", async (t) => {
  const cases: { name: string; env: Record<string, string>; files: Record<string, string> }[] = [
    { name: "nothing set", env: {}, files: {} },
    { name: "blank token", env: { CHUTES_API_TOKEN: "   " }, files: {} },
    { name: "null in config.json", env: {}, files: { "config.json": '{"api_token": null}' } },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      await loadFails([], c.env, c.files, ["CHUTES_API_TOKEN", "CHUTES_API_KEY", ".env"]);
    });
  }
});

Deno.test("CHUTES_BASE_URL is normalised", async (t) => {
  const cases: [string, string][] = [
    ["https://llm.chutes.ai/v1", "https://llm.chutes.ai/v1"],
    ["https://llm.chutes.ai/v1/", "https://llm.chutes.ai/v1"],
    ["https://llm.chutes.ai/v1///", "https://llm.chutes.ai/v1"],
    ["https://llm.chutes.ai/v1/chat/completions", "https://llm.chutes.ai/v1"],
    ["https://llm.chutes.ai/v1/chat/completions/", "https://llm.chutes.ai/v1"],
    ["https://llm.chutes.ai/v1/completions", "https://llm.chutes.ai/v1"],
    ["  http://127.0.0.1:8000/v1  ", "http://127.0.0.1:8000/v1"],
    ["http://127.0.0.1:8000", "http://127.0.0.1:8000"],
    ["http://127.0.0.1:8000/", "http://127.0.0.1:8000"],
  ];
  for (const [raw, want] of cases) {
    await t.step(raw, async () => {
      const { config } = await load([], { CHUTES_API_TOKEN: TOKEN, CHUTES_BASE_URL: raw });
      assert.equal(config.base_url, want);
    });
  }
});

Deno.test("a base URL that is not http(s) is rejected, naming the key and the value", async (t) => {
  for (const raw of ["ftp://llm.chutes.ai/v1", "llm.chutes.ai/v1", "file:///etc/passwd"]) {
    await t.step(raw, async () => {
      await loadFails([], { CHUTES_API_TOKEN: TOKEN, CHUTES_BASE_URL: raw }, {}, [
        "base_url",
        JSON.stringify(raw),
      ]);
      assert.throws(() => normaliseBaseUrl("base_url", raw), ConfigError);
    });
  }
  assert.throws(() => normaliseBaseUrl("base_url", 42), /base_url.*42/);
});

Deno.test("OLLAMA_HOST is parsed the way Ollama reads it", async (t) => {
  const cases: [string, { host: string; port: number }][] = [
    ["0.0.0.0:11434", { host: "0.0.0.0", port: 11434 }],
    ["0.0.0.0", { host: "0.0.0.0", port: 11434 }],
    ["example.com", { host: "example.com", port: 11434 }],
    ["http://example.com", { host: "example.com", port: 80 }],
    ["https://example.com", { host: "example.com", port: 443 }],
    ["HTTPS://example.com", { host: "example.com", port: 443 }],
    ["http://example.com:8080", { host: "example.com", port: 8080 }],
    ["http://example.com:8080/some/path", { host: "example.com", port: 8080 }],
    ["[::1]:8080", { host: "::1", port: 8080 }],
    ["[::1]", { host: "::1", port: 11434 }],
    ["::1", { host: "::1", port: 11434 }],
    [":9000", { host: "127.0.0.1", port: 9000 }],
    ["localhost:0", { host: "localhost", port: 0 }],
  ];
  for (const [raw, want] of cases) {
    await t.step(raw, async () => {
      assert.deepEqual(parseBindAddress("OLLAMA_HOST", raw), want);
      const { config } = await load([], { CHUTES_API_TOKEN: TOKEN, OLLAMA_HOST: raw });
      assert.deepEqual({ host: config.host, port: config.port }, want);
    });
  }
});

Deno.test("a bad OLLAMA_HOST port names the variable and the value", async (t) => {
  for (const raw of ["0.0.0.0:abc", "0.0.0.0:65536", "host:-1"]) {
    await t.step(raw, async () => {
      await loadFails([], { CHUTES_API_TOKEN: TOKEN, OLLAMA_HOST: raw }, {}, [
        "OLLAMA_HOST",
        JSON.stringify(raw.slice(raw.lastIndexOf(":") + 1)),
      ]);
    });
  }
});

Deno.test("PROXY_DEBUG values", async (t) => {
  const cases: [string, boolean][] = [
    ["1", true],
    ["true", true],
    ["TRUE", true],
    ["yes", true],
    ["on", true],
    ["0", false],
    ["false", false],
    ["no", false],
    ["off", false],
    ["", false],
  ];
  for (const [raw, want] of cases) {
    await t.step(JSON.stringify(raw), async () => {
      const { config } = await load([], { CHUTES_API_TOKEN: TOKEN, PROXY_DEBUG: raw });
      assert.equal(config.debug, want);
    });
  }
  await t.step("invalid", async () => {
    await loadFails([], { CHUTES_API_TOKEN: TOKEN, PROXY_DEBUG: "maybe" }, {}, [
      "PROXY_DEBUG",
      '"maybe"',
    ]);
  });
  await t.step("config.json debug true is overridden by PROXY_DEBUG=0", async () => {
    const { config } = await load([], { CHUTES_API_TOKEN: TOKEN, PROXY_DEBUG: "0" }, {
      "config.json": '{"debug": true}',
    });
    assert.equal(config.debug, false);
  });
});

Deno.test("--config reads the named file and reports its path", async () => {
  const { config, configPath, reads } = await load(
    ["--config", "/etc/proxy.json"],
    { CHUTES_API_TOKEN: TOKEN },
    { "/etc/proxy.json": '{"port": 7007}', "config.json": '{"port": 1}' },
  );
  assert.equal(config.port, 7007);
  assert.equal(configPath, "/etc/proxy.json");
  assert.deepEqual(reads, ["/etc/proxy.json", ".env"]);
});

Deno.test("config.json is reported when present", async () => {
  const { configPath } = await load([], { CHUTES_API_TOKEN: TOKEN }, { "config.json": "{}" });
  assert.equal(configPath, "config.json");
});

Deno.test("config.json keys are read and comment keys skipped", async () => {
  const { config } = await load([], { CHUTES_API_TOKEN: TOKEN }, {
    "config.json": JSON.stringify({
      _comment: "ignored",
      $schema: "./schema.json",
      default_model: "Qwen/Qwen3-32B",
      default_system_prompt: "Be brief.",
      max_history_messages: 10,
      aliases: { qwen: "Qwen/Qwen3-32B" },
      models: ["a/b"],
      defaults: { temperature: 0.6, stop: "END" },
    }),
  });
  assert.equal(config.default_model, "Qwen/Qwen3-32B");
  assert.equal(config.default_system_prompt, "Be brief.");
  assert.equal(config.max_history_messages, 10);
  assert.deepEqual(config.aliases, { qwen: "Qwen/Qwen3-32B" });
  assert.deepEqual(config.models, ["a/b"]);
  assert.equal(config.defaults.temperature, 0.6);
  assert.deepEqual(config.defaults.stop, ["END"]);
  assert.equal(config.defaults.top_p, null);
});

Deno.test("--help answers help without reading anything or needing a token", async () => {
  const reads: string[] = [];
  const result = await loadConfig({
    args: ["--help"],
    env: {},
    readTextFile: (p) => {
      reads.push(p);
      return Promise.resolve(undefined);
    },
  });
  assert.deepEqual(result, { help: true });
  assert.deepEqual(reads, []);
  assert.equal(parseFlags(["-h"]).help, true);
  assert.match(USAGE, /--port/);
});

Deno.test("flag errors are ConfigErrors that name the flag", async (t) => {
  const cases: { args: string[]; fragments: string[] }[] = [
    { args: ["--bogus"], fragments: ["--bogus", "Usage:"] },
    { args: ["--port", "abc"], fragments: ["--port", '"abc"'] },
    { args: ["--port", "70000"], fragments: ["--port", '"70000"'] },
    { args: ["--port"], fragments: ["--port"] },
    { args: ["--host", "0.0.0.0:x"], fragments: ["--host", '"x"'] },
    { args: ["positional"], fragments: ["positional"] },
    { args: ["--config", "missing.json"], fragments: ["missing.json", "not found"] },
  ];
  for (const c of cases) {
    await t.step(c.args.join(" "), async () => {
      await loadFails(c.args, { CHUTES_API_TOKEN: TOKEN }, {}, c.fragments);
    });
  }
});

Deno.test("config.json errors name the key and the bad value", async (t) => {
  const cases: { name: string; file: string; fragments: string[] }[] = [
    { name: "port not a number", file: '{"port": "abc"}', fragments: ['"port"', '"abc"'] },
    { name: "port out of range", file: '{"port": 65536}', fragments: ['"port"', "65536"] },
    {
      name: "temperature default not a number",
      file: '{"defaults": {"temperature": "hot"}}',
      fragments: ['"defaults.temperature"', '"hot"', "number"],
    },
    {
      name: "unknown defaults key",
      file: '{"defaults": {"xyz": 1}}',
      fragments: ['"defaults.xyz"', "unknown parameter"],
    },
    {
      name: "unknown top-level key",
      file: '{"prot": 1}',
      fragments: ["config.json", '"prot"', "unknown key"],
    },
    {
      name: "max_history_messages 0",
      file: '{"max_history_messages": 0}',
      fragments: ['"max_history_messages"', "0", "-1"],
    },
    {
      name: "max_history_messages fractional",
      file: '{"max_history_messages": 2.5}',
      fragments: ['"max_history_messages"', "2.5"],
    },
    { name: "debug a string", file: '{"debug": "yes"}', fragments: ['"debug"', '"yes"'] },
    {
      name: "ollama_version not x.y.z",
      file: '{"ollama_version": "latest"}',
      fragments: ['"ollama_version"', '"latest"'],
    },
    { name: "models with a blank", file: '{"models": [""]}', fragments: ['"models"'] },
    {
      name: "alias to a number",
      file: '{"aliases": {"a": 1}}',
      fragments: ['"aliases"', '{"a":1}'],
    },
    { name: "base_url not http", file: '{"base_url": "ftp://x"}', fragments: ['"ftp://x"'] },
    { name: "not JSON", file: "{port: 1}", fragments: ["config.json", "not valid JSON"] },
    { name: "not an object", file: "[1]", fragments: ["config.json", "JSON object"] },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      await loadFails([], { CHUTES_API_TOKEN: TOKEN }, { "config.json": c.file }, c.fragments);
    });
  }
});

Deno.test("a bad default's message says what it got only once", async () => {
  const err = await load([], { CHUTES_API_TOKEN: TOKEN }, {
    "config.json": '{"defaults": {"temperature": "hot"}}',
  }).catch((e: Error) => e);
  assert.ok(err instanceof ConfigError);
  assert.equal(err.message.split('"hot"').length - 1, 1, err.message);
});

Deno.test("the returned config is frozen", async () => {
  const { config } = await load([], { CHUTES_API_TOKEN: TOKEN });
  assert.ok(Object.isFrozen(config));
  assert.throws(() => {
    (config as { port: number }).port = 1;
  }, TypeError);
  assert.equal(config.port, 11434);
});

Deno.test("parseDotEnv reads KEY=value lines", () => {
  const text = [
    "# a comment",
    "",
    "CHUTES_API_TOKEN=abc",
    "export OLLAMA_HOST=0.0.0.0:1234",
    'QUOTED="a b # not a comment"',
    "SINGLE='x=y'",
    "TRAILING=value # comment",
    "SPACED = spaced",
    "not a line",
    "EMPTY=",
  ].join("\r\n");
  assert.deepEqual(parseDotEnv(text), {
    CHUTES_API_TOKEN: "abc",
    OLLAMA_HOST: "0.0.0.0:1234",
    QUOTED: "a b # not a comment",
    SINGLE: "x=y",
    TRAILING: "value",
    SPACED: "spaced",
    EMPTY: "",
  });
});

Deno.test("config.example.json is valid, lists every key, and docs/configuration.md documents each", async () => {
  const { checkFileConfig, DEFAULTS, validateConfig } = await import("../../lib/config/config.ts");
  const example = JSON.parse(
    await Deno.readTextFile(new URL("../../config.example.json", import.meta.url)),
  );
  const keys = Object.keys(checkFileConfig(example, "config.example.json"));
  assert.deepEqual(keys.toSorted(), Object.keys(DEFAULTS).toSorted());
  validateConfig({ ...checkFileConfig(example, "config.example.json"), api_token: "cpk_made_up" });
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  // The reference table moved to docs/configuration.md; each key is named in a row's first cell.
  const reference = await Deno.readTextFile(
    new URL("../../docs/configuration.md", import.meta.url),
  );
  for (const key of keys) {
    assert.match(reference, new RegExp(`^\\| [^|]*\`${key}\`[^|]*\\|`, "m"), `no row for ${key}`);
    assert.ok(readme.includes(`\`${key}\``), `README lacks ${key}`);
  }
  for (
    const env of [
      "CHUTES_API_TOKEN",
      "CHUTES_API_KEY",
      "CHUTES_BASE_URL",
      "CHUTES_EMBED_BASE_URL",
      "OLLAMA_HOST",
      "OLLAMA_ORIGINS",
      "PROXY_API_KEYS",
      "PROXY_DEBUG",
      "CHUTES_MANAGEMENT_BASE_URL",
      "PROXY_STATE_DIR",
      "PROXY_LOG_FORMAT",
      "PROXY_ALLOWED_HOSTS",
    ]
  ) {
    assert.ok(readme.includes(env), `README lacks ${env}`);
    assert.ok(reference.includes(env), `docs/configuration.md lacks ${env}`);
  }
});

Deno.test("upstream_ca_file: read at start-up; a missing file or one without a certificate stops it", async () => {
  const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  const files = { "config.json": JSON.stringify({ upstream_ca_file: "ca.pem" }), "ca.pem": pem };
  const result = await loadConfig({
    args: [],
    env: { CHUTES_API_TOKEN: TOKEN },
    readTextFile: (path) => Promise.resolve(files[path as keyof typeof files]),
  });
  assert.ok(!result.help);
  assert.equal(result.config.upstream_ca_file, "ca.pem");
  assert.equal(result.upstreamCa, pem);
  await loadFails([], { CHUTES_API_TOKEN: TOKEN }, { "config.json": files["config.json"] }, [
    "upstream_ca_file",
    "ca.pem not found",
  ]);
  await loadFails([], { CHUTES_API_TOKEN: TOKEN }, { ...files, "ca.pem": "not a certificate" }, [
    "upstream_ca_file: ca.pem holds no PEM certificate",
  ]);
});
