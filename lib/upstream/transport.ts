/**
 * What the upstream client needs from HTTP, and the one rule that keeps a completion from being
 * billed twice: a transport sends each request at most once. It never follows a redirect and
 * never re-sends a request on its own, not even when a reused keep-alive connection breaks after
 * the request went out; it says instead whether the request may have reached the upstream
 * (`TransportError.sent`), and the retry policy decides (lib/upstream/retry.ts). The answer's
 * body is a `ChunkSource`: the next network read, or `undefined` at the end. The real transport
 * is undici's (lib/upstream/undici.ts); `fetchTransport` wraps an in-process `fetch` (the
 * demo upstream) in the same shape.
 */

/** An answer body read chunk by chunk. */
export interface ChunkSource {
  /** The next chunk (valid until the next call), `undefined` at the end; rejects on a failure. */
  read(): Promise<Uint8Array | undefined>;
  /** Stops the body and closes the connection it came on; a pending `read` settles. */
  cancel(reason?: unknown): void;
}

/** One request. */
export interface TransportRequest {
  method: "GET" | "POST";
  url: URL;
  headers: Record<string, string>;
  body?: string;
  /** Any of these aborting ends the request, before or during its answer. */
  signals: readonly AbortSignal[];
}

/** An answer's status line and headers, with its body still to read. */
export interface TransportAnswer {
  status: number;
  headers: Headers;
  body: ChunkSource;
}

/** A request that failed before its answer's headers. */
export class TransportError extends Error {
  /**
   * True when the request may have reached the upstream (the failure came after it started to
   * go out): sending it again could make the upstream do the work twice.
   */
  readonly sent: boolean;

  constructor(message: string, sent: boolean) {
    super(message);
    this.name = "TransportError";
    this.sent = sent;
  }
}

/** Sends requests to upstreams, each at most once. */
export interface Transport {
  /**
   * Sends `request`; resolves with the answer's head, rejects with a `TransportError`, or with
   * the reason of the signal that aborted.
   */
  send(request: TransportRequest): Promise<TransportAnswer>;
  /** Closes every connection, ending requests still open (tests, the end of the process). */
  close(): Promise<void>;
}

/** A `ChunkSource` over a web stream (a `fetch` body). */
export function streamSource(body: ReadableStream<Uint8Array>): ChunkSource {
  const reader = body.getReader();
  return {
    read: async () => {
      const { value, done } = await reader.read();
      return done ? undefined : value;
    },
    cancel: (reason) => void reader.cancel(reason).catch(() => {}),
  };
}

const EMPTY: ChunkSource = { read: () => Promise.resolve(undefined), cancel: () => {} };

/**
 * A transport over an injected `fetch` (the demo upstream plays Chutes in-process): redirects
 * are not followed, and a failure counts as sent, since `fetch` does not say how far it got.
 */
export function fetchTransport(fetchImpl: typeof fetch): Transport {
  return {
    async send(request) {
      const signal = request.signals.length === 1
        ? request.signals[0]!
        : AbortSignal.any([...request.signals]);
      let res: Response;
      try {
        res = await fetchImpl(request.url, {
          method: request.method,
          headers: request.headers,
          ...(request.body === undefined ? {} : { body: request.body }),
          redirect: "manual",
          signal,
        });
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        throw new TransportError(err instanceof Error ? err.message : String(err), true);
      }
      return {
        status: res.status,
        headers: res.headers,
        body: res.body ? streamSource(res.body) : EMPTY,
      };
    },
    close: () => Promise.resolve(),
  };
}
