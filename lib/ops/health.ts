/**
 * Liveness and readiness for probes: `/healthz` answers while the process serves; `/readyz` is
 * ready when the upstream catalogue answered recently (within two cache lifetimes, at least 10
 * minutes) and the upstream has not refused the token, else 503 with the reason. A list older
 * than that is refreshed by the probe itself (waiting up to 5 s), so an idle proxy is judged by
 * the upstream, not by its traffic.
 */
import { jsonResponse } from "../base/errors.ts";
import type { CoreDeps } from "../core/deps.ts";
import { TOKEN_FIX } from "../models/token_check.ts";

/** `GET /readyz`. */
export async function handleReadyz(_request: Request, deps: CoreDeps): Promise<Response> {
  const window = Math.max(2 * deps.config.catalogue_ttl_seconds, 600) * 1000;
  await deps.catalogue.refreshIfOlder(window, 5000);
  const token = deps.tokenCheck.verdict;
  if (token.state === "refused") {
    return jsonResponse({ status: "not ready", reason: `${token.message}. ${TOKEN_FIX}` }, 503);
  }
  const age = deps.catalogue.ageMs;
  if (age <= window) {
    return jsonResponse({ status: "ready", catalogue_age_seconds: Math.round(age / 1000) });
  }
  const error = deps.catalogue.lastError;
  const reason =
    (age === Infinity
      ? "the upstream model list has not been fetched yet"
      : `the upstream model list was last fetched ${Math.round(age / 1000)} s ago`) +
    (error ? ` (the last attempt failed: ${error})` : "");
  return jsonResponse({ status: "not ready", reason }, 503);
}
