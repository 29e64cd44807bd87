/**
 * The request a piece of code runs for: the router runs each handler inside `withRequestId`, so
 * any log line written during that request (the upstream client's debug dumps included) can say
 * which request it belongs to without the id being passed down through every call.
 */
import { AsyncLocalStorage } from "node:async_hooks";

const scope = new AsyncLocalStorage<string>();

/** Runs `fn` as part of request `id`. */
export function withRequestId<T>(id: string, fn: () => T): T {
  return scope.run(id, fn);
}

/** The id of the request the caller runs for, if any. */
export function currentRequestId(): string | undefined {
  return scope.getStore();
}
