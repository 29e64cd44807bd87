/**
 * The answer vocabulary: what the core's interpreter (lib/core/interpret.ts) tells a door while
 * it reads the upstream stream, whatever the door's wire protocol. A door's encoder implements
 * `AnswerEvents` and turns each call into its own frames (Ollama NDJSON lines, OpenAI chunks,
 * Anthropic or Responses SSE events); its collector implements them too and builds the one
 * object of a `stream: false` answer.
 *
 * The order is fixed: any number of `delta`s and tool calls (`toolCallStart`, then its
 * `toolCallDelta`s), then — when the upstream finishes — one `toolCallEnd` per call in index
 * order, then exactly one of `end` (the answer is complete) or `error` (it failed after the first
 * byte), after which nothing more is called. The calls are methods, not event objects: the hot
 * path allocates nothing per token beyond the strings themselves.
 */

/** One generated token's log-probability, as the upstream reported it. */
export interface TokenLogprob {
  token?: string;
  logprob?: number;
  bytes?: number[] | null;
  top_logprobs?: { token?: string; logprob?: number; bytes?: number[] | null }[];
}

/** A complete tool call: `arguments` is valid JSON text, `input` the value it parses to. */
export interface ToolCall {
  /** Position among this answer's calls, from 0. */
  index: number;
  /** The upstream's call id, or one the proxy made (`call_…`) when the upstream sent none. */
  id: string;
  name: string;
  arguments: string;
  input: unknown;
}

/** How the answer ended, and what it cost. */
export interface AnswerSummary {
  /** The upstream's `finish_reason` (`stop`, `length`, `tool_calls`, `content_filter`, …). */
  finishReason: string;
  /** The stop sequence that ended the answer, when the upstream named it (vLLM `stop_reason`). */
  stopSequence: string | undefined;
  /** Prompt tokens: the upstream's usage, else the proxy's estimate (`promptEstimated`). */
  promptTokens: number;
  promptEstimated: boolean;
  /** Completion tokens: the upstream's usage, else the number of deltas. */
  completionTokens: number;
  /** `clock.now()` when the upstream answered with headers, at the first token, at the end. */
  headersAt: number;
  firstTokenAt: number | undefined;
  endedAt: number;
}

/** What the interpreter calls, in the order described above. */
export interface AnswerEvents {
  /** One upstream delta: its content and reasoning (either may be `""`) and its logprobs. */
  delta(text: string, thinking: string, logprobs: readonly TokenLogprob[] | undefined): void;
  /** A tool call begins (its name is known). */
  toolCallStart(index: number, id: string, name: string): void;
  /** More of a tool call's JSON arguments, as the model generates them. */
  toolCallDelta(index: number, args: string): void;
  /** A tool call is complete and its arguments are valid JSON. */
  toolCallEnd(call: ToolCall): void;
  /** The answer is complete. */
  end(summary: AnswerSummary): void;
  /** The answer failed after the first byte; `message` is safe to show (secrets redacted). */
  error(message: string): void;
}

/** A door's streaming encoder: the events plus its opening frame and its keep-alive frame. */
export interface AnswerEncoder extends AnswerEvents {
  /** The upstream answered with headers: write the opening frame(s), if the protocol has any. */
  start(): void;
  /**
   * Nothing came from the upstream for a while before the first token: write a keep-alive frame
   * (Anthropic `ping`), or leave it absent when the protocol has none.
   */
  ping?(): void;
}
