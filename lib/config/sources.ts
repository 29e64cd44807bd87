/**
 * Where configuration comes from: CLI flags, the process environment, a `.env` file and
 * `config.json`. `loadConfig` merges them in order (defaults ← file ← env ← flags) and hands the
 * result to `validateConfig`. File access is injected so tests run without touching disk.
 */
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { checkFileConfig, type Config, validateConfig } from "./config.ts";
import { ConfigError, parseBindAddress, parsePort } from "./values.ts";
import { configFromEnv } from "./env.ts";

/** Usage text printed by `--help`. */
export const USAGE = `ollama-chutes-proxy: an Ollama-compatible server in front of Chutes.ai

Usage: ollama-chutes-proxy [options]

Options:
  --config <path>   config file (default: ./config.json when present)
  --host <host>     bind address (default 127.0.0.1, or from OLLAMA_HOST)
  --port <port>     bind port (default 11434, or from OLLAMA_HOST)
  --debug           verbose logging (request/response bodies; the token is redacted)
  --demo            serve canned answers from a built-in demo upstream (demo/chat,
                    demo/tools, demo/thinker, demo/vision); no token needed, nothing sent out
  --check           check the setup (config, upstream reachable, token accepted, models
                    visible), print a verdict with the fix for each failure; exit 0 when all pass
  --version         print the proxy's version and the Ollama version it reports
  --help            show this help

Environment: CHUTES_API_TOKEN (or CHUTES_API_KEY), CHUTES_BASE_URL, CHUTES_EMBED_BASE_URL,
CHUTES_MANAGEMENT_BASE_URL, OLLAMA_HOST, OLLAMA_ORIGINS, PROXY_ALLOWED_HOSTS, PROXY_API_KEYS,
PROXY_DEBUG, PROXY_LOG_FORMAT, PROXY_STATE_DIR. Every other setting is a config.json key: see
config.example.json and the README.
A .env file in the working directory is read too; real environment variables win over it.`;

/** Parsed command-line flags. */
export interface Flags {
  config?: string;
  host?: string;
  port?: string;
  debug?: boolean;
  demo?: boolean;
  check?: boolean;
  version?: boolean;
  help?: boolean;
}

/** Parses CLI flags; an unknown flag is a `ConfigError` that names it. */
export function parseFlags(args: readonly string[]): Flags {
  let flags: Flags;
  try {
    const { values } = parseArgs({
      args: [...args],
      options: {
        config: { type: "string" },
        host: { type: "string" },
        port: { type: "string" },
        debug: { type: "boolean" },
        demo: { type: "boolean" },
        check: { type: "boolean" },
        version: { type: "boolean", short: "v" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    });
    flags = values as Flags;
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}\n\n${USAGE}`);
  }
  if (flags.demo && flags.check) {
    throw new ConfigError("--demo and --check cannot be combined: --check tests the real upstream");
  }
  return flags;
}

/** Parses `.env` text: `KEY=value` lines, `#` comments, optional `export`, quoted values. */
export function parseDotEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2] ?? "";
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) {
      value = value.slice(1, -1);
      if (quote === '"') value = value.replace(/\\n/g, "\n");
    } else {
      value = value.replace(/\s+#.*$/, "");
    }
    out[m[1]!] = value;
  }
  return out;
}

/** Reads a text file, answering `undefined` when it does not exist. */
export type ReadTextFile = (path: string) => Promise<string | undefined>;

/** Everything `loadConfig` reads from the outside world. */
export interface ConfigInputs {
  args: readonly string[];
  env: Readonly<Record<string, string>>;
  readTextFile: ReadTextFile;
}

/** Loads and validates the configuration; returns `help: true` when `--help` was given. */
export async function loadConfig(
  inputs: ConfigInputs,
): Promise<
  { help: true } | {
    help: false;
    /** True with `--demo`: the config points at the built-in demo upstream. */
    demo: boolean;
    config: Config;
    configPath: string | null;
    /** The aliases file: `aliases_file`, else `aliases.json` beside the config file (or here). */
    aliasesPath: string;
    /** The PEM text of `upstream_ca_file`, when set. */
    upstreamCa?: string;
  }
> {
  const flags = parseFlags(inputs.args);
  if (flags.help) return { help: true };
  const configPath = flags.config ?? "config.json";
  const fileText = await inputs.readTextFile(configPath);
  if (fileText === undefined && flags.config !== undefined) {
    throw new ConfigError(`config file ${flags.config} not found`);
  }
  let fromFile = {};
  if (fileText !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(fileText);
    } catch (err) {
      throw new ConfigError(`${configPath}: not valid JSON (${(err as Error).message})`);
    }
    fromFile = checkFileConfig(parsed, configPath);
  }
  const dotEnvText = await inputs.readTextFile(".env");
  // Each layer is read on its own, so a real CHUTES_API_KEY beats a .env CHUTES_API_TOKEN.
  const fromEnv = {
    ...configFromEnv(dotEnvText ? parseDotEnv(dotEnvText) : {}),
    ...configFromEnv(inputs.env),
  };
  const fromFlags: Record<string, unknown> = {};
  if (flags.host !== undefined) {
    const bind = parseBindAddress("--host", flags.host);
    fromFlags.host = bind.host;
    // Only an explicit port (or scheme) overrides the port; `[::1]` and `::1` carry none.
    if (/^[a-z]+:\/\/|^\[[^\]]*\]:|^[^[:]*:[^:]*$/i.test(flags.host)) fromFlags.port = bind.port;
  }
  if (flags.port !== undefined) fromFlags.port = parsePort("--port", flags.port);
  if (flags.debug) fromFlags.debug = true;
  const demo = flags.demo === true;
  const config = validateConfig({ ...fromFile, ...fromEnv, ...fromFlags }, { demo });
  const loadedPath = fileText === undefined ? null : configPath;
  const aliasesPath = config.aliases_file ??
    (loadedPath === null ? "aliases.json" : join(dirname(loadedPath), "aliases.json"));
  const upstreamCa = await readCaFile(config.upstream_ca_file, inputs.readTextFile);
  return {
    help: false,
    demo,
    config,
    configPath: loadedPath,
    aliasesPath,
    ...(upstreamCa === undefined ? {} : { upstreamCa }),
  };
}

/** Reads `upstream_ca_file`: it must exist and hold at least one PEM certificate. */
async function readCaFile(
  path: string | null,
  readTextFile: ReadTextFile,
): Promise<string | undefined> {
  if (path === null) return undefined;
  const text = await readTextFile(path);
  if (text === undefined) throw new ConfigError(`upstream_ca_file: ${path} not found`);
  if (!text.includes("-----BEGIN CERTIFICATE-----")) {
    throw new ConfigError(`upstream_ca_file: ${path} holds no PEM certificate`);
  }
  return text;
}
