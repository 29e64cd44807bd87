/**
 * NDJSON framing: each Ollama chunk becomes one `JSON + "\n"` line, written whole so
 * line-by-line clients (ollama-python, Continue) never see a split or blank line. The streaming
 * path (lib/pipeline.ts) writes the lines of one upstream read together; `NdjsonEncoderStream`
 * writes one line per chunk.
 */

const encoder = new TextEncoder();

/** One object as the text of an NDJSON line. */
export function ndjsonText(value: unknown): string {
  return `${JSON.stringify(value)}\n`;
}

/** Encodes one object as an NDJSON line. */
export function ndjsonLine(value: unknown): Uint8Array {
  return encoder.encode(ndjsonText(value));
}

/** Serialises objects as NDJSON lines; `onEnd` hears when the stream ended or was cancelled. */
export class NdjsonEncoderStream extends TransformStream<unknown, Uint8Array> {
  constructor(onEnd?: (note?: string) => void) {
    super({
      transform(value, controller) {
        controller.enqueue(ndjsonLine(value));
      },
      flush: () => onEnd?.(),
      cancel: () => onEnd?.("client left"),
    });
  }
}
