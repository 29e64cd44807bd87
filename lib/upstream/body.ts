/**
 * The upstream body as the proxy reads it. `BodyReader` reads a byte stream into one reused
 * 4 KiB buffer (a BYOB reader: `fetch` would otherwise hand over a fresh 64 KiB buffer per chunk,
 * which costs time and memory under many streams; an SSE event is a few hundred bytes, a larger
 * one just takes several reads) and adds the guard every upstream body gets: when nothing
 * arrives for the idle time (lib/upstream/idle.ts), when the proxy's shutdown grace period is over, or
 * when the connection breaks, the body ends with one bare JSON error line — the shape of Chutes'
 * own mid-stream failure, which the stream stages already turn into the client's final error —
 * so a client is never left hanging or cut silently. `GuardedBody` is the same as a
 * `ReadableStream` (what `Upstream.post` answers with); the streaming paths take its reader.
 */
import { brokenMessage, IdleWatch, SHUTDOWN_MESSAGE, stalledMessage } from "./idle.ts";

const encoder = new TextEncoder();

const abortCallbacks = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Calls `callback` once when `signal` aborts; returns the function that forgets it. All the
 * callbacks of one signal share a single listener: `addEventListener` compares a new listener
 * with every one already there, which made each new stream pay for every open one.
 */
export function onAbort(signal: AbortSignal, callback: () => void): () => void {
  let callbacks = abortCallbacks.get(signal);
  if (!callbacks) {
    const set = callbacks = new Set();
    abortCallbacks.set(signal, set);
    signal.addEventListener("abort", () => {
      for (const call of [...set]) call();
      set.clear();
    }, { once: true });
  }
  callbacks.add(callback);
  return () => callbacks.delete(callback);
}

/** When to cut an upstream body. */
export interface BodyGuard {
  /** Longest silence allowed between chunks, in milliseconds (0 or absent: none). */
  idleMs?: number | undefined;
  /** Aborted when the proxy's shutdown grace period is over. */
  shutdown?: AbortSignal | undefined;
}

/**
 * Reads a body chunk by chunk: a byte stream into one reused buffer, any other stream as it
 * comes. With a guard, the body ends with a bare error line on a stall, a shutdown or a broken
 * connection. (One class, so a chunk costs one `async` call on top of the stream's own read.)
 */
export class BodyReader {
  readonly #byob: ReadableStreamBYOBReader | undefined;
  readonly #plain: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #buffer: ArrayBuffer | undefined;
  readonly #watch: IdleWatch | undefined;
  readonly #shutdown: AbortSignal | undefined;
  #forgetShutdown: (() => void) | undefined;
  /** Set when the body was cut: the error line still to hand out, then `""` once handed out. */
  #cut: string | undefined;
  #ended = false;

  constructor(body: ReadableStream<Uint8Array>, guard: BodyGuard = {}, bufferSize = 4 * 1024) {
    try {
      this.#byob = body.getReader({ mode: "byob" });
      this.#buffer = new ArrayBuffer(bufferSize);
    } catch {
      // Not a byte stream (a `Response` built from a string, an injected test or demo body).
      this.#plain = body.getReader();
    }
    this.#shutdown = guard.shutdown;
    const idleMs = guard.idleMs;
    if (idleMs) this.#watch = new IdleWatch(idleMs, () => this.#stop(stalledMessage(idleMs)));
    if (this.#shutdown?.aborted) this.#stop(SHUTDOWN_MESSAGE);
    else if (this.#shutdown) {
      this.#forgetShutdown = onAbort(this.#shutdown, () => this.#stop(SHUTDOWN_MESSAGE));
    }
  }

  /**
   * The next chunk — valid only until the next call, copy it to keep it — then, after a cut, the
   * final error line; `undefined` at the end.
   */
  async read(): Promise<Uint8Array | undefined> {
    while (this.#cut === undefined && !this.#ended) {
      this.#watch?.waiting();
      try {
        const { value, done } = this.#byob
          ? await this.#byob.read(new Uint8Array(this.#buffer!))
          : await this.#plain!.read();
        if (this.#byob && value) this.#buffer = value.buffer as ArrayBuffer;
        if (this.#cut !== undefined) break;
        if (done) this.#end();
        else if (value.length > 0) {
          this.#watch?.touch();
          return value;
        }
      } catch (err) {
        if (this.#cut === undefined && !this.#ended) {
          this.#stop(this.#shutdown?.aborted ? SHUTDOWN_MESSAGE : brokenMessage(err));
        }
      }
    }
    if (!this.#cut) return undefined;
    const line = encoder.encode(`\n${JSON.stringify({ error: this.#cut })}\n`);
    this.#cut = "";
    return line;
  }

  /** Stops reading and closes the body; a pending `read` ends. */
  cancel(reason?: unknown): Promise<void> {
    this.#end();
    return this.#close(reason);
  }

  #close(reason?: unknown): Promise<void> {
    return (this.#byob ?? this.#plain)!.cancel(reason).catch(() => {});
  }

  /** Cuts the body: the next `read` returns the error line, and the upstream body is closed. */
  #stop(message: string): void {
    if (this.#ended) return;
    this.#end();
    this.#cut = message;
    void this.#close(new Error(message));
  }

  #end(): void {
    this.#ended = true;
    this.#watch?.stop();
    this.#forgetShutdown?.();
  }
}

/**
 * A guarded upstream body as a pull-driven `ReadableStream` (each chunk copied out once). A
 * consumer that converts every chunk itself takes the reader instead (`chunkSource`): one
 * web-streams hop and one copy per chunk fewer.
 */
export class GuardedBody extends ReadableStream<Uint8Array> {
  readonly #reader: BodyReader;

  constructor(body: ReadableStream<Uint8Array>, guard: BodyGuard = {}) {
    const reader = new BodyReader(body, guard);
    super({
      async pull(controller) {
        const chunk = await reader.read();
        if (chunk) controller.enqueue(chunk.slice());
        else controller.close();
      },
      cancel: (reason) => reader.cancel(reason),
    }, { highWaterMark: 0 });
    this.#reader = reader;
  }

  /** Locks the stream and hands over the guarded reader behind it. */
  takeReader(): BodyReader {
    this.getReader(); // locked: nothing else may read the body now
    return this.#reader;
  }
}

/** The cheapest way to read `body` chunk by chunk: the guarded reader behind it, if any. */
export function bodyReader(body: ReadableStream<Uint8Array>): BodyReader {
  return body instanceof GuardedBody ? body.takeReader() : new BodyReader(body);
}
