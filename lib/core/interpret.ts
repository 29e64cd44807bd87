/**
 * The stream conversion: upstream SSE items in, Ollama chat or generate chunks out.
 * Content and reasoning deltas become `done:false` chunks; streamed tool-call fragments are
 * gathered by index and emitted whole, one call per chunk, when the upstream finishes; reading
 * goes on after `finish_reason` for the usage chunk, and the end emits the single `done:true`
 * chunk with the six counters. Any upstream failure after the first byte — an error event,
 * Chutes' bare error line, malformed JSON, an oversized event, or a stream that just stops —
 * becomes one final `{"error": ...}` chunk and ends the conversion. `OllamaChunkConverter` is
 * the plain class the streaming path (lib/pipeline.ts) calls; `OllamaChunkStream` is the same
 * as a `TransformStream` stage.
 */
import type { Clock } from "../base/clock.ts";
import { upstreamErrorMessage } from "../base/errors.ts";
import type { OpenAIChunk, OpenAILogprob, ToolCallDelta } from "../upstream/wire.ts";
import type { SseItem } from "../upstream/sse.ts";
import { type SplitDelta, ThinkTagSplitter } from "./think_tags.ts";

const NO_SPLIT: SplitDelta = { thinking: "", content: "" };

/** What the stage needs to know about the request it converts. */
export interface ConversionOptions {
  kind: "chat" | "generate";
  /** The model name echoed to the client, exactly as the client sent it. */
  model: string;
  clock: Clock;
  /** `clock.now()` when the request arrived and when the upstream answered with headers. */
  startedAt: number;
  headersAt: number;
  /** Raw generate mode: Ollama sends no `context` then. */
  raw?: boolean;
  /** Used for `prompt_eval_count` when the upstream sends no usage. */
  promptTokensEstimate: number;
  /** Hears the token counts and first-token time when the final chunk is built (access log). */
  onDone?: (
    summary: { promptTokens: number; completionTokens: number; firstTokenAt: number | undefined },
  ) => void;
}

/** An Ollama stream chunk (chat or generate) or a final error line. */
export type OllamaChunk = Record<string, unknown>;

interface PendingCall {
  id: string;
  name: string;
  args: string;
}

const encoder = new TextEncoder();

function randomCallId(): string {
  return `call_${crypto.randomUUID().replace(/-/g, "").slice(0, 8)}`;
}

