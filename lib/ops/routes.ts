/**
 * The operator's routes: health and readiness probes, Prometheus `/metrics`, and the status page
 * (`/ui`, its data at `/ui/data`). Errors use the plain `{"error": "..."}` shape.
 */
import { errorResponse, jsonResponse } from "../base/errors.ts";
import type { RouteTable } from "../core/routes.ts";
import { handleReadyz } from "./health.ts";
import { statusData } from "./status.ts";
import { STATUS_PAGE_HTML } from "./status_page.ts";

/** The ops routes. */
export const OPS_ROUTES: RouteTable = {
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
      handler: async (_r, d) => jsonResponse(await statusData(d)),
    },
  ],
};
