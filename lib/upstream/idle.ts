/**
 * Stall detection for upstream bodies. A body that stays silent for `idleMs` is cut: the reader
 * (lib/upstream/body.ts) then writes one bare JSON error line — the same shape as Chutes' own
 * mid-stream failure — and ends, which cancels the upstream body. A healthy stream has no total
 * time limit. The watch is lazy: a chunk only records the time it arrived, and one timer re-arms
 * itself for the time that is left, so a stream of thousands of chunks costs a handful of timers
 * rather than a `clearTimeout` + `setTimeout` per chunk.
 */

/** The message for a stream that went quiet. */
export function stalledMessage(idleMs: number): string {
  return `the upstream sent nothing for ${idleMs / 1000} s; the stream was cut`;
}

/** The message for a stream cut by the proxy's shutdown. */
export const SHUTDOWN_MESSAGE = "the proxy is shutting down; the answer was cut";

/** The message for an upstream connection that failed mid-stream. */
export function brokenMessage(reason: unknown): string {
  const detail = reason instanceof Error ? reason.message : String(reason);
  return `the upstream connection failed mid-stream: ${detail}`;
}

/** Calls `onStall` once when `touch()` has not been called for `idleMs`; `stop()` ends the watch. */
export class IdleWatch {
  readonly #idleMs: number;
  readonly #onStall: () => void;
  readonly #now: () => number;
  #last: number;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    idleMs: number,
    onStall: () => void,
    now: () => number = performance.now.bind(performance),
  ) {
    this.#idleMs = idleMs;
    this.#onStall = onStall;
    this.#now = now;
    this.#last = now();
    this.#arm(idleMs);
  }

  #paused = false;

  /**
   * Records a chunk. Until the next `waiting()` no read is pending, so silence does not count:
   * a client that reads slowly must not be blamed on the upstream.
   */
  touch(): void {
    this.#last = this.#now();
    this.#paused = true;
  }

  /** A read is waiting on the upstream again: silence counts from now. */
  waiting(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#last = this.#now();
  }

  /** Ends the watch; `onStall` will not be called. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(ms: number): void {
    // At least 1 ms: a timer that fires a fraction early must not spin.
    this.#timer = setTimeout(this.#check, Math.max(1, Math.ceil(ms)));
  }

  #check = (): void => {
    this.#timer = undefined;
    if (this.#paused) return this.#arm(this.#idleMs);
    const quiet = this.#now() - this.#last;
    if (quiet >= this.#idleMs) this.#onStall();
    else this.#arm(this.#idleMs - quiet);
  };
}
