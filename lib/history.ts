/**
 * Conversation policy carried over from the original proxy: a default system prompt used only
 * when the client sent none, and history trimmed to the last N non-system messages. Trimming
 * never leaves a tool result whose assistant tool call was cut away, because OpenAI-compatible
 * servers reject such an orphan.
 */
import type { OllamaMessage } from "./ollama_types.ts";

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
