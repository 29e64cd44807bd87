/**
 * The reading of an upstream chat stream, for every door: SSE items in (lib/upstream/sse.ts),
 * answer events out (lib/core/events.ts). Content and reasoning deltas (`reasoning_content` or
 * `reasoning`, or `<think>…</think>` at the start of the content) become `delta`s; streamed
 * tool-call fragments become `toolCallStart`/`toolCallDelta` as they arrive (gathered by
 * lib/core/tool_calls.ts) and, once the upstream finishes, a `toolCallEnd` per call whose
 * arguments are a JSON object (a call cut by the output limit is left out); reading goes on
 * after `finish_reason` for the usage chunk, which (or `[DONE]`, or the end of the body) gives
 * the one `end`. Any failure after the first byte — an error event, Chutes' bare error line,
 * malformed JSON, an oversized event, arguments that are not a JSON object, or a stream that just
 * stops — becomes one `error` whose message has every secret redacted (before it is shortened)
 * and ends the interpretation; after the finish, such noise only ends a whole answer. Chunk
 * shapes are checked, never trusted: a malformed chunk is skipped, never a crash.
 */
import type { Clock } from "../base/clock.ts";
import { upstreamErrorMessage } from "../base/errors.ts";
import { isJsonObject } from "../base/json.ts";
import type { SseItem } from "../upstream/sse.ts";
import type { OpenAIChunk } from "../upstream/wire.ts";
import type { AnswerEvents, AnswerSummary, TokenLogprob } from "./events.ts";
import { type SplitDelta, ThinkTagSplitter } from "./think_tags.ts";
import { ToolCallGatherer } from "./tool_calls.ts";

const NO_SPLIT: SplitDelta = { thinking: "", content: "" };

/** What the interpreter needs to know about the request. */
export interface InterpretOptions {
  clock: Clock;
  /** `clock.now()` when the upstream answered with headers. */
  headersAt: number;
  /** Used for the prompt tokens when the upstream sends no usage. */
  promptEstimate: number;
  /** Removes every secret from a text built from upstream bytes. */
  redact: (text: string) => string;
}

const text = (v: unknown) => typeof v === "string" ? v : "";

/** Upstream text in a message: at most 200 characters. */
const short = (t: string) => t.length > 200 ? `${t.slice(0, 200)}…` : t;

/** Turns upstream SSE items into answer events for one answer. */
export class UpstreamInterpreter {
  readonly #o: InterpretOptions;
  readonly #out: AnswerEvents;
  readonly #calls: ToolCallGatherer;
  #finishReason: string | undefined;
  #stopSequence: string | undefined;
  #ended = false;
  #failure: string | undefined;
  #summary: AnswerSummary | undefined;
  #promptTokens: number | undefined;
  #completionTokens: number | undefined;
  #deltas = 0;
  #firstTokenAt: number | undefined;
  readonly #tags = new ThinkTagSplitter();

  constructor(options: InterpretOptions, out: AnswerEvents) {
    this.#o = options;
    this.#out = out;
    this.#calls = new ToolCallGatherer(out);
  }

  /** True once `end` or `error` was called: stop reading the upstream. */
  get ended(): boolean {
    return this.#ended;
  }

  /** The failure message, when the answer ended with `error`. */
  get failure(): string | undefined {
    return this.#failure;
  }

  /** The summary, when the answer ended with `end`. */
  get summary(): AnswerSummary | undefined {
    return this.#summary;
  }

  /**
   * The tokens so far — the upstream's usage when it came, else the estimate and the deltas — for
   * an answer cut short, which Chutes bills as far as it went.
   */
  get tokensSoFar(): { prompt: number; completion: number } {
    return {
      prompt: this.#promptTokens ?? this.#o.promptEstimate,
      completion: this.#completionTokens ?? this.#deltas,
    };
  }

  /** When the first token arrived, if one did. */
  get firstTokenAt(): number | undefined {
    return this.#firstTokenAt;
  }

  /** Ends the answer with an error; the message is redacted again here, whatever built it. */
  fail(message: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#failure = this.#o.redact(message);
    this.#out.error(this.#failure);
  }

