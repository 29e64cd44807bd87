/**
 * Answer events → Ollama chunks, for `/api/chat` and `/api/generate`. Each delta becomes a
 * `done: false` chunk (`message.content`/`message.thinking` for chat, `response`/`thinking` for
 * generate), each complete tool call its own chat chunk with the arguments as an object, and
 * the end the single `done: true` chunk with `done_reason` and the six counters (nanoseconds).
 * A failure after the first byte is one final `{"error": "..."}` line. `OllamaEncoder` writes
 * each chunk as its own NDJSON line; `OllamaCollector` gathers them into the one object of a
 * `stream: false` answer.
 */
import type { Clock } from "../../base/clock.ts";
import type {
  AnswerEncoder,
  AnswerEvents,
  AnswerSummary,
  TokenLogprob,
  ToolCall,
} from "../../core/events.ts";

/** An Ollama stream chunk (chat or generate) or a final error line. */
export type OllamaChunk = Record<string, unknown>;

/** What the chunks need to know about the request. */
export interface OllamaAnswerOptions {
  kind: "chat" | "generate";
  /** The model name echoed to the client. */
  model: string;
  clock: Clock;
  /** `clock.now()` when the request arrived. */
  startedAt: number;
  /** Raw generate mode: Ollama sends no `context` then. */
  raw?: boolean;
}

const encoder = new TextEncoder();

function toOllamaLogprobs(entries: readonly TokenLogprob[]): unknown[] {
  const one = (e: { token?: string; logprob?: number; bytes?: number[] | null }) => ({
    token: e.token ?? "",
    logprob: e.logprob ?? 0,
    bytes: e.bytes ?? [...encoder.encode(e.token ?? "")],
  });
  return entries.map((e) =>
    e.top_logprobs && e.top_logprobs.length > 0
      ? { ...one(e), top_logprobs: e.top_logprobs.map(one) }
      : one(e)
  );
}

const ns = (ms: number) => Math.max(1, Math.round(ms * 1e6));

/** Builds Ollama chunks from answer events and hands each to `emit`. */
export class OllamaChunks implements AnswerEncoder {
  readonly #o: OllamaAnswerOptions;
  readonly #emit: (chunk: OllamaChunk) => void;
  #position = 0;

  constructor(options: OllamaAnswerOptions, emit: (chunk: OllamaChunk) => void) {
    this.#o = options;
    this.#emit = emit;
  }

  start(): void {}

  #head(): OllamaChunk {
    return { model: this.#o.model, created_at: this.#o.clock.iso() };
  }

  delta(text: string, thinking: string, logprobs: readonly TokenLogprob[] | undefined): void {
    const out = this.#head();
    if (this.#o.kind === "chat") {
      const message: Record<string, unknown> = { role: "assistant", content: text };
      if (thinking !== "") message.thinking = thinking;
      out.message = message;
    } else {
      out.response = text;
      if (thinking !== "") out.thinking = thinking;
    }
    out.done = false;
    if (logprobs) out.logprobs = toOllamaLogprobs(logprobs);
    this.#emit(out);
  }

  // Ollama clients get whole tool calls, one per chunk, when the upstream finishes.
  toolCallStart(): void {}
  toolCallDelta(): void {}

  toolCallEnd(call: ToolCall): void {
    if (this.#o.kind !== "chat") return;
    const fn = { index: this.#position++, name: call.name, arguments: call.input };
    this.#emit({
      ...this.#head(),
      message: { role: "assistant", content: "", tool_calls: [{ id: call.id, function: fn }] },
      done: false,
    });
  }

  end(s: AnswerSummary): void {
    const first = s.firstTokenAt ?? s.endedAt;
    const head = this.#head();
    if (this.#o.kind === "chat") head.message = { role: "assistant", content: "" };
    else head.response = "";
    this.#emit({
      ...head,
      done: true,
      done_reason: s.finishReason === "length" ? "length" : "stop",
      // Ollama's token context cannot be produced by a proxy; strict clients (the AI SDK's
      // ollama-ai-provider-v2 completion model) require the key, so generate sends it empty.
      ...(this.#o.kind === "generate" && !this.#o.raw ? { context: [] } : {}),
      total_duration: ns(s.endedAt - this.#o.startedAt),
      load_duration: ns(s.headersAt - this.#o.startedAt),
      prompt_eval_count: s.promptTokens,
      prompt_eval_duration: ns(first - s.headersAt),
      eval_count: s.completionTokens,
      eval_duration: ns(s.endedAt - first),
    });
  }

  error(message: string): void {
    this.#emit({ error: message });
  }
}

/** The streaming encoder: each chunk one NDJSON line, in its own write. */
export function ollamaEncoder(
  options: OllamaAnswerOptions,
): (write: (frame: string) => void) => AnswerEncoder {
  return (write) => new OllamaChunks(options, (chunk) => write(`${JSON.stringify(chunk)}\n`));
}

/** Gathers the chunks of a `stream: false` answer into Ollama's single object. */
export class OllamaCollector implements AnswerEvents {
  readonly #chunks: OllamaChunks;
  readonly #kind: "chat" | "generate";
  #content = "";
  #thinking = "";
  readonly #toolCalls: unknown[] = [];
  readonly #logprobs: unknown[] = [];
  #final: OllamaChunk | undefined;

  constructor(options: OllamaAnswerOptions) {
    this.#kind = options.kind;
    this.#chunks = new OllamaChunks(options, (chunk) => this.#take(chunk));
  }

  delta(text: string, thinking: string, logprobs: readonly TokenLogprob[] | undefined): void {
    this.#chunks.delta(text, thinking, logprobs);
  }
  toolCallStart(): void {}
  toolCallDelta(): void {}
  toolCallEnd(call: ToolCall): void {
    this.#chunks.toolCallEnd(call);
  }
  end(summary: AnswerSummary): void {
    this.#chunks.end(summary);
  }
  error(): void {}

  #take(chunk: OllamaChunk): void {
    const part = (this.#kind === "chat" ? chunk.message : chunk) as Record<string, unknown>;
    this.#content += (this.#kind === "chat" ? part.content : part.response) as string;
    if (typeof part.thinking === "string") this.#thinking += part.thinking;
    if (Array.isArray(part.tool_calls)) this.#toolCalls.push(...part.tool_calls);
    if (Array.isArray(chunk.logprobs)) this.#logprobs.push(...chunk.logprobs);
    if (chunk.done === true) this.#final = chunk;
  }

  /** The whole answer (after `end`). */
  result(): OllamaChunk {
    const { model, created_at, message: _m, response: _r, ...tail } = this.#final ?? {};
    const head: OllamaChunk = { model, created_at };
    if (this.#kind === "chat") {
      const message: Record<string, unknown> = { role: "assistant", content: this.#content };
      if (this.#thinking) message.thinking = this.#thinking;
      if (this.#toolCalls.length > 0) message.tool_calls = this.#toolCalls;
      head.message = message;
    } else {
      head.response = this.#content;
      if (this.#thinking) head.thinking = this.#thinking;
    }
    return { ...head, ...tail, ...(this.#logprobs.length > 0 ? { logprobs: this.#logprobs } : {}) };
  }
}
