/**
 * The `response` object, as the stream's `response.created` … `response.completed` events and
 * the `stream: false` answer carry it: every field of the `openai` SDK's `Response` type, the
 * request's settings echoed (the model as the client named it), the output items in stream
 * order, and usage once the answer is over.
 */
import type { AnswerSummary } from "../../core/events.ts";
import type { OutputItem, ResponsesRequest } from "./types.ts";

/** What every state of one response shares. */
export interface ResponseFacts {
  id: string;
  /** Seconds since the epoch. */
  createdAt: number;
  /** The model name to echo. */
  model: string;
  request: ResponsesRequest;
  /** Whether the answer will be kept for `previous_response_id`. */
  store: boolean;
}

/** A response's state at one moment. */
export interface ResponseState {
  status: "in_progress" | "completed" | "incomplete" | "failed";
  output: readonly OutputItem[];
  summary?: AnswerSummary;
  completedAt?: number;
  incompleteReason?: string;
  error?: string;
}

/** Seconds since the epoch of an ISO timestamp. */
export function epochSeconds(iso: string): number {
  return Math.floor(Date.parse(iso) / 1000);
}

/** The `usage` object of a finished answer. */
export function usageOf(summary: AnswerSummary): Record<string, unknown> {
  return {
    input_tokens: summary.promptTokens,
    input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
    output_tokens: summary.completionTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: summary.promptTokens + summary.completionTokens,
  };
}

/** The response object for `facts` in `state`. */
export function responseObject(
  facts: ResponseFacts,
  state: ResponseState,
): Record<string, unknown> {
  const r = facts.request;
  const echo = r.echo;
  return {
    id: facts.id,
    object: "response",
    created_at: facts.createdAt,
    status: state.status,
    background: false,
    completed_at: state.completedAt ?? null,
    error: state.error === undefined ? null : { code: "server_error", message: state.error },
    incomplete_details: state.incompleteReason === undefined
      ? null
      : { reason: state.incompleteReason },
    instructions: r.instructions ?? null,
    max_output_tokens: r.maxOutputTokens ?? null,
    max_tool_calls: null,
    metadata: echo.metadata ?? {},
    model: facts.model,
    output: state.output,
    parallel_tool_calls: r.parallelToolCalls ?? true,
    previous_response_id: r.previousResponseId ?? null,
    prompt_cache_key: echo.prompt_cache_key ?? null,
    reasoning: r.effort === undefined && r.summary === undefined
      ? null
      : { effort: r.effort ?? null, summary: r.summary ?? null },
    safety_identifier: echo.safety_identifier ?? null,
    service_tier: "default",
    store: facts.store,
    temperature: r.temperature ?? 1,
    text: echo.text ?? { format: { type: "text" } },
    tool_choice: echo.tool_choice ?? "auto",
    tools: echo.tools ?? [],
    top_logprobs: r.topLogprobs ?? 0,
    top_p: r.topP ?? 1,
    truncation: echo.truncation ?? "disabled",
    usage: state.summary ? usageOf(state.summary) : null,
    user: echo.user ?? null,
  };
}