  #failWith(prefix: string, upstreamText: string): void {
    this.fail(`${prefix}${short(this.#o.redact(upstreamText))}`);
  }

  /** After the finish, the answer is whole: a later failure or silence only ends it. */
  #failOrEnd(message: string): void {
    if (this.#finishReason !== undefined) return this.end();
    this.fail(message);
  }

  /** Interprets one SSE item. */
  push(item: SseItem): void {
    if (this.#ended) return;
    if (item.kind === "oversized") {
      return this.#failOrEnd(`upstream sent a stream event larger than ${item.limit} characters`);
    }
    if (item.kind === "bare") {
      const message = upstreamErrorMessage(this.#o.redact(item.line));
      return this.#failOrEnd(message || "upstream sent an unreadable stream line");
    }
    if (item.data === "[DONE]") {
      // No finish chunk came: gathered tool calls must still go out, not be dropped.
      if (this.#finishReason === undefined) this.#finish("stop");
      // The answer is complete: finish now, even if the upstream keeps the connection open.
      return this.end();
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(item.data);
    } catch {
      parsed = undefined;
    }
    // After the finish only the usage chunk is of use; anything else means the answer is whole.
    if (this.#finishReason !== undefined && !isJsonObject(parsed)) return this.end();
    // `data: null` (or any non-object) would otherwise throw below and error the whole stream.
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      return this.#failWith("upstream sent malformed JSON in its stream: ", item.data);
    }
    const chunk = parsed as OpenAIChunk;
    if (chunk.error != null || chunk.detail != null || chunk.object === "error") {
      const message = upstreamErrorMessage(this.#o.redact(item.data));
      return this.#failOrEnd(message || "upstream reported an error");
    }
    this.#onChunk(chunk);
  }

  #onChunk(chunk: OpenAIChunk): void {
    const usage = chunk.usage;
    if (usage !== null && typeof usage === "object") {
      if (typeof usage.prompt_tokens === "number") this.#promptTokens = usage.prompt_tokens;
      if (typeof usage.completion_tokens === "number") {
        this.#completionTokens = usage.completion_tokens;
      }
    }
    // The usage chunk comes last, after the finish: the answer is whole, whatever follows.
    if (this.#finishReason !== undefined) {
      if (usage !== null && typeof usage === "object") this.end();
      return;
    }
    // Only the first choice is answered (a request for several is refused or cut to one).
    const choice = Array.isArray(chunk.choices)
      ? chunk.choices.find((c) => c !== null && typeof c === "object" && (c.index ?? 0) === 0)
      : undefined;
    if (!choice) return;
    const delta = choice.delta !== null && typeof choice.delta === "object"
      ? choice.delta
      : undefined;
    const raw = text(delta?.content) || text(choice.text);
    const split = raw === "" ? NO_SPLIT : this.#tags.push(raw);
    const reasoning = text(delta?.reasoning_content) || text(delta?.reasoning);
    const thinking = split.thinking === "" ? reasoning : reasoning + split.thinking;
    const toolCalls = delta?.tool_calls;
    if (Array.isArray(toolCalls) && toolCalls.length > 0) {
      // Tool-call fragments are generated tokens too: they start the eval clock like content.
      this.#firstTokenAt ??= this.#o.clock.now();
      this.#deltas++;
      for (const d of toolCalls) {
        if (d !== null && typeof d === "object") this.#calls.gather(d);
      }
    }
    const rawLogprobs = choice.logprobs?.content;
    const logprobs = Array.isArray(rawLogprobs)
      ? rawLogprobs.filter((e): e is TokenLogprob => e !== null && typeof e === "object")
      : undefined;
    const hasLogprobs = logprobs !== undefined && logprobs.length > 0;
    if (split.content !== "" || thinking !== "" || hasLogprobs) {
      this.#firstTokenAt ??= this.#o.clock.now();
      this.#deltas++;
      this.#out.delta(split.content, thinking, hasLogprobs ? logprobs : undefined);
    }
    if (typeof choice.finish_reason === "string" && choice.finish_reason !== "") {
      const stop = (choice as { stop_reason?: unknown }).stop_reason;
      if (typeof stop === "string") this.#stopSequence = stop;
      this.#finish(choice.finish_reason);
    }
  }

  /** The upstream finished: every gathered call is complete now (or was cut by the limit). */
  #finish(reason: string): void {
    // Text held back for a possible <think> goes before the calls end, never after them.
    const rest = this.#tags.flush();
    if (rest.content !== "" || rest.thinking !== "") {
      this.#out.delta(rest.content, rest.thinking, undefined);
    }
    const calls = this.#calls.drain();
    // Some tool parsers finish a tool-call turn with "stop"; clients branch on "tool_calls".
    this.#finishReason = calls.length > 0 && reason === "stop" ? "tool_calls" : reason;
    for (const call of calls) {
      let input: unknown;
      const args = call.args.trim() === "" ? "{}" : call.args;
      try {
        input = JSON.parse(args);
      } catch {
        input = undefined;
      }
      if (!isJsonObject(input)) {
        // Cut by the output limit: the answer ends as "length", the unfinished call left out.
        if (reason === "length") continue;
        return this.#failWith(
          `upstream returned tool call "${short(call.name)}" with arguments that are not a JSON ` +
            "object: ",
          call.args,
        );
      }
      if (call.name === "") {
        return this.#failWith("upstream returned a tool call without a name, arguments: ", args);
      }
      if (!call.started) this.#out.toolCallStart(call.index, call.id, call.name);
      this.#out.toolCallEnd({
        index: call.index,
        id: call.id,
        name: call.name,
        arguments: args,
        input,
      });
    }
  }

  /** The upstream body ended (or `[DONE]` came): the `end` event, or the error of a cut stream. */
  end(): void {
    if (this.#ended) return;
    if (this.#finishReason === undefined) {
      return this.fail("upstream stream ended before the response was complete");
    }
    this.#ended = true;
    this.#summary = {
      finishReason: this.#finishReason,
      stopSequence: this.#stopSequence,
      promptTokens: this.#promptTokens ?? this.#o.promptEstimate,
      promptEstimated: this.#promptTokens === undefined,
      completionTokens: this.#completionTokens ?? this.#deltas,
      headersAt: this.#o.headersAt,
      firstTokenAt: this.#firstTokenAt,
      endedAt: this.#o.clock.now(),
    };
    this.#out.end(this.#summary);
  }
}
