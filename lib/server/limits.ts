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

/** The body as a stream that enforces `limits`, erroring with the `ProxyError` to answer. */
function guardedStream(
  body: ReadableStream<Uint8Array>,
  limits: BodyLimits,
): ReadableStream<Uint8Array> {
  const now = limits.now ?? (() => performance.now());
  const started = now();
  const reader = body.getReader();
  let received = 0;
  const fail = (controller: ReadableStreamDefaultController<Uint8Array>, err: ProxyError) => {
    controller.error(err);
    reader.cancel(err).catch(() => {});
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const deadline = started + limits.timeoutMs + (received / BODY_MIN_RATE) * 1000;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<"late">((resolve) => {
        timer = setTimeout(() => resolve("late"), Math.max(0, deadline - now()));
      });
      let result: ReadableStreamReadResult<Uint8Array> | "late";
      try {
        result = await Promise.race([reader.read(), late]);
      } catch (err) {
        return fail(controller, err instanceof ProxyError ? err : cutShort(err));
      } finally {
        clearTimeout(timer);
      }
      if (result === "late") {
        const seconds = limits.timeoutMs / 1000;
        return fail(
          controller,
          new ProxyError(
            408,
            `the request body did not arrive in time (${received} bytes in ${
              Math.round((now() - started) / 1000)
            } s; upload_timeout_seconds is ${seconds})`,
          ),
        );
      }
      if (result.done) return controller.close();
      received += result.value.byteLength;
      if (received > limits.maxBytes) return fail(controller, tooLarge(limits.maxBytes));
      controller.enqueue(result.value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

/** Returns the request with its body guarded by `limits` (413, 400 when cut short, 408). */
export function guardBody(request: Request, limits: BodyLimits): Request {
  if (!request.body) return request;
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limits.maxBytes) throw tooLarge(limits.maxBytes);
  return new Request(request, { body: guardedStream(request.body, limits) });
}
