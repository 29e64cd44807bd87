/**
 * The shape of a route row, which every door (and ops) contributes to the router: a method, a
 * path (a trailing `*` matches a non-empty rest, handed to the handler), the handler, and the
 * door's own error shape so a failure on that route answers the way its clients parse errors.
 */
import type { RequestContext } from "./context.ts";
import type { CoreDeps } from "./deps.ts";

/** A route's handler; `rest` is what a trailing `*` matched. */
export type RouteHandler = (
  request: Request,
  deps: CoreDeps,
  ctx: RequestContext,
  rest: string,
) => Promise<Response> | Response;

/** One route. `label` names it in metrics (default: the path). */
export interface RouteRow {
  method: "GET" | "POST" | "DELETE" | "HEAD";
  path: string;
  handler: RouteHandler;
  label?: string;
}

/** A door's error body for a status before the first byte. */
export type ErrorShape = (status: number, message: string) => Response;

/** What a door (or ops) mounts: its rows, its error shape, and the path prefixes it owns. */
export interface RouteTable {
  name: string;
  rows: readonly RouteRow[];
  errorShape: ErrorShape;
  /** Unknown paths under these prefixes get this table's error shape (404s, 405s). */
  prefixes: readonly string[];
}
