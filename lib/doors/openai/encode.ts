/**
 * Answer events → OpenAI's chat and text completion shapes. Streamed: a role chunk first, then
 * one `chat.completion.chunk` (or `text_completion`) per delta with `content` and
 * `reasoning_content` (OpenCode and others read the latter), tool calls streamed as OpenAI does
 * (a first fragment with id, type and name, then argument fragments), a finish chunk, the usage
 * chunk only when the client asked for it (`stream_options.include_usage`: clients that index
 * `choices[0]` on every chunk break on the usage-only chunk), and `data: [DONE]`. A failure
 * after the first byte is one `data: {"error": {...}}` event. The model is the one the client
 * asked for, as Ollama echoes it. `OpenAICollector` builds the non-streamed object.
 */
import type {
  AnswerEncoder,
  AnswerEvents,
  AnswerSummary,
  TokenLogprob,
  ToolCall,
} from "../../core/events.ts";

/** Chat completions or legacy text completions. */
export type OpenAIKind = "chat" | "text";

/** What the encoder needs to know about the request. */
export interface OpenAIAnswerOptions {
  kind: OpenAIKind;
  model: string;
  /** Send the usage-only chunk before `[DONE]`. */
  includeUsage: boolean;
  /** Unix seconds for `created`. */
  created: number;
}

function answerId(kind: OpenAIKind): string {
  return `${kind === "chat" ? "chatcmpl" : "cmpl"}-${crypto.randomUUID().replace(/-/g, "")}`;
}

function usageOf(s: AnswerSummary) {
  return {
    prompt_tokens: s.promptTokens,
    completion_tokens: s.completionTokens,
    total_tokens: s.promptTokens + s.completionTokens,
  };
}

/** The streaming encoder. */
export class OpenAIEncoder implements AnswerEncoder {
  readonly #o: OpenAIAnswerOptions;
  readonly #write: (frame: string) => void;
  readonly #id: string;
  readonly #object: string;

  constructor(options: OpenAIAnswerOptions, write: (frame: string) => void) {
    this.#o = options;
    this.#write = write;
    this.#id = answerId(options.kind);
    this.#object = options.kind === "chat" ? "chat.completion.chunk" : "text_completion";
  }

  #send(choice: Record<string, unknown>): void {
    const chunk = {
      id: this.#id,
      object: this.#object,
      created: this.#o.created,
      model: this.#o.model,
      choices: [{ index: 0, ...choice }],
    };
    this.#write(`data: ${JSON.stringify(chunk)}\n\n`);
  }

  start(): void {
    if (this.#o.kind === "chat") {
      this.#send({ delta: { role: "assistant", content: "" }, finish_reason: null });
    }
  }

  delta(text: string, thinking: string, logprobs: readonly TokenLogprob[] | undefined): void {
    const lp = logprobs ? { content: logprobs } : null;
    if (this.#o.kind === "text") {
      if (text !== "" || logprobs) this.#send({ text, logprobs: lp, finish_reason: null });
      return;
    }
    const delta: Record<string, unknown> = {};
    if (text !== "") delta.content = text;
    if (thinking !== "") delta.reasoning_content = thinking;
    this.#send({ delta, ...(logprobs ? { logprobs: lp } : {}), finish_reason: null });
  }

  toolCallStart(index: number, id: string, name: string): void {
    if (this.#o.kind !== "chat") return;
    const call = { index, id, type: "function", function: { name, arguments: "" } };
    this.#send({ delta: { tool_calls: [call] }, finish_reason: null });
  }

  toolCallDelta(index: number, args: string): void {
    if (this.#o.kind !== "chat") return;
    this.#send({
      delta: { tool_calls: [{ index, function: { arguments: args } }] },
      finish_reason: null,
    });
  }

  toolCallEnd(): void {}

  end(s: AnswerSummary): void {
    if (this.#o.kind === "chat") this.#send({ delta: {}, finish_reason: s.finishReason });
    else this.#send({ text: "", logprobs: null, finish_reason: s.finishReason });
    if (this.#o.includeUsage) {
      const chunk = {
        id: this.#id,
        object: this.#object,
        created: this.#o.created,
        model: this.#o.model,
        choices: [],
        usage: usageOf(s),
      };
      this.#write(`data: ${JSON.stringify(chunk)}\n\n`);
    }
    this.#write("data: [DONE]\n\n");
  }

  error(message: string): void {
    const error = { message, type: "api_error", param: null, code: null };
    this.#write(`data: ${JSON.stringify({ error })}\n\n`);
  }
}

/** Gathers a `stream: false` answer into `chat.completion` or `text_completion`. */
export class OpenAICollector implements AnswerEvents {
  readonly #o: OpenAIAnswerOptions;
  #text = "";
  #thinking = "";
  readonly #calls: ToolCall[] = [];
  readonly #logprobs: TokenLogprob[] = [];
  #summary: AnswerSummary | undefined;

  constructor(options: OpenAIAnswerOptions) {
    this.#o = options;
  }

  delta(text: string, thinking: string, logprobs: readonly TokenLogprob[] | undefined): void {
    this.#text += text;
    this.#thinking += thinking;
    if (logprobs) this.#logprobs.push(...logprobs);
  }
  toolCallStart(): void {}
  toolCallDelta(): void {}
  toolCallEnd(call: ToolCall): void {
    this.#calls.push(call);
  }
  end(summary: AnswerSummary): void {
    this.#summary = summary;
  }
  error(): void {}

  /** The whole answer (after `end`). */
  result(): Record<string, unknown> {
    const s = this.#summary!;
    const logprobs = this.#logprobs.length > 0 ? { content: this.#logprobs } : null;
    let choice: Record<string, unknown>;
    if (this.#o.kind === "text") {
      choice = { index: 0, text: this.#text, logprobs, finish_reason: s.finishReason };
    } else {
      const message: Record<string, unknown> = {
        role: "assistant",
        content: this.#text === "" && this.#calls.length > 0 ? null : this.#text,
      };
      if (this.#thinking !== "") message.reasoning_content = this.#thinking;
      if (this.#calls.length > 0) {
        message.tool_calls = this.#calls.map((c) => ({
          id: c.id,
          type: "function",
          function: { name: c.name, arguments: c.arguments },
        }));
      }
      choice = { index: 0, message, logprobs, finish_reason: s.finishReason };
    }
    return {
      id: answerId(this.#o.kind),
      object: this.#o.kind === "chat" ? "chat.completion" : "text_completion",
      created: this.#o.created,
      model: this.#o.model,
      choices: [choice],
      usage: usageOf(s),
    };
  }
}
