/**
 * Compressed request bodies: `Content-Encoding: zstd`, `gzip` or `deflate` (Codex can compress
 * its requests) are decoded at the edge for every route, so handlers read plain JSON. The limit
 * `max_body_bytes` applies to the compressed bytes as they arrive and again to the decoded size,
 * which the decoder stops at (a zip bomb is a 413 after at most that many bytes, never a full
 * inflation, and off the event loop); a zstd frame that asks for a window over 8 MiB is refused,
 * as Ollama does. An encoding the proxy does not know is a 415; a corrupt body is a 400.
 */
import { Buffer } from "node:buffer";
import { promisify } from "node:util";
import * as zlib from "node:zlib";
import { ProxyError } from "../base/errors.ts";

/** The largest zstd window accepted (2^23 = 8 MiB, Ollama's decoder memory cap). */
const ZSTD_WINDOW_LOG_MAX = 23;

type Decoder = (input: Buffer, limit: number) => Promise<Buffer>;

// The asynchronous forms: decoding runs off the event loop (the synchronous ones froze every
// open stream for 200-300 ms on a 60 MB bomb).
const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const inflateRaw = promisify(zlib.inflateRaw);
const zstdDecompress = promisify(zlib.zstdDecompress);

const DECODERS: Record<string, Decoder> = {
  gzip: (input, limit) => gunzip(input, { maxOutputLength: limit }),
  "x-gzip": (input, limit) => gunzip(input, { maxOutputLength: limit }),
  deflate: async (input, limit) => {
    try {
      return await inflate(input, { maxOutputLength: limit });
    } catch (err) {
      if (err instanceof RangeError) throw err;
      // Some clients send raw deflate without the zlib header HTTP asks for.
      return await inflateRaw(input, { maxOutputLength: limit });
    }
  },
  zstd: (input, limit) =>
    zstdDecompress(input, {
      maxOutputLength: limit,
      params: { [zlib.constants.ZSTD_d_windowLogMax]: ZSTD_WINDOW_LOG_MAX },
    }),
};

function tooLarge(limit: number): ProxyError {
  return new ProxyError(
    413,
    `request body is larger than ${limit} bytes once decompressed (max_body_bytes)`,
  );
}

/** The encodings of a request, in the order they were applied (empty for none/identity). */
function encodingsOf(request: Request): string[] {
  const header = request.headers.get("content-encoding");
  if (!header) return [];
  return header.split(",").map((e) => e.trim().toLowerCase()).filter((e) =>
    e !== "" && e !== "identity"
  );
}

/**
 * Returns the request with its body decoded when it came compressed; `request` itself when not.
 * The body must already be capped at `limit` compressed bytes (lib/server/limits.ts).
 */
export async function decodeBody(request: Request, limit: number): Promise<Request> {
  const encodings = encodingsOf(request);
  if (encodings.length === 0 || !request.body) return request;
  const unknown = encodings.find((e) => !(e in DECODERS));
  if (unknown !== undefined) {
    throw new ProxyError(
      415,
      `unsupported Content-Encoding "${unknown}" (the proxy accepts zstd, gzip and deflate)`,
    );
  }
  let bytes: Buffer = Buffer.from(await request.arrayBuffer());
  for (const encoding of encodings.reverse()) {
    try {
      bytes = await DECODERS[encoding]!(bytes, limit);
    } catch (err) {
      if (err instanceof RangeError) throw tooLarge(limit);
      throw new ProxyError(
        400,
        `failed to decompress ${encoding} body: ${(err as Error).message}`,
      );
    }
  }
  if (bytes.length > limit) throw tooLarge(limit);
  const headers = new Headers(request.headers);
  headers.delete("content-encoding");
  headers.set("content-length", String(bytes.length));
  return new Request(request.url, {
    method: request.method,
    headers,
    body: new Uint8Array(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.length),
    signal: request.signal,
  });
}
