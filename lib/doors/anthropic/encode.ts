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
 * The signature a thinking block carries. Anthropic's signature proves the thinking is the
 * model's; the upstream has none, and Claude Code sends back whatever it was given
 * (agent-captures/claude-code-tool-result-turn.request.json), so the reasoning reaches the
 * next turn's `reasoning_content`. A constant says honestly where the block came from.
 */
export const THINKING_SIGNATURE = "ollama-chutes-proxy";

/** Anthropic's stop reason for how the upstream finished. */
export function stopReason(summary: AnswerSummary, toolCalls: number): StopReason {
  if (toolCalls > 0) return "tool_use";
  switch (summary.finishReason) {
    case "length":
      return "max_tokens";
    case "content_filter":
      return "refusal";
    default:
      return summary.stopSequence !== undefined ? "stop_sequence" : "end_turn";
  }
}

type Open = { kind: "thinking" | "text" } | { kind: "tool"; call: number } | undefined;

/** What one streamed tool call has sent so far. */
interface ToolBlock {
  index: number;
  sent: string;
  closed: boolean;
}

/** Writes Anthropic SSE frames for the core's answer events. */
export class AnthropicSseEncoder implements AnswerEncoder {
  readonly #write: (frame: string) => void;
  readonly #model: string;
  readonly #inputEstimate: number;
  #open: Open;
  #next = 0;
  readonly #tools = new Map<number, ToolBlock>();
  /** Whitespace the model wrote after a tool call, held until real text follows. */
  #held = "";

  constructor(write: (frame: string) => void, model: string, inputEstimate: number) {
    this.#write = write;
    this.#model = model;
    this.#inputEstimate = inputEstimate;
  }

  #event(type: string, data: Record<string, unknown>): void {
    this.#write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  }

  #close(): void {
    const open = this.#open;
    if (!open) return;
    if (open.kind === "thinking") {
      this.#event("content_block_delta", {
        index: this.#next - 1,
        delta: { type: "signature_delta", signature: THINKING_SIGNATURE },
      });
    }
    if (open.kind === "tool") this.#tools.get(open.call)!.closed = true;
    this.#event("content_block_stop", { index: this.#next - 1 });
    this.#open = undefined;
  }

  #begin(open: NonNullable<Open>, block: Record<string, unknown>): void {
    this.#close();
    this.#open = open;
    this.#event("content_block_start", { index: this.#next++, content_block: block });
  }

  start(): void {
    this.#event("message_start", {
      message: {
        id: messageId(),
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

  delta(text: string, thinking: string, _logprobs: readonly TokenLogprob[] | undefined): void {
    if (thinking !== "") {
      if (this.#open?.kind !== "thinking") {
        this.#begin({ kind: "thinking" }, { type: "thinking", thinking: "", signature: "" });
      }
      this.#event("content_block_delta", {
        index: this.#next - 1,
        delta: { type: "thinking_delta", thinking },
      });
    }
    if (text === "") return;
    if (this.#open?.kind === "tool" && text.trim() === "") {
      this.#held += text;
      return;
    }
    if (this.#open?.kind !== "text") this.#begin({ kind: "text" }, { type: "text", text: "" });
    this.#event("content_block_delta", {
      index: this.#next - 1,
      delta: { type: "text_delta", text: this.#held + text },
    });
    this.#held = "";
  }

  toolCallStart(index: number, id: string, name: string): void {
    this.#begin({ kind: "tool", call: index }, { type: "tool_use", id, name, input: {} });
    this.#tools.set(index, { index: this.#next - 1, sent: "", closed: false });
  }

  #args(block: ToolBlock, json: string): void {
    block.sent += json;
    this.#event("content_block_delta", {
      index: block.index,
      delta: { type: "input_json_delta", partial_json: json },
    });
  }

  toolCallDelta(index: number, args: string): void {
    const block = this.#tools.get(index);
    if (block && !block.closed && args !== "") this.#args(block, args);
  }

  toolCallEnd(call: ToolCall): void {
    let block = this.#tools.get(call.index);
    if (!block) {
      this.toolCallStart(call.index, call.id, call.name);
      block = this.#tools.get(call.index)!;
    }
    if (block.closed) return;
    // The streamed pieces are the arguments as generated; the core's final text is the valid
    // JSON. An empty stream (`{}` made by the core) or an unfinished one is completed here.
    if (block.sent === "") this.#args(block, call.arguments);
    else if (call.arguments.startsWith(block.sent) && call.arguments !== block.sent) {
      this.#args(block, call.arguments.slice(block.sent.length));
    }
    this.#close();
  }

  end(summary: AnswerSummary): void {
    this.#close();
    const reason = stopReason(summary, this.#tools.size);
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
