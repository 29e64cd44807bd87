/**
 * The operator's routes: health and readiness probes, Prometheus `/metrics`, the status page
 * (`/ui`, its data at `/ui/data`) and its icon. Errors use the plain `{"error": "..."}` shape.
 * The persistent usage store is theirs alone, so it is handed in here rather than through the
 * core's dependencies.
 */
import { errorResponse, jsonResponse } from "../base/errors.ts";
import type { RouteTable } from "../core/routes.ts";
import { FAVICON_ICO } from "./favicon.ts";
import { handleReadyz } from "./health.ts";
import { statusData } from "./status.ts";
import { STATUS_PAGE_HTML } from "./status_page.ts";
import type { UsageStore } from "./usage_store.ts";

/** The ops routes, reading usage from `usage`. */
export function opsRoutes(options: { usage: UsageStore }): RouteTable {
  return {
    name: "ops",
    errorShape: errorResponse,
    prefixes: [],
    rows: [
      { method: "GET", path: "/healthz", handler: () => jsonResponse({ status: "ok" }) },
      { method: "GET", path: "/readyz", handler: handleReadyz },
      {
        method: "GET",
        path: "/metrics",
        handler: (_r, d) =>
          new Response(d.metrics.prometheus(), {
            headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
          }),
      },
      {
        method: "GET",
        path: "/ui",
        handler: () =>
          new Response(STATUS_PAGE_HTML, {
            headers: { "content-type": "text/html; charset=utf-8" },
          }),
      },
      {
        method: "GET",
        path: "/ui/data",
        handler: async (_r, d) => jsonResponse(await statusData(d, options.usage)),
      },
      {
        method: "GET",
        path: "/favicon.ico",
        handler: () =>
          new Response(FAVICON_ICO.slice(), {
            headers: { "content-type": "image/x-icon", "cache-control": "max-age=86400" },
          }),
      },
    ],
  };
}
