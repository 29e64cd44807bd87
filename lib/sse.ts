/**
 * SSE decoding stage: text in, one item per server-sent event out. Parsing is delegated to
 * `eventsource-parser` (CRLF, comments, multi-line `data:`, split chunks). Chutes' mid-stream
 * failure is a bare JSON line without `data:` (see tests/fixtures/chutes_bare_error.sse); the
 * parser reports it as an unknown field, and this stage hands the whole line on as `bare`.
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
 * depend on where the network split the bytes (tests/sse_test.ts checks every split).
 */
const PARSER_SLACK = 8;

/** Decodes SSE text into `SseItem`s; after an `oversized` item the stream ends. */
export class SseDecoderStream extends TransformStream<string, SseItem> {
  constructor(maxEventChars = DEFAULT_MAX_EVENT_CHARS) {
    let parser: EventSourceParser;
    let stopped = false;
    let endsWithCR = false;
    super({
      start(controller) {
        // The parser cannot be fed once over its limit: stop reading instead of throwing.
        const oversized = () => {
          stopped = true;
          controller.enqueue({ kind: "oversized", limit: maxEventChars });
          controller.terminate();
        };
        parser = createParser({
          maxBufferSize: maxEventChars + PARSER_SLACK,
          onEvent: (event) => {
            if (stopped) return;
            if (event.data.length > maxEventChars) oversized();
            else controller.enqueue({ kind: "data", data: event.data });
          },
          onError: (error) => {
            if (stopped) return;
            if (error.type === "max-buffer-size-exceeded") oversized();
            else if (error.type === "unknown-field" && error.line !== undefined) {
              if (error.line.length > maxEventChars) oversized();
              else controller.enqueue({ kind: "bare", line: error.line });
            }
          },
        });
      },
      transform(chunk) {
        if (stopped || chunk === "") return;
        endsWithCR = chunk.endsWith("\r");
        parser.feed(chunk);
      },
      flush() {
        if (stopped) return;
        // A trailing CR is a complete line ending (the parser waits for a possible LF after it).
        if (endsWithCR) parser.feed("\n");
        // A last line without its newline (a stream cut short) is still parsed.
        parser.reset({ consume: true });
      },
    });
  }
}
