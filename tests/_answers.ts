/**
 * Test harness for the streaming core without HTTP: an upstream byte stream through the core's
 * `AnswerStream` and the Ollama door's encoder (the same parts `/api/chat` composes), or through
 * `readWholeAnswer` and the Ollama collector (a `stream: false` answer).
 */
import type { Clock } from "../lib/base/clock.ts";
import { ProxyError } from "../lib/base/errors.ts";
import { AnswerStream, readWholeAnswer } from "../lib/core/answer.ts";
import { MAX_COLLECT_BYTES } from "../lib/core/chat.ts";
import type { InterpretOptions } from "../lib/core/interpret.ts";
import { type OllamaChunk, OllamaCollector, ollamaEncoder } from "../lib/doors/ollama/encode.ts";

/** What the old single options object held: request kind, model, clock and timings. */
export interface OllamaAnswerTestOptions {
  kind: "chat" | "generate";
  model: string;
  clock: Clock;
  startedAt: number;
  headersAt: number;
  promptTokensEstimate: number;
  raw?: boolean;
}

function interpret(o: OllamaAnswerTestOptions): InterpretOptions {
  return {
    clock: o.clock,
    headersAt: o.headersAt,
    promptEstimate: o.promptTokensEstimate,
    redact: (text) => text,
  };
}

function answerOptions(o: OllamaAnswerTestOptions) {
  return {
    kind: o.kind,
    model: o.model,
    clock: o.clock,
    startedAt: o.startedAt,
    ...(o.raw ? { raw: true } : {}),
  };
}

/** The NDJSON body `/api/chat` or `/api/generate` streams for an upstream body. */
export function ollamaStream(
  body: ReadableStream<Uint8Array>,
  o: OllamaAnswerTestOptions,
  onEnd?: (note: string | undefined) => void,
  maxEventChars?: number,
): ReadableStream<Uint8Array> {
  return new AnswerStream(body, {
    interpret: interpret(o),
    makeEncoder: ollamaEncoder(answerOptions(o)),
    ...(maxEventChars !== undefined ? { maxEventChars } : {}),
    onEnd: (note) => onEnd?.(note),
    // Without a socket there is no write to wait for (tests/core/chat_test.ts checks the wire).
    frameGap: () => Promise.resolve(),
  });
}

/** The one object of a `stream: false` answer; a failure is a 502 `ProxyError`. */
export async function collectOllama(
  body: ReadableStream<Uint8Array>,
  o: OllamaAnswerTestOptions,
): Promise<OllamaChunk> {
  const collector = new OllamaCollector(answerOptions(o));
  const reading = await readWholeAnswer(body, interpret(o), collector, MAX_COLLECT_BYTES);
  const failure = reading.interpreter.failure;
  if (failure !== undefined) throw new ProxyError(502, failure);
  return collector.result();
}

/** The model and `created_at` of the golden NDJSON files (tests/fixtures/*.ndjson). */
export const GOLDEN_MODEL = "deepseek-v3:latest";
export const GOLDEN_CREATED_AT = "2025-06-15T10:30:00.123456789Z";

/** A clock whose `now()` starts at 1000 ms and advances 25 ms per call, as the goldens assume. */
export function goldenClock(): Clock {
  let t = 975;
  return { now: () => (t += 25), iso: () => GOLDEN_CREATED_AT };
}

/** The options the golden files were made with: `startedAt` 1000, `headersAt` 1025, estimate 7. */
export function goldenOptions(kind: "chat" | "generate"): OllamaAnswerTestOptions {
  const clock = goldenClock();
  return {
    kind,
    model: GOLDEN_MODEL,
    clock,
    startedAt: clock.now(),
    headersAt: clock.now(),
    promptTokensEstimate: 7,
  };
}
