/**
 * The conversation policy every door's chat passes through, on the upstream (OpenAI) messages:
 * a default system prompt used only when the client sent none, history trimmed to the last N
 * non-system messages, and the context guard for conversations that clearly exceed the model's
 * context length. Trimming never leaves a tool result whose assistant tool call was cut away,
 * because OpenAI-compatible servers reject such an orphan. Every step is linear in the
 * conversation: each message's cost is estimated once, and the guard finds its cut with running
 * sums (a quadratic guard once froze the proxy for a minute on a 1 MB body).
 */
import { ProxyError } from "../base/errors.ts";
import type { Resolved } from "../models/catalogue.ts";

/** A chat message as far as the policy reads it. */
export interface PolicyMessage {
  role: string;
  content?: unknown;
  reasoning_content?: unknown;
  tool_calls?: unknown;
}

/** Prepends `prompt` as a system message unless the conversation already has one. */
export function applyDefaultSystemPrompt<M extends PolicyMessage>(
  messages: readonly M[],
  prompt: string | null,
): M[] {
  if (!prompt || messages.some((m) => m.role === "system" || m.role === "developer")) {
    return [...messages];
  }
  return [{ role: "system", content: prompt } as M, ...messages];
}

const isSystem = (m: { role: string }) => m.role === "system" || m.role === "developer";

/**
 * Keeps every system message and the last `max` other messages (`-1` keeps everything).
 * Tool results at the start of the kept window lose their call, so they are dropped too.
 */
export function trimHistory<M extends { role: string }>(messages: readonly M[], max: number): M[] {
  if (max < 0) return [...messages];
  const others = messages.reduce((n, m) => isSystem(m) ? n : n + 1, 0);
  return others <= max ? [...messages] : keepLast(messages, others - max);
}

/**
 * Drops the first `drop` non-system messages, then the tool results left without their call —
 * except the last non-system message, which is always kept (an empty conversation helps no one).
 */
function keepLast<M extends { role: string }>(messages: readonly M[], drop: number): M[] {
  let seen = 0;
  let leading = true;
  const last = messages.findLastIndex((m) => !isSystem(m));
  return messages.filter((m, i) => {
    if (isSystem(m)) return true;
    if (seen++ < drop) return false;
    if (leading && m.role === "tool" && i !== last) return false;
    leading = false;
    return true;
  });
}

/** Rough tokens of one content value: four characters a token, a fixed cost per image. */
function contentTokens(content: unknown): number {
  if (typeof content === "string") return Math.ceil(content.length / 4);
  if (!Array.isArray(content)) return 0;
  let total = 0;
  for (const part of content) {
    if (part === null || typeof part !== "object") continue;
    const p = part as { type?: unknown; text?: unknown };
    if (typeof p.text === "string") total += Math.ceil(p.text.length / 4);
    else if (typeof p.type === "string" && p.type.includes("image")) total += 768;
  }
  return total;
}

/** A rough token estimate of one message: its content, reasoning and tool calls, plus 4. */
export function messageTokens(m: PolicyMessage): number {
  let total = 4 + contentTokens(m.content);
  if (typeof m.reasoning_content === "string") total += Math.ceil(m.reasoning_content.length / 4);
  if (m.tool_calls !== undefined) total += Math.ceil(JSON.stringify(m.tool_calls).length / 4);
  return total;
}

/** A rough token estimate of a conversation (the proxy's prompt-token estimate). */
export function estimateTokens(messages: readonly PolicyMessage[]): number {
  let total = 0;
  for (const m of messages) total += messageTokens(m);
  return total;
}

/**
 * The room a conversation leaves for the answer: what the client asked for (1024 when it did
 * not say), at most a quarter of the context.
 */
export function answerReserve(contextLength: number, asked: unknown): number {
  const wanted = typeof asked === "number" && asked > 0 ? asked : 1024;
  return Math.min(wanted, Math.floor(contextLength / 4));
}

/**
 * The context guard: when the model's context length is known and the conversation clearly
 * exceeds it (with `reserve` tokens kept for the answer), `trim` drops the oldest non-system
 * messages until it fits (the last message is always kept) and `reject` answers a 400 that says
 * what happened; `off` sends it as it is.
 */
export function guardContext<M extends PolicyMessage>(
  messages: M[],
  contextLength: number | undefined,
  mode: "trim" | "reject" | "off",
  reserve = 0,
): M[] {
  if (!contextLength || mode === "off") return messages;
  const budget = contextLength - reserve;
  const costs = messages.map(messageTokens);
  let total = 0;
  for (const c of costs) total += c;
  if (total <= budget) return messages;
  const tooLong = (estimate: number) =>
    new ProxyError(
      400,
      `the conversation is about ${estimate} tokens, more than the model's context length of ` +
        `${contextLength} allows with ${reserve} tokens kept for the answer; shorten it or ` +
        "start a new chat",
    );
  if (mode === "reject") throw tooLong(total);
  // The non-system messages in order, with what each costs.
  const others: number[] = [];
  let systemCost = 0;
  messages.forEach((m, i) => isSystem(m) ? systemCost += costs[i]! : others.push(i));
  const n = others.length;
  // suffix[k]: the cost of others[k..]; toolRun[k]: the cost of the tool results starting at k.
  const suffix = new Array<number>(n + 1).fill(0);
  const toolRun = new Array<number>(n + 1).fill(0);
  for (let k = n - 1; k >= 0; k--) {
    const cost = costs[others[k]!]!;
    suffix[k] = suffix[k + 1]! + cost;
    // The last message is always kept, even a tool result.
    toolRun[k] = messages[others[k]!]!.role === "tool" && k < n - 1 ? cost + toolRun[k + 1]! : 0;
  }
  let best = total;
  for (let drop = 1; drop < n; drop++) {
    const kept = systemCost + suffix[drop]! - toolRun[drop]!;
    if (kept <= budget) return keepLast(messages, drop);
    best = kept;
  }
  throw tooLong(best);
}

/** The prompt's tokens as the proxy estimates them: messages (or prompt) and tool definitions. */
export function promptEstimate(body: Record<string, unknown>): number {
  const tools = Array.isArray(body.tools) ? Math.ceil(JSON.stringify(body.tools).length / 4) : 0;
  if (typeof body.prompt === "string") return Math.ceil(body.prompt.length / 4) + tools;
  const messages = Array.isArray(body.messages) ? body.messages as PolicyMessage[] : [];
  return estimateTokens(messages) + tools;
}

/**
 * The most output the model can give this prompt: its output limit, and what the context leaves
 * after the prompt (vLLM and SGLang refuse prompt + max_tokens over the context length; Chutes
 * lists `max_output_length` equal to the context, so a client's 32000 fails a 40k model once the
 * prompt passes 8k). The prompt is an estimate, so a margin stays free; never below 1024.
 */
export function outputLimit(resolved: Resolved, prompt: number): number | undefined {
  const facts = resolved.facts;
  const context = facts?.contextLength;
  const room = context ? context - prompt - Math.max(256, Math.ceil(context * 0.02)) : Infinity;
  const limit = Math.min(facts?.maxOutputTokens ?? Infinity, Math.max(room, 1024));
  return Number.isFinite(limit) ? limit : undefined;
}
