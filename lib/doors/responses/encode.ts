/**
 * The streamed answer of `POST /v1/responses`: `event: <type>` + `data: <json>` frames with a
 * `sequence_number` from 0 and no gaps. `start()` writes `response.created` and
 * `response.in_progress`; the output items' events come from `OutputItems`; the last frame is
 * `response.completed`, `response.incomplete` (the token limit or a content filter cut the
 * answer) or `response.failed` (the upstream failed after the first byte) — Codex retries and
 * gives up when none of them arrives. Keep-alive pings are SSE comments, which every client's
 * parser skips.
 */
import type { AnswerEncoder, AnswerSummary, TokenLogprob, ToolCall } from "../../core/events.ts";
import { finishStatus, OutputItems } from "./output.ts";
import { type ResponseFacts, responseObject } from "./response.ts";
import type { ToolNames } from "./tools.ts";
import type { OutputItem } from "./types.ts";

/** Options of the encoder. */
export interface EncoderOptions {
  /** Seconds since the epoch, for `completed_at`. */
  nowSeconds: () => number;
  /** Hears the output of an answer that completed (or was cut short), to keep it. */
  onDone?: (output: readonly OutputItem[]) => void;
}

/** Writes one answer as Responses SSE frames through `write`. */
export class ResponsesEncoder implements AnswerEncoder {
  readonly #write: (frame: string) => void;
  readonly #facts: ResponseFacts;
  readonly #options: EncoderOptions;
  readonly #output: OutputItems;
  #sequence = 0;

  constructor(
    write: (frame: string) => void,
    facts: ResponseFacts,
    names: ToolNames,
    options: EncoderOptions,
  ) {
    this.#write = write;
    this.#facts = facts;
    this.#options = options;
    const logprobs = (facts.request.topLogprobs ?? 0) > 0;
    this.#output = new OutputItems(names, (type, fields) => this.#event(type, fields), logprobs);
  }

  #event(type: string, fields: Record<string, unknown>): void {
    const data = JSON.stringify({ type, sequence_number: this.#sequence++, ...fields });
    this.#write(`event: ${type}\ndata: ${data}\n\n`);
  }

  start(): void {
    const response = responseObject(this.#facts, { status: "in_progress", output: [] });
    this.#event("response.created", { response });
    this.#event("response.in_progress", { response });
  }

  ping(): void {
    this.#write(": keep-alive\n\n");
  }

  delta(text: string, thinking: string, logprobs: readonly TokenLogprob[] | undefined): void {
    this.#output.delta(text, thinking, logprobs);
  }

  toolCallStart(index: number, id: string, name: string): void {
    this.#output.toolCallStart(index, id, name);
  }

  toolCallDelta(index: number, args: string): void {
    this.#output.toolCallDelta(index, args);
  }

  toolCallEnd(call: ToolCall): void {
    this.#output.toolCallEnd(call);
  }

  end(summary: AnswerSummary): void {
    const { status, reason } = finishStatus(summary);
    this.#output.finish(status);
    const response = responseObject(this.#facts, {
      status,
      output: this.#output.items,
      summary,
      completedAt: this.#options.nowSeconds(),
      ...(reason ? { incompleteReason: reason } : {}),
    });
    this.#options.onDone?.(this.#output.items);
    this.#event(status === "completed" ? "response.completed" : "response.incomplete", {
      response,
    });
  }

  error(message: string): void {
    // What was streamed before the failure stays in the items (closed as incomplete, with their
    // text), so the failed response shows the partial answer the client already saw.
    this.#output.finish("incomplete");
    const response = responseObject(this.#facts, {
      status: "failed",
      output: this.#output.items,
      error: message,
    });
    this.#event("response.failed", { response });
  }
}
