/**
 * SSE decoding: bytes or text in, one item per server-sent event out. Parsing is delegated to
 * `eventsource-parser` (CRLF, comments, multi-line `data:`, split chunks). Chutes' mid-stream
 * failure is a bare JSON line without `data:` (see tests/fixtures/chutes_bare_error.sse); the
 * parser reports it as an unknown field, and the decoder hands the whole line on as `bare`.
 * `SseDecoder` is the plain class the streaming path (lib/core/answer.ts) calls per network read;
 * `SseDecoderStream` is the same as a `TransformStream` stage over text.
 */
import { createParser, type EventSourceParser } from "eventsource-parser";

/** One decoded item: an event's data, a non-SSE line, or a line over the size cap. */
export type SseItem =
  | { kind: "data"; data: string }
  | { kind: "bare"; line: string }
  | { kind: "oversized"; limit: number };

/** Default cap on one buffered event, in characters. */
export const DEFAULT_MAX_EVENT_CHARS = 8 * 1024 * 1024;

/**
 * The parser counts a pending line with its `data: ` prefix and line ending, so it gets this much
 * room over the cap and the exact size is checked here: whether an event is oversized must not
 * depend on where the network split the bytes (tests/upstream/sse_test.ts checks every split).
 */
const PARSER_SLACK = 8;

const STREAM = { stream: true };

/** Decodes SSE bytes or text, calling `onItem` per item; after an `oversized` item it stops. */
export class SseDecoder {
  readonly #parser: EventSourceParser;
  readonly #onItem: (item: SseItem) => void;
  readonly #max: number;
  readonly #utf8 = new TextDecoder();
  #stopped = false;
  #endsWithCR = false;

  constructor(onItem: (item: SseItem) => void, maxEventChars = DEFAULT_MAX_EVENT_CHARS) {
    this.#onItem = onItem;
    this.#max = maxEventChars;
    this.#parser = createParser({
      maxBufferSize: maxEventChars + PARSER_SLACK,
      onEvent: (event) => {
        if (this.#stopped) return;
        if (event.data.length > maxEventChars) this.#oversized();
        else onItem({ kind: "data", data: event.data });
      },
      onError: (error) => {
        if (this.#stopped) return;
        if (error.type === "max-buffer-size-exceeded") this.#oversized();
        else if (error.type === "unknown-field" && error.line !== undefined) {
          if (error.line.length > maxEventChars) this.#oversized();
          else onItem({ kind: "bare", line: error.line });
        }
      },
    });
  }

  /** True after an `oversized` item: nothing more will be decoded. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Feeds UTF-8 bytes; a character split across calls is decoded whole. */
  feedBytes(bytes: Uint8Array): void {
    if (!this.#stopped) this.feed(this.#utf8.decode(bytes, STREAM));
  }

  /** Feeds text. */
  feed(text: string): void {
    if (this.#stopped || text === "") return;
    this.#endsWithCR = text.endsWith("\r");
    this.#parser.feed(text);
  }

  /** The input ended: a last line without its newline (a stream cut short) is still parsed. */
  end(): void {
    this.feed(this.#utf8.decode());
    if (this.#stopped) return;
    // A trailing CR is a complete line ending (the parser waits for a possible LF after it).
    if (this.#endsWithCR) this.#parser.feed("\n");
    this.#parser.reset({ consume: true });
  }

  // The parser cannot be fed once over its limit: stop reading instead of throwing.
  #oversized(): void {
    this.#stopped = true;
    this.#onItem({ kind: "oversized", limit: this.#max });
  }
}

/** Decodes SSE text into `SseItem`s; after an `oversized` item the stream ends. */
export class SseDecoderStream extends TransformStream<string, SseItem> {
  constructor(maxEventChars = DEFAULT_MAX_EVENT_CHARS) {
    let decoder: SseDecoder;
    super({
      start(controller) {
        decoder = new SseDecoder((item) => {
          controller.enqueue(item);
          if (item.kind === "oversized") controller.terminate();
        }, maxEventChars);
      },
      transform: (chunk) => decoder.feed(chunk),
      flush: () => decoder.end(),
    });
  }
}