function toOllamaLogprobs(entries: readonly OpenAILogprob[]): unknown[] {
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

/** Converts upstream SSE items into Ollama chunks, handing each to `emit`. */
export class OllamaChunkConverter {
  readonly #o: ConversionOptions;
  readonly #emit: (chunk: OllamaChunk) => void;
  #calls = new Map<number, PendingCall>();
  #finishReason: string | undefined;
  #doneSeen = false;
  #ended = false;
  #promptTokens: number | undefined;
  #completionTokens: number | undefined;
  #deltas = 0;
  #firstTokenAt: number | undefined;
  readonly #tags = new ThinkTagSplitter();

  constructor(options: ConversionOptions, emit: (chunk: OllamaChunk) => void) {
    this.#o = options;
    this.#emit = emit;
  }

  /** True once the final chunk or an error was emitted: nothing more will be. */
  get ended(): boolean {
    return this.#ended;
  }

  #fail(message: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#emit({ error: message });
  }

  /** Converts one upstream item. */
  push(item: SseItem): void {
    if (this.#ended || this.#doneSeen) return;
    if (item.kind === "oversized") {
      return this.#fail(`upstream sent a stream event larger than ${item.limit} characters`);
    }
    if (item.kind === "bare") {
      const message = upstreamErrorMessage(item.line);
      return this.#fail(message || "upstream sent an unreadable stream line");
    }
    if (item.data === "[DONE]") {
      this.#doneSeen = true;
      if (this.#finishReason === undefined) {
        // No finish chunk came: gathered tool calls must still go out, not be dropped.
        this.#finishReason = "stop";
        this.#emitToolCalls();
      }
      // The answer is complete: finish now, even if the upstream keeps the connection open.
      return this.end();
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(item.data);
    } catch {
      parsed = undefined;
    }
    // `data: null` (or any non-object) would otherwise throw below and error the whole stream.
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      return this.#fail(`upstream sent malformed JSON in its stream: ${item.data.slice(0, 200)}`);
    }
    const chunk = parsed as OpenAIChunk;
    if (chunk.error !== undefined || chunk.detail !== undefined || chunk.object === "error") {
      return this.#fail(upstreamErrorMessage(item.data) || "upstream reported an error");
    }
    this.#onChunk(chunk);
  }

  #onChunk(chunk: OpenAIChunk): void {
    if (chunk.usage) {
      this.#promptTokens = chunk.usage.prompt_tokens ?? this.#promptTokens;
      this.#completionTokens = chunk.usage.completion_tokens ?? this.#completionTokens;
    }
    // Shapes are checked, not trusted: a malformed chunk is skipped, never a crash.
    const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
    if (!choice || typeof choice !== "object") return;
    const delta = choice.delta !== null && typeof choice.delta === "object"
      ? choice.delta
      : undefined;
    const text = (v: unknown) => typeof v === "string" ? v : "";
    const raw = text(delta?.content) || text(choice.text);
    const split = raw === "" ? NO_SPLIT : this.#tags.push(raw);
    const content = split.content;
    const reasoning = text(delta?.reasoning_content) || text(delta?.reasoning);
    const thinking = split.thinking === "" ? reasoning : reasoning + split.thinking;
    const toolCalls = Array.isArray(delta?.tool_calls)
      ? delta.tool_calls.filter((d) => d !== null && typeof d === "object")
      : [];
    if (toolCalls.length > 0) {
      // Tool-call fragments are generated tokens too: they start the eval clock like content.
      this.#firstTokenAt ??= this.#o.clock.now();
      this.#deltas++;
      this.#gather(toolCalls);
    }
    const rawLogprobs = choice.logprobs?.content;
    const logprobs = Array.isArray(rawLogprobs)
      ? rawLogprobs.filter((e) => e !== null && typeof e === "object")
      : undefined;
    if (content !== "" || thinking !== "" || (logprobs && logprobs.length > 0)) {
      this.#firstTokenAt ??= this.#o.clock.now();
      this.#deltas++;
      this.#emit(this.#partial(content, thinking, logprobs));
    }
    if (choice.finish_reason && this.#finishReason === undefined) {
      this.#finishReason = choice.finish_reason;
      this.#emitToolCalls();
    }
  }

  #gather(deltas: readonly ToolCallDelta[]): void {
    for (const d of deltas) {
      const index = d.index ?? this.#calls.size;
      let call = this.#calls.get(index);
      if (!call) {
        call = { id: d.id || randomCallId(), name: "", args: "" };
        this.#calls.set(index, call);
      }
      if (d.function?.name) call.name += d.function.name;
      if (d.function?.arguments) call.args += d.function.arguments;
    }
  }

  #emitToolCalls(): void {
    if (this.#o.kind !== "chat") return;
    let position = 0;
    for (const call of [...this.#calls.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1])) {
      let args: unknown;
      try {
        args = call.args.trim() === "" ? {} : JSON.parse(call.args);
      } catch {
        return this.#fail(
          `upstream returned tool call "${call.name}" with arguments that are not valid JSON: ${
            call.args.slice(0, 200)
          }`,
        );
      }
      const fn = { index: position++, name: call.name, arguments: args };
      this.#emit(
        this.#chunk({
          role: "assistant",
          content: "",
          tool_calls: [{ id: call.id, function: fn }],
        }),
      );
    }
    this.#calls.clear();
  }

  #chunk(message: Record<string, unknown>): OllamaChunk {
    return { model: this.#o.model, created_at: this.#o.clock.iso(), message, done: false };
  }

  #partial(
    content: string,
    thinking: string,
    logprobs: OpenAILogprob[] | null | undefined,
  ): OllamaChunk {
    let out: OllamaChunk;
    if (this.#o.kind === "chat") {
      const message: Record<string, unknown> = { role: "assistant", content };
      if (thinking !== "") message.thinking = thinking;
      out = this.#chunk(message);
    } else {
      out = { model: this.#o.model, created_at: this.#o.clock.iso(), response: content };
      if (thinking !== "") out.thinking = thinking;
      out.done = false;
    }
    if (logprobs && logprobs.length > 0) out.logprobs = toOllamaLogprobs(logprobs);
    return out;
  }

  /** The upstream stream ended: emits the final chunk, or the error for a stream cut short. */
  end(): void {
    if (this.#ended) return;
    if (this.#finishReason === undefined) {
      return this.#fail("upstream stream ended before the response was complete");
    }
    this.#ended = true;
    const rest = this.#tags.flush();
    if (rest.content !== "" || rest.thinking !== "") {
      this.#emit(this.#partial(rest.content, rest.thinking, undefined));
    }
    this.#emit(this.#final());
  }

  #final(): OllamaChunk {
    const { clock, startedAt, headersAt } = this.#o;
    const end = clock.now();
    const first = this.#firstTokenAt ?? end;
    const ns = (ms: number) => Math.max(1, Math.round(ms * 1e6));
    const head: OllamaChunk = this.#o.kind === "chat"
      ? {
        model: this.#o.model,
        created_at: clock.iso(),
        message: { role: "assistant", content: "" },
      }
      : { model: this.#o.model, created_at: clock.iso(), response: "" };
    const promptTokens = this.#promptTokens ?? this.#o.promptTokensEstimate;
    const completionTokens = this.#completionTokens ?? this.#deltas;
    this.#o.onDone?.({ promptTokens, completionTokens, firstTokenAt: this.#firstTokenAt });
    return {
      ...head,
      done: true,
      done_reason: this.#finishReason === "length" ? "length" : "stop",
      // Ollama's token context cannot be produced by a proxy; strict clients (the AI SDK's
      // ollama-ai-provider-v2 completion model) require the key, so generate sends it empty.
      ...(this.#o.kind === "generate" && !this.#o.raw ? { context: [] } : {}),
      total_duration: ns(end - startedAt),
      load_duration: ns(headersAt - startedAt),
      prompt_eval_count: promptTokens,
      prompt_eval_duration: ns(first - headersAt),
      eval_count: completionTokens,
      eval_duration: ns(end - first),
    };
  }
}

/** Converts upstream SSE items into Ollama chunks; after an error chunk the stream ends. */
export class OllamaChunkStream extends TransformStream<SseItem, OllamaChunk> {
  constructor(options: ConversionOptions) {
    let converter: OllamaChunkConverter;
    super({
      start(controller) {
        converter = new OllamaChunkConverter(options, (chunk) => controller.enqueue(chunk));
      },
      transform(item, controller) {
        converter.push(item);
        if (converter.ended) controller.terminate();
      },
      flush: () => converter.end(),
    });
  }
}
