/**
 * Entry point: load the configuration, build the app, serve it, and stop cleanly on a signal.
 * `--check` checks the setup and exits instead; `--demo` serves the built-in demo upstream.
 */
import { type AliasStore, memoryAliasStore, openAliasFile } from "./lib/models/aliases_file.ts";
import { createApp, startBackground } from "./lib/app.ts";
import { exposureWarning } from "./lib/server/auth.ts";
import { checkExitCode, checkSetup, formatCheckReport } from "./lib/cli/check.ts";
import { type ConfigInputs, loadConfig, parseFlags, USAGE } from "./lib/config/sources.ts";
import type { Config } from "./lib/config/config.ts";
import { demoFetch } from "./lib/demo/demo.ts";
import { ConfigError } from "./lib/config/values.ts";
import { startServer } from "./lib/server/serve.ts";
import { Shutdown } from "./lib/server/shutdown.ts";
import { versionText } from "./lib/cli/version.ts";
import { UsageStore } from "./lib/ops/usage_store.ts";
import { createLogger } from "./lib/base/log.ts";
import { dirname, join } from "node:path";

async function readTextFile(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

/** A start-up problem: prints it and answers exit status 2; anything else is rethrown. */
function startupFailure(err: unknown): number {
  if (!(err instanceof ConfigError)) throw err;
  // deno-lint-ignore no-console
  console.error(`error: ${err.message}`);
  return 2;
}

/** `--check`: prints the verdict of each step; 0 when all pass, 1 otherwise. */
async function check(inputs: ConfigInputs): Promise<number> {
  const report = await checkSetup(inputs);
  // deno-lint-ignore no-console
  console.log(formatCheckReport(report));
  return checkExitCode(report);
}

const DEMO_BANNER = "DEMO MODE: every answer is canned by the built-in demo upstream (models " +
  "demo/chat, demo/tools, demo/thinker, demo/vision); no Chutes token is used and nothing leaves " +
  "this machine. For real models, restart without --demo and with CHUTES_API_TOKEN set.";

async function main(): Promise<number> {
  const inputs = { args: Deno.args, env: Deno.env.toObject(), readTextFile };
  let loaded;
  try {
    const flags = parseFlags(inputs.args);
    if (flags.version && !flags.help) {
      // deno-lint-ignore no-console
      console.log(await versionText(inputs));
      return 0;
    }
    if (flags.check && !flags.help) return await check(inputs);
    loaded = await loadConfig(inputs);
  } catch (err) {
    return startupFailure(err);
  }
  if (loaded.help) {
    // deno-lint-ignore no-console
    console.log(USAGE);
    return 0;
  }
  const { config, configPath, aliasesPath, demo, upstreamCa } = loaded;
  let aliasStore: AliasStore;
  try {
    // A demo session's `ollama cp` must not leave demo aliases in the real aliases file.
    aliasStore = demo ? memoryAliasStore() : await openAliasFile(aliasesPath);
  } catch (err) {
    return startupFailure(err);
  }
  const shutdown = new AbortController();
  // Demo usage is not the user's: it is counted in memory only.
  const usageStore = demo ? undefined : await openUsageStore(config, configPath);
  const { deps, handler, usage } = createApp(config, {
    aliasStore,
    shutdown: shutdown.signal,
    env: inputs.env,
    ...(upstreamCa ? { upstreamCa } : {}),
    ...(demo ? { fetch: demoFetch } : {}),
    ...(usageStore ? { usageStore } : {}),
  });
  if (demo) deps.log.warn(DEMO_BANNER);
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = startServer({
      host: config.host,
      port: config.port,
      log: deps.log,
      onListen: ({ hostname, port }) => {
        const at = `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
        const to = demo ? "the built-in demo upstream (DEMO MODE)" : config.base_url;
        deps.log.info(
          `ollama-chutes-proxy listening on ${at} → ${to} (config: ${configPath ?? "none"}, ` +
            `aliases: ${aliasStore.where}, usage: ${usage.where}${config.debug ? ", debug" : ""})`,
        );
      },
    }, handler);
  } catch (err) {
    return startupFailure(err);
  }
  const warning = exposureWarning(config.host, config.api_keys);
  if (warning) deps.log.warn(warning);
  void startBackground(deps, shutdown.signal, { checkToken: !demo });
  // Deno.serve cannot drop its connections once a graceful shutdown began, so the end of the
  // shutdown is the end of the process: a client that stopped reading cannot hold it open.
  const { promise: closed, resolve: close } = Promise.withResolvers<void>();
  const stop = new Shutdown({
    graceMs: config.shutdown_grace_seconds * 1000,
    drain: () => server.shutdown(),
    cut: () => shutdown.abort(),
    close,
    log: deps.log,
  });
  Deno.addSignalListener("SIGINT", () => stop.signal("SIGINT"));
  // SIGTERM (systemd, docker stop) does not exist on Windows.
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", () => stop.signal("SIGTERM"));
  await Promise.race([server.finished, closed]);
  usage.close();
  return 0;
}

/**
 * The usage database in the state directory (`state_dir`, else beside the config file, else the
 * working directory), created when missing. Problems are reported and the proxy serves on.
 */
async function openUsageStore(
  config: Config,
  configPath: string | null,
): Promise<UsageStore> {
  const dir = config.state_dir ?? (configPath === null ? "." : dirname(configPath));
  const log = createLogger({
    debug: config.debug,
    secrets: [config.api_token],
    format: config.log_format,
  });
  await Deno.mkdir(dir, { recursive: true }).catch(() => {});
  return UsageStore.open(join(dir, "usage.sqlite"), {
    retentionDays: config.usage_retention_days,
    log,
  });
}

Deno.exit(await main());
