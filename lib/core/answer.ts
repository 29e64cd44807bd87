/**
 * The streaming path of `/api/chat` and `/api/generate`, composed from the plain classes of each
 * step: upstream bytes → UTF-8 and SSE decoding (`SseDecoder`, lib/sse.ts) → Ollama chunks
 * (`OllamaChunkConverter`, lib/stream.ts) → NDJSON lines (lib/ndjson.ts). The steps are called
 * directly, once per network read, inside one pull-driven stream: each web-streams hop costs
 * promises and queue work per chunk, which was half of the proxy's CPU per token when every step
 * was its own `TransformStream` (bench/README.md). Everything one read produced goes out as one
 * write of whole lines, so no token waits for another and a line is never split.
 */
import { ndjsonText } from "../doors/ollama/ndjson.ts";
import { SseDecoder } from "../upstream/sse.ts";
import { type ConversionOptions, type OllamaChunk, OllamaChunkConverter } from "./interpret.ts";
import { bodyReader } from "../upstream/body.ts";

const encoder = new TextEncoder();

/** Upstream bytes in, Ollama chunks out through `emit`: the decoding and conversion steps. */
export class UpstreamToOllama {
  readonly #sse: SseDecoder;
  readonly #converter: OllamaChunkConverter;

  constructor(
    options: ConversionOptions,
    emit: (chunk: OllamaChunk) => void,
    maxEventChars?: number,
  ) {
    this.#converter = new OllamaChunkConverter(options, emit);
    this.#sse = new SseDecoder((item) => this.#converter.push(item), maxEventChars);
  }

  /** True once the final chunk or an error was emitted: stop reading the upstream. */
  get ended(): boolean {
    return this.#converter.ended;
  }

  /** Converts one network read. */
  push(bytes: Uint8Array): void {
    if (!this.#converter.ended) this.#sse.feedBytes(bytes);
  }

  /** The upstream body ended. */
  end(): void {
    if (this.#converter.ended) return;
    this.#sse.end();
    this.#converter.end();
  }
}

/**
 * The NDJSON body of a streamed answer: reads the upstream body, converts each read and writes
 * its lines as one chunk. `onEnd` hears when the body ended (`"failed: <message>"` when it ended
 * with an error line), or `"client left"` when cancelled.
 */
export class OllamaNdjsonStream extends ReadableStream<Uint8Array> {
  constructor(
    body: ReadableStream<Uint8Array>,
    options: ConversionOptions,
    onEnd?: (note?: string) => void,
    maxEventChars?: number,
  ) {
    const reader = bodyReader(body);
    let lines = "";
    let finished = false;
    let cancelled = false;
    /** The error line's message, when the answer ended with one (for the access log). */
    let failure: string | undefined;
    const convert = new UpstreamToOllama(options, (chunk) => {
      if (typeof chunk.error === "string") failure = chunk.error;
      lines += ndjsonText(chunk);
    }, maxEventChars);
    super({
      async pull(controller) {
        while (lines === "" && !finished) {
          let bytes: Uint8Array | undefined;
          try {
            bytes = await reader.read();
            if (cancelled) return;
            if (bytes) convert.push(bytes);
            else convert.end();
          } catch (err) {
            // A bug of ours must still end the answer like any failure: one error line, the
            // upstream closed, the request logged.
            failure = `the proxy could not convert the upstream stream: ${
              (err as Error)?.message ?? err
            }`;
            lines += ndjsonText({ error: failure });
            finished = true;
            void reader.cancel();
            break;
          }
          finished = !bytes || convert.ended;
          // The answer ended (an error line, or [DONE]) while the upstream is still open: close it.
          if (finished && bytes) void reader.cancel();
        }
        if (lines !== "") controller.enqueue(encoder.encode(lines));
        lines = "";
        if (!finished) return;
        controller.close();
        onEnd?.(failure === undefined ? undefined : `failed: ${failure}`);
      },
      cancel(reason) {
        cancelled = true;
        onEnd?.("client left");
        return reader.cancel(reason);
      },
    }, { highWaterMark: 0 });
  }
}

/** The Ollama chunks of an upstream body, for answers gathered into one object. */
export async function* ollamaChunks(
  body: ReadableStream<Uint8Array>,
  options: ConversionOptions,
): AsyncGenerator<OllamaChunk> {
  const reader = bodyReader(body);
  const chunks: OllamaChunk[] = [];
  const convert = new UpstreamToOllama(options, (chunk) => chunks.push(chunk));
  try {
    while (!convert.ended) {
      const bytes = await reader.read();
      if (bytes) convert.push(bytes);
      else convert.end();
      yield* chunks.splice(0);
      if (!bytes) return;
    }
  } finally {
    await reader.cancel();
  }
}
