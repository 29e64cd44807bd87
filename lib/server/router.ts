/**
 * The HTTP edge: `createHandler(deps, tables)` returns the fetch handler that `Deno.serve` runs and
 * tests call directly. Each request passes the Host check (DNS rebinding, lib/server/host.ts)
 * before anything else, then the CORS policy and the access keys, then the route
 * row that matches it; the rows come from each door and from ops (lib/core/routes.ts). Every
 * failure leaves in the error shape of the table that owns the route (or, for an unknown path,
 * of the table that owns its prefix), with the right status — on unknown routes (404) and wrong
 * methods (405) too, because clients JSON-parse error bodies.
 */
import { ProxyError, toProxyError } from "../base/errors.ts";
import { safeHeaderValue } from "../base/headers.ts";
import { RequestContext } from "../core/context.ts";
import type { CoreDeps } from "../core/deps.ts";
import type { ErrorShape, RouteRow, RouteTable } from "../core/routes.ts";
import type { KeyCheck } from "./auth.ts";
import type { CorsPolicy } from "./cors.ts";
import { decodeBody } from "./encoding.ts";
import type { HostCheck } from "./host.ts";
import { guardBody } from "./limits.ts";
import { withRequestId } from "../base/request_scope.ts";
import type { KeyNames } from "./key_names.ts";

/** The core's parts plus what only the edge uses. */
export interface ServerDeps extends CoreDeps {
  cors: CorsPolicy;
  keys: KeyCheck;
  hosts: HostCheck;
  keyNames?: KeyNames;
}

/** Refused `Host` names already logged (each once, and only so many: an attacker picks them). */
const MAX_LOGGED_HOSTS = 20;

function refuseHost(host: string, deps: ServerDeps, logged: Set<string>): Response {
  if (!logged.has(host) && logged.size < MAX_LOGGED_HOSTS) {
    logged.add(host);
    deps.log.warn(
      `refused a request for Host ${JSON.stringify(host)}: not a local name (DNS-rebinding ` +
        "guard); if this is your name for the proxy, add it to allowed_hosts",
    );
  }
  const message = `host ${JSON.stringify(host)} is not allowed (add it to allowed_hosts)`;
  return Response.json({ error: message }, { status: 403 });
}

interface Mounted {
  row: RouteRow;
  errorShape: ErrorShape;
  /** The table's name: the door a request on this row came through (`ops` is none). */
  table: string;
}

/** The matching structure built once from the tables. */
class RouteIndex {
  readonly #exact = new Map<string, Map<string, Mounted>>();
  readonly #wild: { prefix: string; methods: Map<string, Mounted> }[] = [];
  readonly #owners: { prefix: string; errorShape: ErrorShape }[] = [];

  constructor(tables: readonly RouteTable[]) {
    for (const table of tables) {
      for (const row of table.rows) {
        const mounted = { row, errorShape: table.errorShape, table: table.name };
        if (row.path.endsWith("*")) {
          const prefix = row.path.slice(0, -1);
          let wild = this.#wild.find((w) => w.prefix === prefix);
          if (!wild) this.#wild.push(wild = { prefix, methods: new Map() });
          wild.methods.set(row.method, mounted);
        } else {
          const methods = this.#exact.get(row.path) ?? new Map<string, Mounted>();
          methods.set(row.method, mounted);
          this.#exact.set(row.path, methods);
        }
      }
      for (const prefix of table.prefixes) {
        this.#owners.push({ prefix, errorShape: table.errorShape });
      }
    }
    // The longest prefix decides whose error shape an unknown path gets.
    this.#owners.sort((a, b) => b.prefix.length - a.prefix.length);
  }

  /** The rows for a path and what a trailing `*` matched, when any row has this path. */
  find(path: string): { methods: Map<string, Mounted>; rest: string } | undefined {
    const exact = this.#exact.get(path);
    if (exact) return { methods: exact, rest: "" };
    for (const wild of this.#wild) {
      if (path.startsWith(wild.prefix) && path.length > wild.prefix.length) {
        return { methods: wild.methods, rest: path.slice(wild.prefix.length) };
      }
    }
    return undefined;
  }

  /** The error shape for an unknown path. */
  ownerShape(path: string): ErrorShape | undefined {
    return this.#owners.find((o) => path.startsWith(o.prefix))?.errorShape;
  }
}

/** What the router decided for a request: a row to run, or an error in a shape. */
type Decision =
  | { kind: "route"; mounted: Mounted; rest: string }
  | { kind: "error"; error: ProxyError; errorShape: ErrorShape | undefined };

function decide(index: RouteIndex, method: string, path: string): Decision {
  const found = index.find(path);
  if (!found) {
    return {
      kind: "error",
      error: new ProxyError(404, `404 page not found: ${path}`),
      errorShape: index.ownerShape(path),
    };
  }
  const mounted = found.methods.get(method) ??
    (method === "HEAD" ? found.methods.get("GET") : undefined);
  if (!mounted) {
    const any = found.methods.values().next().value as Mounted;
    return {
      kind: "error",
      error: new ProxyError(405, `405 method not allowed: ${method} ${path}`),
      errorShape: any.errorShape,
    };
  }
  let rest = found.rest;
  try {
    rest = decodeURIComponent(rest);
  } catch {
    return {
      kind: "error",
      error: new ProxyError(400, `invalid escape in path: ${found.rest}`),
      errorShape: mounted.errorShape,
    };
  }
  return { kind: "route", mounted, rest };
}

