/**
 * Conversation policy carried over from the original proxy: a default system prompt used only
 * when the client sent none, and history trimmed to the last N non-system messages. Trimming
 * never leaves a tool result whose assistant tool call was cut away, because OpenAI-compatible
 * servers reject such an orphan.
 */
import { ProxyError } from "../base/errors.ts";
import type { OllamaMessage } from "../doors/ollama/types.ts";

/** Prepends `prompt` as a system message unless the conversation already has one. */
export function applyDefaultSystemPrompt(
  messages: readonly OllamaMessage[],
  prompt: string | null,
): OllamaMessage[] {
  if (!prompt || messages.some((m) => m.role === "system")) return [...messages];
  return [{ role: "system", content: prompt }, ...messages];
}

/**
 * Keeps every system message and the last `max` other messages (`-1` keeps everything).
 * Tool results at the start of the kept window lose their call, so they are dropped too.
 */
export function trimHistory<M extends { role: string }>(messages: readonly M[], max: number): M[] {
  if (max < 0) return [...messages];
  const others = messages.filter((m) => m.role !== "system");
  if (others.length <= max) return [...messages];
  const kept = new Set(others.slice(others.length - max));
  let leading = true;
  return messages.filter((m) => {
    if (m.role === "system") return true;
    if (!kept.has(m)) return false;
    if (leading && m.role === "tool") return false;
    leading = false;
    return true;
  });
}

/** A rough token estimate: four characters a token, a fixed cost per message and per image. */
export function estimateTokens(messages: readonly OllamaMessage[]): number {
  let total = 0;
  for (const m of messages) {
    total += 4 + Math.ceil((m.content.length + (m.thinking?.length ?? 0)) / 4) +
      768 * (m.images?.length ?? 0);
    if (m.tool_calls) total += Math.ceil(JSON.stringify(m.tool_calls).length / 4);
  }
  return total;
}

/**
 * The context guard: when the model's context length is known and the conversation clearly
 * exceeds it, `trim` drops the oldest non-system messages until it fits (the last message is
 * always kept) and `reject` answers a 400 that says what happened; `off` sends it as it is.
 */
export function guardContext(
  messages: OllamaMessage[],
  contextLength: number | undefined,
  mode: "trim" | "reject" | "off",
): OllamaMessage[] {
  if (!contextLength || mode === "off") return messages;
  const total = estimateTokens(messages);
  if (total <= contextLength) return messages;
  const tooLong = (estimate: number) =>
    new ProxyError(
      400,
      `the conversation is about ${estimate} tokens, more than the model's context length of ` +
        `${contextLength}; shorten it or start a new chat`,
    );
  if (mode === "reject") throw tooLong(total);
  const others = messages.filter((m) => m.role !== "system").length;
  for (let keep = others - 1; keep >= 1; keep--) {
    const trimmed = trimHistory(messages, keep);
    if (estimateTokens(trimmed) <= contextLength) return trimmed;
  }
  throw tooLong(estimateTokens(trimHistory(messages, 1)));
}
