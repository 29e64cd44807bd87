/**
 * Entry point: load the configuration, build the app, serve it, and stop cleanly on a signal.
 */
import { createApp } from "./lib/app.ts";
import { exposureWarning } from "./lib/auth.ts";
import { ConfigError } from "./lib/config.ts";
import { loadConfig, USAGE } from "./lib/config_sources.ts";

async function readTextFile(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

async function main(): Promise<number> {
  let loaded;
  try {
    loaded = await loadConfig({ args: Deno.args, env: Deno.env.toObject(), readTextFile });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // deno-lint-ignore no-console
    console.error(`error: ${err.message}`);
    return 2;
  }
  if (loaded.help) {
    // deno-lint-ignore no-console
    console.log(USAGE);
    return 0;
  }
  const { config, configPath } = loaded;
  const { deps, handler } = createApp(config);
  const server = Deno.serve({
    hostname: config.host,
    port: config.port,
    onListen: ({ hostname, port }) => {
      deps.log.info(
        `ollama-chutes-proxy listening on http://${
          hostname.includes(":") ? `[${hostname}]` : hostname
        }:${port} ` +
          `→ ${config.base_url} (config: ${configPath ?? "none"}${config.debug ? ", debug" : ""})`,
      );
    },
  }, handler);
  const warning = exposureWarning(config.host, config.api_keys);
  if (warning) deps.log.warn(warning);
  void deps.catalogue.refresh();
  const stop = () => {
    deps.log.info("shutting down");
    void server.shutdown();
  };
  Deno.addSignalListener("SIGINT", stop);
  // SIGTERM (systemd, docker stop) does not exist on Windows.
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", stop);
  await server.finished;
  return 0;
}

Deno.exit(await main());