function withHeaders(response: Response, extra: Headers, head: boolean): Response {
  const headers = new Headers();
  response.headers.forEach((value, key) => headers.append(key, safeHeaderValue(value)));
  extra.forEach((value, key) => headers.set(key, value));
  if (head) void response.body?.cancel();
  return new Response(head ? null : response.body, { status: response.status, headers });
}

/** The app's fetch handler; `Deno.serve` passes `info` (the client's address), tests may not. */
export type Handler = (
  request: Request,
  info?: { remoteAddr?: Deno.Addr },
) => Promise<Response>;

function sourceAddress(info: { remoteAddr?: Deno.Addr } | undefined): string {
  const addr = info?.remoteAddr;
  return addr && "hostname" in addr ? addr.hostname : "unknown";
}

const PLAIN_ERROR: ErrorShape = (status, message) => Response.json({ error: message }, { status });

/** Creates the app's fetch handler over the route tables of the doors and ops. */
export function createHandler(
  deps: ServerDeps,
  tables: readonly RouteTable[],
): Handler {
  const index = new RouteIndex(tables);
  const loggedHosts = new Set<string>();
  return async (request, info) => {
    const host = request.headers.get("host");
    if (!deps.hosts.permits(host)) return refuseHost(host ?? "", deps, loggedHosts);
    const started = deps.clock.now();
    const path = new URL(request.url).pathname.replace(/\/+$/, "") || "/";
    const cors = deps.cors.check(request);
    if (cors.kind === "forbidden") return new Response(null, { status: 403 });
    if (cors.kind === "preflight") {
      return new Response(null, { status: 204, headers: cors.headers });
    }
    const decision = decide(index, request.method, path);
    const label = decision.kind === "route"
      ? decision.mounted.row.label ?? decision.mounted.row.path
      : "other";
    const ctx = new RequestContext(
      request.method,
      path,
      started,
      () => deps.clock.now(),
      deps.log,
      deps.metrics,
      label,
    );
    if (decision.kind === "route" && decision.mounted.table !== "ops") {
      ctx.door = decision.mounted.table;
    }
    const addr = info?.remoteAddr;
    if (addr && "hostname" in addr) ctx.client = addr.hostname;
    const errorShape =
      (decision.kind === "route" ? decision.mounted.errorShape : decision.errorShape) ??
        PLAIN_ERROR;
    let response: Response;
    try {
      response = await withRequestId(
        ctx.id,
        () => dispatch(request, path, decision, deps, ctx, sourceAddress(info)),
      );
    } catch (err) {
      const proxyError = toProxyError(err);
      if (!(err instanceof ProxyError)) {
        deps.log.error(`internal error: ${(err as Error)?.stack ?? err}`);
      }
      const message = await withAccountNote(proxyError, deps, ctx);
      ctx.failure = message;
      response = errorShape(proxyError.status, message);
    }
    if (!ctx.streaming || !response.body) ctx.end(response.status);
    const extra = cors.kind === "allowed" ? cors.headers : new Headers();
    extra.set("x-request-id", ctx.id);
    // The rest of a body we stopped reading (too slow, too large) is no next request.
    if (response.status === 408 || response.status === 413) extra.set("connection", "close");
    return withHeaders(response, extra, request.method === "HEAD");
  };
}

/**
 * A 402 or 429 from Chutes gets what the account data says about it (the window that is used up
 * and when it resets), fetched first when older than a minute (waiting at most 1.5 s).
 */
async function withAccountNote(
  error: ProxyError,
  deps: ServerDeps,
  ctx: RequestContext,
): Promise<string> {
  const fromUpstream = ctx.trace.status === error.status;
  if ((error.status !== 402 && error.status !== 429) || !fromUpstream) return error.message;
  await deps.account.look(1500);
  const note = deps.account.explain(error.status);
  return note ? `${error.message} (${note})` : error.message;
}

async function dispatch(
  request: Request,
  path: string,
  decision: Decision,
  deps: ServerDeps,
  ctx: RequestContext,
  address: string,
): Promise<Response> {
  const admitted = await deps.keys.admit(request, path, address);
  if (!admitted.ok) {
    throw new ProxyError(
      401,
      "unauthorized: this proxy requires an API key (Authorization: Bearer <key>, or x-api-key)",
    );
  }
  if (request.method === "OPTIONS") {
    return new Response(null, { status: 204, headers: { allow: "GET,POST,DELETE,HEAD,OPTIONS" } });
  }
  ctx.keyName = await deps.keyNames?.of(admitted.key);
  if (decision.kind === "error") throw decision.error;
  const limit = deps.config.max_body_bytes;
  const guarded = guardBody(request, {
    maxBytes: limit,
    timeoutMs: deps.config.upload_timeout_seconds * 1000,
  });
  const decoded = await decodeBody(guarded, limit);
  return await decision.mounted.row.handler(decoded, deps, ctx, decision.rest);
}
