/**
 * The `/v1` stream pass-through: the upstream's SSE bytes go to the client as they are, with two
 * fixes. `UsageOnlyFilter` drops the usage-only chunk Chutes always adds (`choices: []`) when the
 * client did not ask for it, and `BareErrorLines` rewrites Chutes' bare mid-stream error line
 * (tests/fixtures/chutes_bare_error.sse) as an SSE error event OpenAI SDKs understand. Both are
 * plain classes called per network read inside one pull-driven stream, `OpenAISseStream`, which
 * writes what one read produced as one chunk.
 */
import { upstreamErrorMessage } from "../../base/errors.ts";
import { bodyReader } from "../../upstream/body.ts";

const LF = 0x0a;
const BRACE = 0x7b;
const USAGE_ONLY = /^data:.*"choices"\s*:\s*\[\s*\]/;
const STREAM = { stream: true };
const encoder = new TextEncoder();

/** Drops SSE `data:` lines whose chunk has empty `choices`; complete lines pass as they are. */
export class UsageOnlyFilter {
  readonly #decoder = new TextDecoder();
  /** The pieces of the line not yet ended (searched once each, so a huge line stays linear). */
  #partial: string[] = [];

  /** The complete lines of `bytes` that are kept (a partial line waits for its end). */
  push(bytes: Uint8Array): Uint8Array | undefined {
    const fresh = this.#decoder.decode(bytes, STREAM);
    const end = fresh.lastIndexOf("\n") + 1;
    if (end === 0) {
      if (fresh !== "") this.#partial.push(fresh);
      return undefined;
    }
    const lines = this.#partial.join("") + fresh.slice(0, end);
    this.#partial = end < fresh.length ? [fresh.slice(end)] : [];
    const kept = lines.includes('"choices"')
      ? lines.split("\n").filter((line) => !USAGE_ONLY.test(line)).join("\n")
      : lines;
    return kept === "" ? undefined : encoder.encode(kept);
  }

  /** What is left when the body ends (a last line without its newline). */
  end(): Uint8Array | undefined {
    const rest = this.#partial.join("") + this.#decoder.decode();
    this.#partial = [];
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

  /** Set once an error event was made: the stream has failed and the rest is ignored. */
  failed = false;

  /** Rewrites one read; a rewritten error event goes to `onError` (to `out` when not given). */
  push(chunk: Uint8Array, out: (piece: Uint8Array) => void, onError = out): void {
    if (this.failed) return;
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (this.#bare) {
        if (byte === LF) {
          this.#bare.push(chunk.subarray(start, i));
          onError(this.#errorEvent());
          return; // what follows an error is not relayed
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
  end(onError: (piece: Uint8Array) => void): void {
    if (this.#bare && !this.failed) onError(this.#errorEvent());
  }

  #errorEvent(): Uint8Array {
    const decoder = new TextDecoder();
    const text = this.#bare!.map((b) => decoder.decode(b, STREAM)).join("") + decoder.decode();
    this.#bare = undefined;
    this.failed = true;
    return errorEvent(upstreamErrorMessage(text) || "upstream stream failed");
  }
}

/** Joins pieces into one new chunk (a copy: the read's buffer is reused). */
function joined(pieces: readonly Uint8Array[]): Uint8Array {
  const all = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const piece of pieces) {
    all.set(piece, at);
    at += piece.length;
  }
  return all;
}

/** Where the last complete event ends: just after the last blank line (`\n\n` or `\n\r\n`). */
function lastEventEnd(bytes: Uint8Array): number {
  for (let i = bytes.length - 1; i > 0; i--) {
    if (bytes[i] !== LF) continue;
    if (bytes[i - 1] === LF || (bytes[i - 1] === 0x0d && bytes[i - 2] === LF)) return i + 1;
  }
  return 0;
}

const DONE = encoder.encode("data: [DONE]");

function hasDone(bytes: Uint8Array): boolean {
  for (let i = bytes.indexOf(DONE[0]!); i >= 0; i = bytes.indexOf(DONE[0]!, i + 1)) {
    if (DONE.every((b, k) => bytes[i + k] === b)) return true;
  }
  return false;
}

function errorEvent(message: string): Uint8Array {
  const error = { message, type: "api_error", param: null, code: null };
  return encoder.encode(`data: ${JSON.stringify({ error })}\n\n`);
}

/**
 * The SSE body of a streamed `/v1` answer: the upstream body through the fixes, whole events
 * only (a partial event waits for its end, so an error event can never be glued to half an
 * event), one write per read. The stream ends, closing the upstream, after an error event or
 * after `data: [DONE]`. `onEnd` hears when the body ended (`"failed: …"` after an error event),
 * or `"client left"` when cancelled.
 */
export class OpenAISseStream extends ReadableStream<Uint8Array> {
  constructor(
    body: ReadableStream<Uint8Array>,
    options: { dropUsage: boolean; onEnd?: (note?: string) => void },
  ) {
    const reader = bodyReader(body);
    const usage = options.dropUsage ? new UsageOnlyFilter() : undefined;
    const bare = new BareErrorLines();
    /** Bytes after the last complete event (a copy), and this read's pieces. */
    let tail: Uint8Array = new Uint8Array(0);
    const pieces: Uint8Array[] = [];
    let failure: Uint8Array | undefined;
    const collect = (piece: Uint8Array) => pieces.push(piece);
    const onError = (event: Uint8Array) => failure ??= event;
    let cancelled = false;
    /** Everything so far, split at the last complete event: [ready to send, still partial]. */
    const split = (): [Uint8Array, Uint8Array] => {
      const all = joined([tail, ...pieces]);
      pieces.length = 0;
      const end = lastEventEnd(all);
      return [all.subarray(0, end), all.subarray(end)];
    };
    super({
      async pull(controller) {
        const finish = (last: Uint8Array, failed = failure !== undefined) => {
          if (last.length > 0) controller.enqueue(last);
          controller.close();
          options.onEnd?.(failed ? "failed: the stream ended with an error event" : undefined);
        };
        try {
          for (;;) {
            const chunk = await reader.read();
            if (cancelled) return;
            if (!chunk) {
              const rest = usage?.end();
              if (rest) bare.push(rest, collect, onError);
              bare.end(onError);
              const [ready, partial] = split();
              return finish(failure ? joined([ready, failure]) : joined([ready, partial]));
            }
            const kept = usage ? usage.push(chunk) : chunk;
            if (kept) bare.push(kept, collect, onError);
            const [ready, partial] = split();
            if (failure) {
              // Half an event before the failure is dropped: glued to the error it would break it.
              void reader.cancel();
              return finish(joined([ready, failure]));
            }
            tail = partial;
            if (ready.length === 0) continue;
            if (hasDone(ready)) {
              void reader.cancel();
              return finish(ready);
            }
            return controller.enqueue(ready);
          }
        } catch (err) {
          void reader.cancel();
          finish(
            errorEvent(
              `the proxy could not relay the upstream stream: ${(err as Error)?.message ?? err}`,
            ),
            true,
          );
        }
      },
      cancel(reason) {
        cancelled = true;
        options.onEnd?.("client left");
        return reader.cancel(reason);
      },
    }, { highWaterMark: 0 });
  }
}
