/**
 * The `stream: false` answer of `POST /v1/responses`: the same output items as the stream
 * (lib/doors/responses/output.ts), gathered into one response object with its status, usage and
 * `incomplete_details`.
 */
import type { AnswerEvents, AnswerSummary, TokenLogprob, ToolCall } from "../../core/events.ts";
import { finishStatus, OutputItems } from "./output.ts";
import { type ResponseFacts, responseObject } from "./response.ts";
import type { ToolNames } from "./tools.ts";
import type { OutputItem } from "./types.ts";

/** Gathers one answer into a response object (`response` once `end` was called). */
export class ResponsesCollector implements AnswerEvents {
  readonly #facts: ResponseFacts;
  readonly #output: OutputItems;
  readonly #nowSeconds: () => number;
  #response: Record<string, unknown> | undefined;
  #failure: string | undefined;

  constructor(facts: ResponseFacts, names: ToolNames, nowSeconds: () => number) {
    this.#facts = facts;
    this.#nowSeconds = nowSeconds;
    this.#output = new OutputItems(names, undefined, (facts.request.topLogprobs ?? 0) > 0);
  }

  /** The finished response object (undefined before `end`, or after `error`). */
  get response(): Record<string, unknown> | undefined {
    return this.#response;
  }

  /** The output items so far. */
  get output(): readonly OutputItem[] {
    return this.#output.items;
  }

  /** The failure message, when the answer failed. */
  get failure(): string | undefined {
    return this.#failure;
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
    this.#response = responseObject(this.#facts, {
      status,
      output: this.#output.items,
      summary,
      completedAt: this.#nowSeconds(),
      ...(reason ? { incompleteReason: reason } : {}),
    });
  }

  error(message: string): void {
    this.#failure = message;
  }
}
