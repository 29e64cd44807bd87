/**
 * Liveness and readiness for probes: `/healthz` answers while the process serves; `/readyz` is
 * ready when the upstream catalogue answered recently (within two cache lifetimes, at least 10
 * minutes), else 503 with the reason.
 */
import { jsonResponse } from "../base/errors.ts";
import type { CoreDeps } from "../core/deps.ts";

/** `GET /readyz`. */
export function handleReadyz(_request: Request, deps: CoreDeps): Response {
  const age = Date.now() - deps.catalogue.lastSuccessAt;
  const window = Math.max(2 * deps.config.catalogue_ttl_seconds, 600) * 1000;
  if (age <= window) {
    return jsonResponse({ status: "ready", catalogue_age_seconds: Math.round(age / 1000) });
  }
  const reason = deps.catalogue.lastSuccessAt === 0
    ? "the upstream model list has not been fetched yet"
    : `the upstream model list was last fetched ${Math.round(age / 1000)} s ago`;
  return jsonResponse({ status: "not ready", reason }, 503);
}
