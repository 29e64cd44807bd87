/**
 * `--version`: the proxy's own version and the Ollama version it reports to clients
 * (`ollama_version`, which clients such as Copilot check), read from the same configuration the
 * proxy would start with — but without needing a token, so it works before setup.
 */
import { DEFAULTS } from "../config/config.ts";
import { type ConfigInputs, loadConfig } from "../config/sources.ts";
import { ConfigError } from "../config/values.ts";
import { PROXY_VERSION } from "../base/version.ts";

/** The `--version` text. */
export async function versionText(inputs: ConfigInputs): Promise<string> {
  let ollama = DEFAULTS.ollama_version;
  let note = "";
  try {
    // The token is irrelevant here; a stand-in lets a setup without one load its settings.
    const args = inputs.args.filter((a) => a !== "--version");
    const env = { CHUTES_API_TOKEN: "version-placeholder", ...inputs.env };
    const loaded = await loadConfig({ ...inputs, args, env });
    if (!loaded.help) ollama = loaded.config.ollama_version;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    note = ` (the default: the configuration does not load: ${err.message.split("\n")[0]})`;
  }
  return `ollama-chutes-proxy ${PROXY_VERSION}\nreports Ollama version ${ollama}${note}`;
}
