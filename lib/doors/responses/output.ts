/**
 * The answer's output items, built from the core's events in stream order, for both reply modes:
 * thinking opens a `reasoning` item (summary deltas), text a `message` item (one `output_text`
 * part), each tool call its own `function_call` item — or a `custom_tool_call` with the raw input
 * when the model called a custom tool such as `apply_patch` — with the `namespace` apart. An item
 * is closed (its `.done` events, then `response.output_item.done` with the whole item, which is
 * what Codex keeps) before the next one opens, so text before a tool call is complete before the
 * call is added. `emit` hears each stream event; the collector passes none.
 */
import type { AnswerSummary, TokenLogprob, ToolCall } from "../../core/events.ts";
import { sealReasoning } from "./items.ts";
import { customInput, type ToolNames } from "./tools.ts";
import type { ItemStatus, OutputItem, OutputTextPart } from "./types.ts";

/** Hears one stream event: its type and its fields besides `type` and `sequence_number`. */
export type EmitEvent = (type: string, fields: Record<string, unknown>) => void;

type MessageItem = Extract<OutputItem, { type: "message" }>;
type ReasoningItem = Extract<OutputItem, { type: "reasoning" }>;
type CallItem = Extract<OutputItem, { type: "function_call" | "custom_tool_call" }>;
type OpenItem = { item: MessageItem | ReasoningItem; index: number; text: string };

/** A short random id with a prefix (`msg_…`, `rs_…`, `fc_…`, `ctc_…`). */
export function newId(prefix: string): string {
  return `${prefix}_${crypto.randomUUID().replace(/-/g, "")}`;
}

function toLogprobs(entries: readonly TokenLogprob[]): unknown[] {
  return entries.map((e) => ({
    token: e.token ?? "",
    logprob: e.logprob ?? 0,
    bytes: e.bytes ?? [],
    top_logprobs: (e.top_logprobs ?? []).map((t) => ({
      token: t.token ?? "",
      logprob: t.logprob ?? 0,
      bytes: t.bytes ?? [],
    })),
  }));
}

/** The output items of one answer, and the events that build them. */
export class OutputItems {
  readonly items: OutputItem[] = [];
  readonly #names: ToolNames;
  readonly #emit: EmitEvent;
  readonly #logprobs: boolean;
  #open: OpenItem | undefined;
  readonly #calls = new Map<number, { item: CallItem; index: number }>();

  constructor(names: ToolNames, emit: EmitEvent = () => {}, logprobs = false) {
    this.#names = names;
    this.#emit = emit;
    this.#logprobs = logprobs;
  }

