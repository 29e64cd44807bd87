/**
 * The environment variables the proxy understands, read into raw config values (validated later
 * with the file's values and the flags, so a bad variable is reported like a bad key).
 */
import { type Config } from "./config.ts";
import { parseBindAddress, parseBool } from "./values.ts";

const commaList = (raw: string) => raw.split(",").map((s) => s.trim()).filter((s) => s !== "");

/** Reads the environment variables the proxy understands into raw config values. */
export function configFromEnv(
  env: Readonly<Record<string, string>>,
): Partial<Record<keyof Config, unknown>> {
  const out: Partial<Record<keyof Config, unknown>> = {};
  const token = env.CHUTES_API_TOKEN || env.CHUTES_API_KEY;
  if (token) out.api_token = token;
  if (env.CHUTES_BASE_URL) out.base_url = env.CHUTES_BASE_URL;
  if (env.OLLAMA_HOST) Object.assign(out, parseBindAddress("OLLAMA_HOST", env.OLLAMA_HOST));
  if (env.PROXY_DEBUG !== undefined) out.debug = parseBool("PROXY_DEBUG", env.PROXY_DEBUG);
  if (env.CHUTES_EMBED_BASE_URL) out.embed_base_url = env.CHUTES_EMBED_BASE_URL;
  if (env.OLLAMA_ORIGINS) out.origins = commaList(env.OLLAMA_ORIGINS);
  if (env.PROXY_API_KEYS) out.api_keys = commaList(env.PROXY_API_KEYS);
  if (env.PROXY_ALLOWED_HOSTS) out.allowed_hosts = commaList(env.PROXY_ALLOWED_HOSTS);
  if (env.CHUTES_MANAGEMENT_BASE_URL) out.management_base_url = env.CHUTES_MANAGEMENT_BASE_URL;
  if (env.PROXY_STATE_DIR) out.state_dir = env.PROXY_STATE_DIR;
  if (env.PROXY_LOG_FORMAT) out.log_format = env.PROXY_LOG_FORMAT.trim().toLowerCase();
  return out;
}
