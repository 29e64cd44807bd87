/**
 * Stopping on SIGINT/SIGTERM. The first signal stops accepting connections and lets open answers
 * finish for the grace period; then open upstream streams end with their final error line, and a
 * moment later the process ends whatever the connections do — so the exit is bounded even by a
 * client that stopped reading (its answer can never be flushed, and `Deno.serve`'s graceful
 * shutdown would wait for it forever). A second signal cuts at once. A signal within half a second of the first is the
 * same keypress: in a terminal Ctrl+C reaches the whole foreground process group, and
 * `deno task` forwards the SIGINT it got to its child as well, so `deno task start` receives
 * every Ctrl+C twice, microseconds apart (`systemctl stop` does the same to a unit started that
 * way); a person pressing again takes longer than that.
 */
import type { Logger } from "../base/log.ts";

/** Signals closer than this to the first are one event delivered twice. */
export const DUPLICATE_SIGNAL_MS = 500;

/** Time the final error lines get to reach the clients before connections are dropped. */
export const FLUSH_MS = 1000;

/** What a shutdown drives. */
export interface ShutdownParts {
  graceMs: number;
  /** Stops accepting; resolves once every answer finished. */
  drain: () => Promise<void>;
  /** Ends the open upstream streams with their final error line. */
  cut: () => void;
  /** Ends the process: no connection may hold it open any longer. */
  close: () => void;
  log: Logger;
  now?: () => number;
}

/** The shutdown sequence, driven by the signals it is told about. */
export class Shutdown {
  readonly #p: ShutdownParts;
  readonly #now: () => number;
  #firstAt: number | undefined;
  #cutting = false;
  #closed = false;
  #timers: ReturnType<typeof setTimeout>[] = [];

  constructor(parts: ShutdownParts) {
    this.#p = parts;
    this.#now = parts.now ?? (() => performance.now());
  }

  /** Handles one signal: the first drains, a later one (not a duplicate) cuts. */
  signal(name: string): void {
    const now = this.#now();
    if (this.#firstAt === undefined) {
      this.#firstAt = now;
      const grace = this.#p.graceMs / 1000;
      this.#p.log.info(
        `shutting down (${name}): no new connections; open streams get ${grace} s to finish ` +
          "(a second Ctrl+C cuts them now)",
      );
      this.#timers.push(setTimeout(() => this.#cut("the grace period is over"), this.#p.graceMs));
      void this.#p.drain().finally(() => this.#clear());
      return;
    }
    const since = Math.round(now - this.#firstAt);
    if (since < DUPLICATE_SIGNAL_MS) {
      this.#p.log.debug(`ignored ${name} ${since} ms after the first signal: the same keypress`);
      return;
    }
    if (this.#cutting) return this.#close();
    this.#cut("second signal");
  }

  #cut(why: string): void {
    if (this.#cutting) return;
    this.#cutting = true;
    this.#p.log.warn(`${why}: cutting open streams now`);
    this.#p.cut();
    this.#timers.push(setTimeout(() => this.#close(), FLUSH_MS));
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clear();
    this.#p.close();
  }

  #clear(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers = [];
  }
}
