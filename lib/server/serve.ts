/**
 * Listening: `startServer` runs `Deno.serve` for the handler with the proxy's error handler. A
 * bind that fails — the port taken (often by Ollama itself on 11434), a host name that does not
 * resolve, an address that is not this machine's — becomes one `ConfigError` line naming the
 * address and the fix, never a stack trace; `bindProblem` is the same test for `--check`. What
 * escapes the handler is logged through the proxy's logger (redacted, one line), not printed by
 * `Deno.serve`.
 */
import type { Logger } from "../base/log.ts";
import { ConfigError } from "../config/values.ts";
import type { Handler } from "./router.ts";

const ANOTHER_PORT = "run the proxy on another port (OLLAMA_HOST=127.0.0.1:11435, or --port)";

/** The one-line reason a bind to `host:port` failed, with the fix. */
export function bindProblemMessage(host: string, port: number, err: unknown): string {
  const at = `cannot listen on ${host.includes(":") ? `[${host}]` : host}:${port}`;
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof Deno.errors.AddrInUse) {
    return `${at}: the port is already in use (is Ollama running there? Stop it, or ${ANOTHER_PORT})`;
  }
  if (err instanceof Deno.errors.NotCapable) {
    return `${at}: Deno was not allowed to (${message}); run it with --allow-net`;
  }
  if (err instanceof Deno.errors.PermissionDenied) {
    return `${at}: permission denied (${message}); ports below 1024 need privileges: ${ANOTHER_PORT}`;
  }
  const fix = 'set OLLAMA_HOST (or --host, or "host" in config.json) to an address of this ' +
    "machine, like 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)";
  if (/lookup address|name or service|nodename nor servname|no such host/i.test(message)) {
    return `${at}: the host name ${JSON.stringify(host)} does not resolve; ${fix}`;
  }
  if (
    err instanceof Deno.errors.AddrNotAvailable || err instanceof TypeError ||
    err instanceof URIError
  ) {
    return `${at}: that is not an address of this machine (${message}); ${fix}`;
  }
  return `${at}: ${message}`;
}

/** Tries to bind `host:port` and lets go again: the problem a start would meet, if any. */
export function bindProblem(host: string, port: number): string | undefined {
  try {
    Deno.listen({ hostname: host, port }).close();
    return undefined;
  } catch (err) {
    return bindProblemMessage(host, port, err);
  }
}

/** `Deno.serve`'s error handler: what escapes the handler (or breaks an answer's body) is logged. */
export function serveErrorHandler(log: Logger): (error: unknown) => Response {
  return (error) => {
    log.error(`error while serving a request: ${(error as Error)?.stack ?? error}`);
    return new Response("Internal Server Error", { status: 500 });
  };
}

/** Starts serving `handler`; a failed bind is a `ConfigError` with one line and its fix. */
export function startServer(
  options: {
    host: string;
    port: number;
    log: Logger;
    onListen?: (addr: Deno.NetAddr) => void;
  },
  handler: Handler,
): Deno.HttpServer<Deno.NetAddr> {
  try {
    return Deno.serve({
      hostname: options.host,
      port: options.port,
      onError: serveErrorHandler(options.log),
      onListen: options.onListen ?? (() => {}),
    }, handler);
  } catch (err) {
    throw new ConfigError(bindProblemMessage(options.host, options.port, err));
  }
}
