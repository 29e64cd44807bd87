/**
 * The `stream: false` answer of `POST /v1/messages` (Claude Code's retry when a stream was
 * unusable): the core's answer events gathered into one message object. `content` is always an
 * array, in Anthropic's order — thinking, then text, then the tool_use blocks in call order —
 * `stop_sequence` is `null` unless the upstream named the sequence, and `usage` holds the
 * upstream's counts.
 */
import type { AnswerEvents, AnswerSummary, TokenLogprob, ToolCall } from "../../core/events.ts";
import { messageId, stopReason, THINKING_SIGNATURE } from "./encode.ts";
import type { AnswerBlock, MessageObject } from "./types.ts";

/** Gathers one answer; `message()` is the body once `end` was called. */
export class MessageCollector implements AnswerEvents {
  readonly #model: string;
  readonly #id: string;
  readonly #text: string[] = [];
  readonly #thinking: string[] = [];
  readonly #calls: ToolCall[] = [];
  #message: MessageObject | undefined;
  /** The failure reported after the first byte, if any. */
  failure: string | undefined;

  /** `id` is the message id (a fresh one unless a test fixes it). */
  constructor(model: string, id = messageId()) {
    this.#model = model;
    this.#id = id;
  }

  delta(text: string, thinking: string, _logprobs: readonly TokenLogprob[] | undefined): void {
    if (text !== "") this.#text.push(text);
    if (thinking !== "") this.#thinking.push(thinking);
  }

  toolCallStart(_index: number, _id: string, _name: string): void {}

  toolCallDelta(_index: number, _args: string): void {}

  toolCallEnd(call: ToolCall): void {
    this.#calls.push(call);
  }

  end(summary: AnswerSummary): void {
    const content: AnswerBlock[] = [];
    const thinking = this.#thinking.join("");
    if (thinking !== "") {
      content.push({ type: "thinking", thinking, signature: THINKING_SIGNATURE });
    }
    const text = this.#text.join("");
    // Whitespace a model writes around its tool calls is not an answer of its own.
    if (text !== "" && (this.#calls.length === 0 || text.trim() !== "")) {
      content.push({ type: "text", text });
    }
    for (const call of this.#calls) {
      content.push({ type: "tool_use", id: call.id, name: call.name, input: call.input });
    }
    const reason = stopReason(summary, this.#calls.length);
    this.#message = {
      id: this.#id,
      type: "message",
      role: "assistant",
      model: this.#model,
      content,
      stop_reason: reason,
      stop_sequence: reason === "stop_sequence" ? summary.stopSequence ?? null : null,
      usage: { input_tokens: summary.promptTokens, output_tokens: summary.completionTokens },
    };
  }

  error(message: string): void {
    this.failure = message;
  }

  /** The message object; undefined until the answer ended. */
  message(): MessageObject | undefined {
    return this.#message;
  }
}
