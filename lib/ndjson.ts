/**
 * NDJSON framing stage: each Ollama chunk becomes one `JSON + "\n"` byte chunk, written in a
 * single piece so line-by-line clients (ollama-python, Continue) never see a split or blank line.
 */

const encoder = new TextEncoder();

/** Encodes one object as an NDJSON line. */
export function ndjsonLine(value: unknown): Uint8Array {
  return encoder.encode(`${JSON.stringify(value)}\n`);
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
