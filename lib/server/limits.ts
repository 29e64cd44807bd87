/**
 * Request size limits: a body larger than `max_body_bytes` is refused with 413 before it is
 * buffered — at once when `Content-Length` says so, or as soon as a chunked upload passes the
 * limit — so one oversized upload cannot exhaust the proxy's memory.
 */
import { ProxyError } from "../base/errors.ts";

function tooLarge(limit: number): ProxyError {
  return new ProxyError(413, `request body is larger than ${limit} bytes (max_body_bytes)`);
}

/** Counts bytes and errors the stream with a 413 `ProxyError` past `limit`. */
export class ByteLimitStream extends TransformStream<Uint8Array, Uint8Array> {
  constructor(limit: number) {
    let seen = 0;
    super({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > limit) controller.error(tooLarge(limit));
        else controller.enqueue(chunk);
      },
    });
  }
}

/** Returns the request with its body capped at `limit` bytes (413 past it). */
export function limitBody(request: Request, limit: number): Request {
  if (!request.body) return request;
  const declared = request.headers.get("content-length");
  if (declared !== null) {
    if (Number(declared) > limit) throw tooLarge(limit);
    return request;
  }
  return new Request(request, { body: request.body.pipeThrough(new ByteLimitStream(limit)) });
}
