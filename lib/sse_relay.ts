/**
 * The `/v1` stream pass-through: the upstream's SSE bytes go to the client as they are, with two
 * fixes. `UsageOnlyFilter` drops the usage-only chunk Chutes always adds (`choices: []`) when the
 * client did not ask for it, and `BareErrorLines` rewrites Chutes' bare mid-stream error line
 * (tests/fixtures/chutes_bare_error.sse) as an SSE error event OpenAI SDKs understand. Both are
 * plain classes called per network read inside one pull-driven stream, `OpenAISseStream`, which
 * writes what one read produced as one chunk.
 */
import { upstreamErrorMessage } from "./errors.ts";
import { bodyReader } from "./upstream_body.ts";

const LF = 0x0a;
const BRACE = 0x7b;
const USAGE_ONLY = /^data:.*"choices"\s*:\s*\[\s*\]/;
const STREAM = { stream: true };
const encoder = new TextEncoder();

/** Drops SSE `data:` lines whose chunk has empty `choices`; complete lines pass as they are. */
export class UsageOnlyFilter {
  readonly #decoder = new TextDecoder();
  #partial = "";

  /** The complete lines of `bytes` that are kept (a partial line waits for its end). */
  push(bytes: Uint8Array): Uint8Array | undefined {
    const text = this.#partial + this.#decoder.decode(bytes, STREAM);
    const end = text.lastIndexOf("\n") + 1;
    this.#partial = text.slice(end);
    if (end === 0) return undefined;
    const lines = text.slice(0, end);
    const kept = lines.includes('"choices"')
      ? lines.split("\n").filter((line) => !USAGE_ONLY.test(line)).join("\n")
      : lines;
    return kept === "" ? undefined : encoder.encode(kept);
  }

  /** What is left when the body ends (a last line without its newline). */
  end(): Uint8Array | undefined {
    const rest = this.#partial + this.#decoder.decode();
    this.#partial = "";
    return rest !== "" && !USAGE_ONLY.test(rest) ? encoder.encode(rest) : undefined;
  }
}

/**
 * Passes SSE bytes through untouched, except a line that starts with `{`, which becomes
 * `data: {"error": {...}}`. Pieces handed to `out` may be views of the input: copy to keep them.
 */
export class BareErrorLines {
  #atLineStart = true;
  /** The bare line gathered so far (copies), while one is open. */
  #bare: Uint8Array[] | undefined;

  /** Rewrites one read. */
  push(chunk: Uint8Array, out: (piece: Uint8Array) => void): void {
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (this.#bare) {
        if (byte === LF) {
          this.#bare.push(chunk.subarray(start, i));
          out(this.#errorEvent());
          start = i + 1;
          this.#atLineStart = true;
        }
        continue;
      }
      if (this.#atLineStart && byte === BRACE) {
        if (i > start) out(chunk.subarray(start, i));
        this.#bare = [];
        start = i;
        continue;
      }
      this.#atLineStart = byte === LF;
    }
    if (this.#bare) this.#bare.push(chunk.slice(start));
    else if (start < chunk.length) out(start === 0 ? chunk : chunk.subarray(start));
  }

  /** The body ended: a bare line without its newline is still rewritten. */
  end(out: (piece: Uint8Array) => void): void {
    if (this.#bare) out(this.#errorEvent());
  }

  #errorEvent(): Uint8Array {
    const decoder = new TextDecoder();
    const text = this.#bare!.map((b) => decoder.decode(b, STREAM)).join("") + decoder.decode();
    this.#bare = undefined;
    const message = upstreamErrorMessage(text) || "upstream stream failed";
    const error = { message, type: "api_error", param: null, code: null };
    return encoder.encode(`data: ${JSON.stringify({ error })}\n\n`);
  }
}

/** Joins the pieces of one read into one new chunk (a copy: the read's buffer is reused). */
function joined(pieces: Uint8Array[]): Uint8Array {
  if (pieces.length === 1) return pieces[0]!.slice();
  const all = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const piece of pieces) {
    all.set(piece, at);
    at += piece.length;
  }
  return all;
}

/**
 * The SSE body of a streamed `/v1` answer: the upstream body through the fixes, one write per
 * read. `onEnd` hears when the body ended, or `"client left"` when cancelled.
 */
export class OpenAISseStream extends ReadableStream<Uint8Array> {
  constructor(
    body: ReadableStream<Uint8Array>,
    options: { dropUsage: boolean; onEnd?: (note?: string) => void },
  ) {
    const reader = bodyReader(body);
    const usage = options.dropUsage ? new UsageOnlyFilter() : undefined;
    const bare = new BareErrorLines();
    const pieces: Uint8Array[] = [];
    const collect = (piece: Uint8Array) => pieces.push(piece);
    let cancelled = false;
    super({
      async pull(controller) {
        while (pieces.length === 0) {
          const chunk = await reader.read();
          if (cancelled) return;
          if (!chunk) break;
          const kept = usage ? usage.push(chunk) : chunk;
          if (kept) bare.push(kept, collect);
        }
        if (pieces.length > 0) {
          controller.enqueue(joined(pieces));
          pieces.length = 0;
          return;
        }
        const rest = usage?.end();
        if (rest) bare.push(rest, collect);
        bare.end(collect);
        if (pieces.length > 0) controller.enqueue(joined(pieces));
        controller.close();
        options.onEnd?.();
      },
      cancel(reason) {
        cancelled = true;
        options.onEnd?.("client left");
        return reader.cancel(reason);
      },
    }, { highWaterMark: 0 });
  }
}
