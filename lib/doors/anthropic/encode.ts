/**
 * The streamed answer of `POST /v1/messages`: the core's answer events become Anthropic SSE
 * frames, `event: <type>\ndata: <json>\n\n`, one frame per write. The sequence is the one the
 * Anthropic SDK and Claude Code accumulate: `message_start` (empty `content`, the prompt-token
 * estimate), then content blocks at consecutive indexes from 0 — a `thinking` or `text` block
 * opens with its empty key (the SDK appends into it), a `tool_use` block with `input: {}` and
 * its arguments as `input_json_delta` pieces as the model generates them — each closed before
 * the next opens, then `message_delta` (stop reason, real usage) and `message_stop`. A failure
 * after the first byte is an `event: error`, never a silent stop: Claude Code then retries the
 * request without streaming (agent-doors.md D.1.4).
 */
import type { AnswerEncoder, AnswerSummary, TokenLogprob, ToolCall } from "../../core/events.ts";
import { anthropicErrorBody, streamErrorType } from "./errors.ts";
import type { StopReason } from "./types.ts";

/** A fresh message id: `msg_` and 24 hex digits, as Anthropic's ids look. */
export function messageId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `msg_${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * The signature a thinking block carries. Anthropic's API always sends one (a `signature_delta`
 * before the block stops) and clients typed after it expect a string; the upstream has none, so
 * a constant says honestly where the block came from. Claude Code sends the block back as it
 * was given (agent-captures/claude-code-tool-result-turn.request.json), and its thinking goes
 * upstream again as that turn's `reasoning_content`.
 */
export const THINKING_SIGNATURE = "ollama-chutes-proxy";

/** Anthropic's stop reason for how the upstream finished. */
export function stopReason(summary: AnswerSummary, toolCalls: number): StopReason {
  // Cut by the limit: an unfinished tool call was left out, so nothing is there to run.
  if (summary.finishReason === "length") return "max_tokens";
  if (toolCalls > 0) return "tool_use";
  switch (summary.finishReason) {
    case "content_filter":
      return "refusal";
    default:
      return summary.stopSequence !== undefined ? "stop_sequence" : "end_turn";
  }
}

/** Writes Anthropic SSE frames for the core's answer events. */
export class AnthropicSseEncoder implements AnswerEncoder {
  readonly #write: (frame: string) => void;
  readonly #model: string;
  readonly #inputEstimate: number;
  readonly #id: string;
  #open: "thinking" | "text" | "tool" | undefined;
  #next = 0;
  #toolCalls = 0;
  /** The call whose block is open: its index among the calls and the arguments sent so far. */
  #live: { call: number; sent: string } | undefined;
  /**
   * Events that arrived while a tool call's block was open and are not part of it: blocks do
   * not interleave, so they go out, in order, once that call is complete.
   */
  #queue: (() => void)[] = [];
  /** Whitespace the model wrote after a tool call, held until real text follows. */
  #held = "";

  /** `id` is the message id (a fresh one unless a test fixes it). */
  constructor(
    write: (frame: string) => void,
    model: string,
    inputEstimate: number,
    id = messageId(),
  ) {
    this.#write = write;
    this.#model = model;
    this.#inputEstimate = inputEstimate;
    this.#id = id;
  }

  #event(type: string, data: Record<string, unknown>): void {
    this.#write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  }

  #close(): void {
    if (!this.#open) return;
    if (this.#open === "thinking") {
      this.#event("content_block_delta", {
        index: this.#next - 1,
        delta: { type: "signature_delta", signature: THINKING_SIGNATURE },
      });
    }
    this.#event("content_block_stop", { index: this.#next - 1 });
    this.#open = undefined;
  }

  #begin(open: "thinking" | "text" | "tool", block: Record<string, unknown>): void {
    this.#close();
    this.#open = open;
    this.#event("content_block_start", { index: this.#next++, content_block: block });
  }

  /** True when the event must wait for the open tool call (and was queued). */
  #deferred(run: () => void): boolean {
    if (!this.#live) return false;
    this.#queue.push(run);
    return true;
  }

  #args(json: string): void {
    this.#live!.sent += json;
    this.#event("content_block_delta", {
      index: this.#next - 1,
      delta: { type: "input_json_delta", partial_json: json },
    });
  }

  start(): void {
    this.#event("message_start", {
      message: {
        id: this.#id,
        type: "message",
        role: "assistant",
        model: this.#model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: this.#inputEstimate, output_tokens: 0 },
      },
    });
  }

  ping(): void {
    this.#event("ping", {});
  }

  delta(text: string, thinking: string, logprobs: readonly TokenLogprob[] | undefined): void {
    if (this.#live && thinking === "" && text.trim() === "") {
      this.#held += text;
      return;
    }
    if (this.#deferred(() => this.delta(text, thinking, logprobs))) return;
    if (thinking !== "") {
      if (this.#open !== "thinking") {
        this.#begin("thinking", { type: "thinking", thinking: "", signature: "" });
      }
      this.#event("content_block_delta", {
        index: this.#next - 1,
        delta: { type: "thinking_delta", thinking },
      });
    }
    if (text === "") return;
    if (this.#open !== "text") this.#begin("text", { type: "text", text: "" });
    this.#event("content_block_delta", {
      index: this.#next - 1,
      delta: { type: "text_delta", text: this.#held + text },
    });
    this.#held = "";
  }

  toolCallStart(index: number, id: string, name: string): void {
    if (this.#deferred(() => this.toolCallStart(index, id, name))) return;
    this.#begin("tool", { type: "tool_use", id, name, input: {} });
    this.#live = { call: index, sent: "" };
    this.#toolCalls++;
  }

  toolCallDelta(index: number, args: string): void {
    if (this.#live?.call !== index) {
      // Not the open call's: it waits for that call's end (when no call is open, it belongs to
      // a call that never started, whose arguments still come whole with its end).
      this.#deferred(() => this.toolCallDelta(index, args));
      return;
    }
    if (args !== "") this.#args(args);
  }

  toolCallEnd(call: ToolCall): void {
    if (this.#live?.call !== call.index) {
      if (this.#deferred(() => this.toolCallEnd(call))) return;
      this.toolCallStart(call.index, call.id, call.name);
    }
    // The streamed pieces are the arguments as generated; the core's final text is the valid
    // JSON. An empty stream (`{}` made by the core) or an unfinished one is completed here.
    const sent = this.#live!.sent;
    if (sent === "") this.#args(call.arguments);
    else if (call.arguments.startsWith(sent) && call.arguments !== sent) {
      this.#args(call.arguments.slice(sent.length));
    }
    this.#close();
    this.#live = undefined;
    const queued = this.#queue;
    this.#queue = [];
    for (const run of queued) run();
  }

  end(summary: AnswerSummary): void {
    this.#close();
    this.#live = undefined;
    for (const run of this.#queue.splice(0)) run();
    this.#close();
    const reason = stopReason(summary, this.#toolCalls);
    this.#event("message_delta", {
      delta: {
        stop_reason: reason,
        stop_sequence: reason === "stop_sequence" ? summary.stopSequence ?? null : null,
      },
      usage: { input_tokens: summary.promptTokens, output_tokens: summary.completionTokens },
    });
    this.#event("message_stop", {});
  }

  error(message: string): void {
    this.#write(
      `event: error\ndata: ${
        JSON.stringify(anthropicErrorBody(streamErrorType(message), message))
      }\n\n`,
    );
  }
}
