/**
 * Request body limits, applied to every body before a route reads it: a body larger than
 * `max_body_bytes` is refused with 413 before it is buffered (at once when `Content-Length` says
 * so, or as soon as a chunked upload passes the limit), a body that stops short of what it
 * announced (the client closed or reset the connection) is a 400, not a 500, and a body that does
 * not arrive in time is a 408: it has `upload_timeout_seconds` (nginx's 60 s), extended by a
 * second for every KiB received, so a slow but real upload finishes while a client dripping a
 * byte every few seconds is cut off. `Deno.serve` has no hook for the header and keep-alive
 * phases; the README says what it does there.
 */
import { ProxyError } from "../base/errors.ts";

/** Bytes per second a body must average for its deadline to move on (one second per KiB). */
export const BODY_MIN_RATE = 1024;

function tooLarge(limit: number): ProxyError {
  return new ProxyError(413, `request body is larger than ${limit} bytes (max_body_bytes)`);
}

/** What `guardBody` enforces. */
export interface BodyLimits {
  maxBytes: number;
  /** The time allowed for the body before the per-KiB extension. */
  timeoutMs: number;
  /** Milliseconds on a monotonic clock (tests may pass their own). */
  now?: () => number;
}

function cutShort(err: unknown): ProxyError {
  const why = err instanceof Error ? err.message : String(err);
  return new ProxyError(
    400,
    `the request body was cut short: the client closed the connection before sending all of it (${why})`,
  );
}

/** Chunks smaller than this are gathered into one buffer of `GATHER_BYTES` before they go on. */
const SMALL_CHUNK = 4096;
const GATHER_BYTES = 16 * 1024;

/**
 * Reads a body under `limits`. Deno reads into 64 KiB buffers, and every chunk is an object of
 * its own: a client dripping bytes one by one would make each byte cost a whole buffer (or at
 * least an object) until the body ends — 1 GB for 16 KB dripped by 200 clients, measured. So
 * small chunks are copied into one gathering buffer, and a chunk that fills a small part of its
 * buffer is copied out of it: a body in flight costs its size plus about 80 KiB.
 */
class GuardedBody {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #limits: BodyLimits;
  readonly #now: () => number;
  readonly #started: number;
  #received = 0;
  #gathered: Uint8Array | undefined;
  #gatheredBytes = 0;

  constructor(body: ReadableStream<Uint8Array>, limits: BodyLimits) {
    this.#reader = body.getReader();
    this.#limits = limits;
    this.#now = limits.now ?? (() => performance.now());
    this.#started = this.#now();
  }

  /** The guarded body as a stream. */
  stream(): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>({
      pull: (controller) => this.#pull(controller),
      cancel: (reason) => this.#reader.cancel(reason),
    }, { highWaterMark: 0 });
  }

  /** Reads until one piece can go on (or the body ends, or a limit is hit). */
  async #pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    for (;;) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await this.#read();
      } catch (err) {
        controller.error(err);
        this.#reader.cancel(err).catch(() => {});
        return;
      }
      if (result.done) {
        if (this.#gatheredBytes > 0) controller.enqueue(this.#take());
        return controller.close();
      }
      const chunk = result.value;
      if (
        chunk.byteLength < SMALL_CHUNK && this.#gatheredBytes + chunk.byteLength <= GATHER_BYTES
      ) {
        this.#gathered ??= new Uint8Array(GATHER_BYTES);
        this.#gathered.set(chunk, this.#gatheredBytes);
        this.#gatheredBytes += chunk.byteLength;
        if (this.#gatheredBytes < GATHER_BYTES - SMALL_CHUNK) continue;
        return controller.enqueue(this.#take());
      }
      if (this.#gatheredBytes > 0) controller.enqueue(this.#take());
      return controller.enqueue(
        chunk.byteLength * 2 < chunk.buffer.byteLength ? chunk.slice() : chunk,
      );
    }
  }

  #take(): Uint8Array {
    const out = this.#gathered!.slice(0, this.#gatheredBytes);
    this.#gatheredBytes = 0;
    return out;
  }

  /** One read, bounded by the deadline; errors are the `ProxyError` to answer. */
  async #read(): Promise<ReadableStreamReadResult<Uint8Array>> {
    const { timeoutMs, maxBytes } = this.#limits;
    const deadline = this.#started + timeoutMs + (this.#received / BODY_MIN_RATE) * 1000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), Math.max(0, deadline - this.#now()));
    });
    let result: ReadableStreamReadResult<Uint8Array> | "late";
    try {
      result = await Promise.race([this.#reader.read(), late]);
    } catch (err) {
      throw err instanceof ProxyError ? err : cutShort(err);
    } finally {
      clearTimeout(timer);
    }
    if (result === "late") {
      const took = Math.round((this.#now() - this.#started) / 1000);
      throw new ProxyError(
        408,
        `the request body did not arrive in time (${this.#received} bytes in ${took} s; ` +
          `upload_timeout_seconds is ${timeoutMs / 1000})`,
      );
    }
    if (!result.done) {
      this.#received += result.value.byteLength;
      if (this.#received > maxBytes) throw tooLarge(maxBytes);
    }
    return result;
  }
}

/** Returns the request with its body guarded by `limits` (413, 400 when cut short, 408). */
export function guardBody(request: Request, limits: BodyLimits): Request {
  if (!request.body) return request;
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limits.maxBytes) throw tooLarge(limits.maxBytes);
  return new Request(request, { body: new GuardedBody(request.body, limits).stream() });
}
