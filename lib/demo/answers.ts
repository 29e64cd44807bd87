/**
 * What the demo upstream says (lib/demo/demo.ts serves it): a canned, clearly labelled answer that
 * echoes the user's last message, split into tokens; canned reasoning for the thinking model; a
 * tool call whose arguments are filled in from the offered tool's JSON schema; a JSON answer
 * when a JSON format is asked for; and deterministic embeddings. Pure functions, no I/O.
 */

type Body = Record<string, unknown>;

/** The answer planned for one request, before it is put on the wire. */
export interface DemoAnswer {
  reasoning: string[];
  content: string[];
  toolCall?: { name: string; arguments: string };
  finish: "stop" | "length" | "tool_calls";
}

const LABEL = "This is a demo answer from ollama-chutes-proxy";
const REAL_MODE = "Start the proxy with a Chutes token (CHUTES_API_TOKEN) and without --demo to " +
  "talk to real models.";

/** Splits text into tokens the way the demo streams them: a word and the space after it. */
export function demoTokens(text: string): string[] {
  return text.match(/\s*\S+\s*/g) ?? [];
}

/** The text of a message's `content`: a string, or the text parts of an array. */
export function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((p) => (p as Body)?.type === "text" ? String((p as Body).text ?? "") : "")
    .join(" ");
}

function imagesIn(content: unknown): number {
  return Array.isArray(content)
    ? content.filter((p) => (p as Body)?.type === "image_url").length
    : 0;
}

/** A short quotation of what the user said, for the echo. */
export function quote(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 80 ? `${flat.slice(0, 80)}…` : flat;
}

function lastMessage(messages: unknown): Body | undefined {
  return Array.isArray(messages) ? messages.at(-1) as Body | undefined : undefined;
}

function lastUserMessage(messages: unknown): Body | undefined {
  return Array.isArray(messages)
    ? (messages as Body[]).findLast((m) => m?.role === "user")
    : undefined;
}

/** The labelled demo reply to `said` (the user's text), from `model`. */
export function demoReply(model: string, said: string, images = 0): string {
  const echo = said === "" ? "You sent no text." : `You said: “${quote(said)}”.`;
  const seen = images > 0 ? ` I received ${images} image${images === 1 ? "" : "s"}.` : "";
  return `${LABEL} (model ${model}): no model ran and nothing left this machine. ${echo}${seen} ` +
    REAL_MODE;
}

function thinkingOff(body: Body): boolean {
  const kwargs = body.chat_template_kwargs as Body | undefined;
  return kwargs?.enable_thinking === false || kwargs?.thinking === false;
}

/** An example value that fits a JSON schema; strings get `hint`. */
export function exampleValue(schema: unknown, hint: string, depth = 0): unknown {
  const s = (schema ?? {}) as Body;
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  if ("const" in s) return s.const;
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== "null") : s.type;
  if (type === "string") return hint;
  if (type === "integer") return 3;
  if (type === "number") return 2.5;
  if (type === "boolean") return true;
  if (type === "null") return null;
  if (type === "array") return depth > 4 ? [] : [exampleValue(s.items, hint, depth + 1)];
  const properties = (s.properties ?? {}) as Record<string, unknown>;
  const keys = Array.isArray(s.required) && s.required.length > 0
    ? s.required.filter((k): k is string => typeof k === "string")
    : Object.keys(properties);
  if (type !== "object" && keys.length === 0) return hint;
  return Object.fromEntries(
    keys.map((k) => [k, depth > 4 ? null : exampleValue(properties[k], hint, depth + 1)]),
  );
}

/** The word a filled-in string argument gets: the user's last word (`…in Paris?` → `Paris`). */
function hintFrom(said: string): string {
  return /([\p{L}\p{N}][\p{L}\p{N}_-]*)[^\p{L}\p{N}]*$/u.exec(said)?.[1] ?? "demo";
}

function toolAnswer(body: Body, said: string): DemoAnswer | undefined {
  const tools = Array.isArray(body.tools) ? body.tools as Body[] : [];
  const fn = tools[0]?.function as Body | undefined;
  const last = lastMessage(body.messages);
  if (last?.role === "tool") {
    const text = `${LABEL}: the tool answered “${quote(textOf(last.content))}”. ` +
      "A real model would now use that result in its reply.";
    return { reasoning: [], content: demoTokens(text), finish: "stop" };
  }
  if (!fn || typeof fn.name !== "string") return undefined;
  const args = exampleValue(fn.parameters ?? { type: "object" }, hintFrom(said));
  return {
    reasoning: [],
    content: [],
    toolCall: { name: fn.name, arguments: JSON.stringify(args) },
    finish: "tool_calls",
  };
}

function formatted(body: Body, model: string, said: string): string | undefined {
  const format = body.response_format as Body | undefined;
  if (format?.type === "json_object") {
    return JSON.stringify({ demo: true, model, you_said: quote(said), note: LABEL });
  }
  if (format?.type === "json_schema") {
    const schema = (format.json_schema as Body | undefined)?.schema;
    return JSON.stringify(exampleValue(schema ?? { type: "object" }, hintFrom(said)));
  }
  return undefined;
}

/** Plans the answer to a chat request for one of the demo models. */
export function planChatAnswer(body: Body, model: string): DemoAnswer {
  const user = lastUserMessage(body.messages);
  const said = textOf(user?.content);
  if (model === "demo/tools") {
    const answer = toolAnswer(body, said);
    if (answer) return answer;
  }
  const text = formatted(body, model, said) ?? demoReply(model, said, imagesIn(user?.content));
  const reasoning = model === "demo/thinker" && !thinkingOff(body)
    ? demoTokens(
      `The user wrote “${quote(said)}”. I am the demo thinker of ollama-chutes-proxy, so this ` +
        "reasoning is canned: it streams before the answer so that clients can show a " +
        "thinking block. Now the answer.",
    )
    : [];
  return { reasoning, content: demoTokens(text), finish: "stop" };
}

/** Plans the answer to a raw text completion (`/completions`). */
export function planCompletionAnswer(prompt: unknown, model: string): DemoAnswer {
  const said = Array.isArray(prompt) ? prompt.map(String).join(" ") : String(prompt ?? "");
  return { reasoning: [], content: demoTokens(` ${demoReply(model, said)}`), finish: "stop" };
}

/** Cuts reasoning and content to `maxTokens` tokens in all, finishing with `length` if cut. */
export function limitTokens(answer: DemoAnswer, maxTokens: unknown): DemoAnswer {
  if (typeof maxTokens !== "number" || answer.toolCall) return answer;
  const total = answer.reasoning.length + answer.content.length;
  if (total <= maxTokens) return answer;
  const reasoning = answer.reasoning.slice(0, maxTokens);
  const content = answer.content.slice(0, Math.max(0, maxTokens - reasoning.length));
  return { reasoning, content, finish: "length" };
}

/** A rough prompt token count (four characters a token), for the usage numbers. */
export function estimateTokens(value: unknown): number {
  return Math.max(1, Math.ceil(JSON.stringify(value ?? "").length / 4));
}

/** A deterministic pseudo-random vector for `text` (FNV-1a seed, xorshift), values in [-1, 1]. */
export function demoEmbedding(text: string, dimensions: number): number[] {
  let state = 0x811c9dc5;
  for (const ch of text) state = Math.imul(state ^ ch.codePointAt(0)!, 0x01000193) >>> 0;
  state ||= 1; // xorshift never leaves 0
  const out: number[] = [];
  for (let i = 0; i < dimensions; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    out.push(Math.round((state / 0xffffffff * 2 - 1) * 1e6) / 1e6);
  }
  return out;
}
