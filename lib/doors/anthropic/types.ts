/**
 * Anthropic Messages wire types (snake_case, as on the wire): the checked request the door's
 * parser produces from an untrusted body, the content blocks it keeps, and the message object of
 * a `stream: false` answer. Blocks the upstream chat API cannot carry (`redacted_thinking`,
 * `document`, web-search history, unknown types) are kept only as their type name, so the
 * translation can say what it dropped.
 */

/** An image's source: inline base64 with its media type, or a URL the upstream fetches. */
export type ImageSource =
  | { type: "base64"; media_type: string; data: string }
  | { type: "url"; url: string };

/** A text or image block, the kinds a `tool_result` may hold. */
export type TextOrImage =
  | { type: "text"; text: string }
  | { type: "image"; source: ImageSource };

/** A checked content block of a request message. */
export type ContentBlock =
  | TextOrImage
  | { type: "tool_use"; id: string; name: string; input: unknown }
  | {
    type: "tool_result";
    tool_use_id: string;
    content: TextOrImage[];
    is_error: boolean;
  }
  | { type: "thinking"; thinking: string }
  /** A block with no upstream equivalent; `kind` is its wire `type`. */
  | { type: "dropped"; kind: string };

/** A checked message; `system` is Claude Code's mid-conversation system entry (≥ 2.1.154). */
export interface MessageParam {
  role: "user" | "assistant" | "system";
  content: ContentBlock[];
}

/** A client tool as declared (`type` absent or `custom`). */
export interface ToolParam {
  name: string;
  description?: string;
  input_schema: Record<string, unknown>;
}

/** `tool_choice`, as Anthropic defines it. */
export interface ToolChoice {
  type: "auto" | "any" | "tool" | "none";
  name?: string;
  disable_parallel_tool_use?: boolean;
}

/** `thinking.type`; `budget_tokens` has no upstream equivalent and is not kept. */
export type ThinkingType = "enabled" | "disabled" | "adaptive";

/** A checked `POST /v1/messages` (or `count_tokens`) request. */
export interface MessagesRequest {
  model: string;
  /** 0 only for `count_tokens`, which does not require it. */
  max_tokens: number;
  stream: boolean;
  /** The texts of `system` (a string or text blocks), in order. */
  system: string[];
  messages: MessageParam[];
  tools: ToolParam[];
  /** Anthropic server tools declared (`web_search_20250305`, `bash_20250124`, …), by index. */
  server_tools: { index: number; type: string }[];
  tool_choice?: ToolChoice;
  thinking?: ThinkingType;
  /** `output_config.effort`, trimmed and lower-cased. */
  effort?: string;
  /** `output_config.format` (or the beta `output_format`): a JSON schema the answer must follow. */
  json_schema?: Record<string, unknown>;
  stop_sequences?: string[];
  temperature?: number;
  top_p?: number;
  top_k?: number;
}

/** A content block of an answer. */
export type AnswerBlock =
  | { type: "thinking"; thinking: string; signature: string }
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: unknown };

/** Why the answer ended, in Anthropic's words. */
export type StopReason = "end_turn" | "max_tokens" | "stop_sequence" | "tool_use" | "refusal";

/** The message object of a `stream: false` answer. */
export interface MessageObject {
  id: string;
  type: "message";
  role: "assistant";
  model: string;
  content: AnswerBlock[];
  stop_reason: StopReason;
  stop_sequence: string | null;
  usage: { input_tokens: number; output_tokens: number };
}
