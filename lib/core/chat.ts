/**
 * The one chat path under every door. A door parses its request, translates it into an upstream
 * chat-completions body (`ChatPlan`), and hands it here: `openChat` resolves the model (aliases,
 * pools), checks its capabilities, applies the policy (default system prompt, history limit,
 * context guard), clamps `max_tokens` to the model's output limit, and posts with retries and
 * fallbacks — every failure before the first byte is a `ProxyError` the router answers in the
 * door's shape. The answer is then either streamed through the door's encoder
 * (`streamAnswer`: one frame per write, keep-alive pings while the first token is pending, the
 * error frame after a failure) or gathered by the door's collector (`collectAnswer`).
 * The request's facts (door, model, tokens, timing, failure) reach the access log, metrics and
 * the status page through the request context.
 */
import type { RequestContext } from "./context.ts";
import type { CoreDeps } from "./deps.ts";
import type { AnswerEncoder, AnswerEvents } from "./events.ts";

/** The client protocols, as they are labelled in logs, metrics and the status page. */
export type DoorName = "ollama" | "openai" | "anthropic" | "responses";

/** What a door asks the core to run. */
export interface ChatPlan {
  door: DoorName;
  /** The model name exactly as the client sent it (echoed back unless a fallback answered). */
  model: string;
  path: "/chat/completions" | "/completions";
  /**
   * The upstream body without `model`, `stream` and `stream_options` (the core sets them):
   * OpenAI chat `messages` (an assistant turn's reasoning in `reasoning_content`, never a content
   * part), `tools`, `tool_choice`, sampling fields, `max_tokens`, `response_format`,
   * `chat_template_kwargs`/`reasoning_effort` for thinking. For `/completions`, `prompt`.
   */
  body: Record<string, unknown>;
  /** Client fields that were not forwarded, with why; logged and sent as `X-Proxy-Ignored-Options`. */
  ignored: string[];
  /** Capabilities the request needs; a model known to lack one is a 400. */
  needs: { tools?: boolean; thinking?: boolean; vision?: boolean };
  /** Thinking asked of a model without it is dropped silently instead of a 400 (Anthropic door). */
  relaxThinking?: boolean;
}

/** An upstream answer whose body has not been read yet. */
export interface ChatAnswer {
  /** The model name to echo: the requested one, or the listed name of the fallback that answered. */
  readonly model: string;
  /** Headers to add to the door's response (`X-Proxy-Fallback`, `X-Proxy-Ignored-Options`). */
  readonly headers: Readonly<Record<string, string>>;
  /** The prompt-token estimate used when the upstream reports no usage. */
  readonly promptEstimate: number;
}

/** Resolves, checks, translates the policy and posts; throws `ProxyError` before the first byte. */
export function openChat(
  _plan: ChatPlan,
  _deps: CoreDeps,
  _ctx: RequestContext,
  _signal: AbortSignal,
): Promise<ChatAnswer> {
  throw new Error("not implemented yet");
}

/** Options of a streamed answer. */
export interface StreamOptions {
  contentType: string;
  /** Keep-alive interval before the first token, in milliseconds (the encoder's `ping`). */
  pingMs?: number;
}

/**
 * The door's streamed response: upstream events → the encoder `makeEncoder` builds around the
 * `write` it is given (one frame per call, one frame per network write).
 */
export function streamAnswer(
  _answer: ChatAnswer,
  _makeEncoder: (write: (frame: string) => void) => AnswerEncoder,
  _options: StreamOptions,
): Response {
  throw new Error("not implemented yet");
}

/** Reads the whole answer into `collector`; an upstream failure is thrown as a 502 `ProxyError`. */
export function collectAnswer(_answer: ChatAnswer, _collector: AnswerEvents): Promise<void> {
  throw new Error("not implemented yet");
}