  /** Text and thinking of one upstream delta (thinking first). */
  delta(text: string, thinking: string, logprobs: readonly TokenLogprob[] | undefined): void {
    if (thinking !== "") {
      const open = this.#openItem("reasoning");
      open.text += thinking;
      this.#emit("response.reasoning_summary_text.delta", {
        item_id: open.item.id,
        output_index: open.index,
        summary_index: 0,
        delta: thinking,
      });
    }
    if (text !== "") {
      const open = this.#openItem("message");
      open.text += text;
      const probs = this.#logprobs && logprobs ? toLogprobs(logprobs) : [];
      if (probs.length > 0) (open.item as MessageItem).content[0]!.logprobs.push(...probs);
      this.#emit("response.output_text.delta", {
        item_id: open.item.id,
        output_index: open.index,
        content_index: 0,
        delta: text,
        logprobs: probs,
      });
    }
  }

  /** A tool call begins: its item is added (a custom tool's input comes whole at its end). */
  toolCallStart(index: number, id: string, name: string): void {
    this.#close("completed");
    const tool = this.#names.get(name);
    const base = { status: "in_progress" as const, call_id: id, name: tool?.name ?? name };
    const ns = tool?.namespace ? { namespace: tool.namespace } : {};
    const item: CallItem = tool?.custom
      ? { id: newId("ctc"), type: "custom_tool_call", ...base, ...ns, input: "" }
      : { id: newId("fc"), type: "function_call", ...base, ...ns, arguments: "" };
    const at = this.items.push(item) - 1;
    this.#calls.set(index, { item, index: at });
    this.#emit("response.output_item.added", { output_index: at, item: { ...item } });
  }

  /** More of a function call's arguments. */
  toolCallDelta(index: number, args: string): void {
    const call = this.#calls.get(index);
    if (!call || call.item.type !== "function_call" || args === "") return;
    call.item.arguments += args;
    this.#emit("response.function_call_arguments.delta", {
      item_id: call.item.id,
      output_index: call.index,
      delta: args,
    });
  }

  /** A tool call is complete: its `.done` events and the whole item. */
  toolCallEnd(end: ToolCall): void {
    if (!this.#calls.has(end.index)) this.toolCallStart(end.index, end.id, end.name);
    const { item, index } = this.#calls.get(end.index)!;
    this.#calls.delete(end.index);
    item.status = "completed";
    const where = { item_id: item.id, output_index: index };
    if (item.type === "function_call") {
      item.arguments = end.arguments;
      this.#emit("response.function_call_arguments.done", { ...where, arguments: item.arguments });
    } else {
      item.input = customInput(end.input, end.arguments);
      this.#emit("response.custom_tool_call_input.delta", { ...where, delta: item.input });
      this.#emit("response.custom_tool_call_input.done", { ...where, input: item.input });
    }
    this.#emit("response.output_item.done", { output_index: index, item: { ...item } });
  }

  /** Closes whatever is still open, with `status` (`incomplete` when the answer was cut). */
  finish(status: ItemStatus): void {
    this.#close(status);
    // The core ends every call before the answer; a call left open was cut, and says so.
    for (const { item, index } of this.#calls.values()) {
      item.status = "incomplete";
      this.#emit("response.output_item.done", { output_index: index, item: { ...item } });
    }
    this.#calls.clear();
  }

  #openItem(kind: "message" | "reasoning"): OpenItem {
    if (this.#open?.item.type === kind) return this.#open;
    this.#close("completed");
    const item: MessageItem | ReasoningItem = kind === "message"
      ? { id: newId("msg"), type: "message", status: "in_progress", role: "assistant", content: [] }
      : { id: newId("rs"), type: "reasoning", summary: [] };
    const index = this.items.push(item) - 1;
    this.#open = { item, index, text: "" };
    this.#emit("response.output_item.added", { output_index: index, item: structuredClone(item) });
    const where = { item_id: item.id, output_index: index };
    if (item.type === "message") {
      const part: OutputTextPart = { type: "output_text", text: "", annotations: [], logprobs: [] };
      item.content.push(part);
      this.#emit("response.content_part.added", { ...where, content_index: 0, part: { ...part } });
    } else {
      const part = { type: "summary_text", text: "" };
      this.#emit("response.reasoning_summary_part.added", { ...where, summary_index: 0, part });
    }
    return this.#open;
  }

  #close(status: ItemStatus): void {
    const open = this.#open;
    if (!open) return;
    this.#open = undefined;
    const { item, index, text } = open;
    const where = { item_id: item.id, output_index: index };
    if (item.type === "message") {
      const part = item.content[0]!;
      part.text = text;
      item.status = status;
      this.#emit("response.output_text.done", {
        ...where,
        content_index: 0,
        text,
        logprobs: part.logprobs,
      });
      this.#emit("response.content_part.done", { ...where, content_index: 0, part });
    } else {
      const part = { type: "summary_text" as const, text };
      item.summary.push(part);
      item.encrypted_content = sealReasoning(text);
      this.#emit("response.reasoning_summary_text.done", { ...where, summary_index: 0, text });
      this.#emit("response.reasoning_summary_part.done", { ...where, summary_index: 0, part });
    }
    this.#emit("response.output_item.done", { output_index: index, item });
  }
}

/** The response status for how the upstream finished, and why it is incomplete. */
export function finishStatus(
  summary: AnswerSummary,
): { status: "completed" | "incomplete"; reason?: "max_output_tokens" | "content_filter" } {
  if (summary.finishReason === "length") {
    return { status: "incomplete", reason: "max_output_tokens" };
  }
  if (summary.finishReason === "content_filter") {
    return { status: "incomplete", reason: "content_filter" };
  }
  return { status: "completed" };
}
