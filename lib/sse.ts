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

/** Decodes SSE text into `SseItem`s. */
export class SseDecoderStream extends TransformStream<string, SseItem> {
  constructor(maxEventChars = DEFAULT_MAX_EVENT_CHARS) {
    let parser: EventSourceParser;
    super({
      start(controller) {
        parser = createParser({
          maxBufferSize: maxEventChars,
          onEvent: (event) => controller.enqueue({ kind: "data", data: event.data }),
          onError: (error) => {
            if (error.type === "max-buffer-size-exceeded") {
              controller.enqueue({ kind: "oversized", limit: maxEventChars });
            } else if (error.type === "unknown-field" && error.line !== undefined) {
              controller.enqueue({ kind: "bare", line: error.line });
            }
          },
        });
      },
      transform(chunk) {
        parser.feed(chunk);
      },
      flush() {
        // A last line without its newline (a stream cut short) is still parsed.
        parser.reset({ consume: true });
      },
    });
  }
}
