/**
 * The body of a streamed answer, for every door: one pull-driven `ReadableStream` that reads the
 * upstream body (lib/upstream/body.ts), decodes its SSE (lib/upstream/sse.ts), interprets it into
 * events (lib/core/interpret.ts) and lets the door's encoder write its frames — all called
 * directly, once per network read, with no web-streams hop in between (each hop cost as much as
 * the whole conversion, bench/README.md). Each frame (an NDJSON line, an SSE event) is its own
 * chunk, so it leaves in its own write, as Ollama flushes each line: clients that parse one
 * network read as one JSON object keep working. While the first token is pending, the encoder's
 * `ping` frame goes out every `pingMs`. A failure of our own still ends the answer like any
 * other: one error frame, the upstream closed, the request logged.
 */
import { bodyReader } from "../upstream/body.ts";
import { SseDecoder } from "../upstream/sse.ts";
import type { AnswerEncoder, AnswerEvents } from "./events.ts";
import { type InterpretOptions, UpstreamInterpreter } from "./interpret.ts";

const encoder = new TextEncoder();

/**
 * Resolves after the server has taken what it was handed, so the next frame becomes its own HTTP
 * chunk (without a wait the runtime joins every frame already queued into one chunk). A message
 * to a fresh port is one turn of the event loop, about 50 µs; a zero timer works too but costs
 * 1–4 ms (bench/README.md). Only frames of the same upstream read wait, so tokens never do.
 */
export function writeTurn(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/** The decoding and interpretation of one upstream body, fed one network read at a time. */
export class UpstreamReading {
  readonly #sse: SseDecoder;
  readonly interpreter: UpstreamInterpreter;

  constructor(options: InterpretOptions, out: AnswerEvents, maxEventChars?: number) {
    this.interpreter = new UpstreamInterpreter(options, out);
    this.#sse = new SseDecoder((item) => this.interpreter.push(item), maxEventChars);
  }

  /** Interprets one network read. */
  push(bytes: Uint8Array): void {
    if (!this.interpreter.ended) this.#sse.feedBytes(bytes);
  }

  /** The upstream body ended. */
  end(): void {
    if (this.interpreter.ended) return;
    this.#sse.end();
    this.interpreter.end();
  }
}

/** How a streamed answer ended: `undefined` when complete, else `failed: …` or `client left`. */
export type EndNote = string | undefined;

/** What `AnswerStream` needs besides the upstream body. */
export interface AnswerStreamOptions {
  interpret: InterpretOptions;
  makeEncoder: (write: (frame: string) => void) => AnswerEncoder;
  /** Keep-alive interval before the first token (only when the encoder has `ping`). */
  pingMs?: number | undefined;
  maxEventChars?: number;
  onEnd?: (note: EndNote, reading: UpstreamReading) => void;
  /** The wait between frames of one upstream read (default `writeTurn`). */
  frameGap?: () => Promise<void>;
}

/** The streamed answer's bytes: one frame per chunk. */
export class AnswerStream extends ReadableStream<Uint8Array> {
  constructor(body: ReadableStream<Uint8Array>, options: AnswerStreamOptions) {
    const reader = bodyReader(body);
    const frames: string[] = [];
    const out = options.makeEncoder((frame) => frames.push(frame));
    const reading = new UpstreamReading(options.interpret, out, options.maxEventChars);
    const interpreter = reading.interpreter;
    const pingMs = out.ping ? options.pingMs : undefined;
    let pending: Promise<Uint8Array | undefined> | undefined;
    let finished = false;
    let cancelled = false;
    let sent = 0;
    /** Hands over the next frame, alone: the server writes each chunk before it pulls again. */
    const flush = (controller: ReadableStreamDefaultController<Uint8Array>) => {
      if (sent < frames.length) controller.enqueue(encoder.encode(frames[sent++]!));
      if (sent === frames.length) frames.length = sent = 0;
    };
    /** The next read, or `"ping"` when the first token is still pending after `pingMs`. */
    const next = (): Promise<Uint8Array | undefined | "ping"> => {
      if (!pending) {
        pending = reader.read();
        pending.catch(() => {}); // awaited below; a ping may win the race first
      }
      if (!pingMs || interpreter.firstTokenAt !== undefined) return pending;
      let timer: ReturnType<typeof setTimeout>;
      const ping = new Promise<"ping">((resolve) => timer = setTimeout(resolve, pingMs, "ping"));
      return Promise.race([pending, ping]).finally(() => clearTimeout(timer));
    };
    super({
      start(controller) {
        out.start();
        flush(controller);
      },
      async pull(controller) {
        // A frame from the same upstream read as the last one waits one turn of the event loop,
        // so the server writes the last one first: otherwise it joins them into one write.
        if (sent > 0) await (options.frameGap ?? writeTurn)();
        while (frames.length === 0 && !finished) {
          try {
            const got = await next();
            if (cancelled) return;
            if (got === "ping") {
              out.ping!();
              break;
            }
            pending = undefined;
            if (got) reading.push(got);
            else reading.end();
            finished = !got || interpreter.ended;
            // The answer ended (an error, or [DONE]) while the upstream is still open: close it.
            if (finished && got) void reader.cancel();
          } catch (err) {
            interpreter.fail(
              `the proxy could not convert the upstream stream: ${(err as Error)?.message ?? err}`,
            );
            finished = true;
            void reader.cancel();
          }
        }
        flush(controller);
        if (frames.length > 0 || !finished) return;
        controller.close();
        const failure = interpreter.failure;
        options.onEnd?.(failure === undefined ? undefined : `failed: ${failure}`, reading);
      },
      cancel(reason) {
        cancelled = true;
        options.onEnd?.("client left", reading);
        return reader.cancel(reason);
      },
    }, { highWaterMark: 0 });
  }
}

/**
 * Reads a whole upstream body into `out` (a door's collector); the reading tells how it ended.
 * More than `maxBytes` of upstream body ends it with an error naming the cap.
 */
export async function readWholeAnswer(
  body: ReadableStream<Uint8Array>,
  interpret: InterpretOptions,
  out: AnswerEvents,
  maxBytes: number,
): Promise<UpstreamReading> {
  const reader = bodyReader(body);
  const reading = new UpstreamReading(interpret, out);
  let total = 0;
  try {
    while (!reading.interpreter.ended) {
      const bytes = await reader.read();
      if (!bytes) {
        reading.end();
        break;
      }
      total += bytes.length;
      if (total > maxBytes) {
        reading.interpreter.fail(
          `the upstream answer is larger than ${maxBytes} bytes, the most the proxy gathers for ` +
            "an answer that is not streamed; ask for it with stream: true",
        );
        break;
      }
      reading.push(bytes);
    }
  } finally {
    await reader.cancel();
  }
  return reading;
}
