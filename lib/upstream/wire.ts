/**
 * Upstream (OpenAI-compatible, as Chutes serves it) wire types. Request types describe what we
 * send; response types list only the fields we read, all optional, because upstreams differ
 * (vLLM and SGLang name reasoning `reasoning_content`, others `reasoning`).
 */

/** A message in an upstream chat request. */
export interface OpenAIMessage {
  role: string;
  content: string | OpenAIContentPart[] | null;
  /** An assistant turn's reasoning, sent back as the thinking models expect it. */
  reasoning_content?: string;
  name?: string;
  tool_calls?: OpenAIToolCall[];
  tool_call_id?: string;
}

/** A content part: text or an image URL (data URLs for Ollama images). */
export type OpenAIContentPart =
  | { type: "text"; text: string }
  | { type: "image_url"; image_url: { url: string } }
  | Record<string, unknown>;

/** A complete tool call in a request: arguments are a JSON string. */
export interface OpenAIToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** The upstream chat request body. Sampling fields come from the parameter table. */
export interface OpenAIChatRequest {
  model: string;
  messages: OpenAIMessage[];
  stream: true;
  stream_options: { include_usage: true };
  tools?: unknown[];
  response_format?: Record<string, unknown>;
  reasoning_effort?: string;
  chat_template_kwargs?: Record<string, unknown>;
  [param: string]: unknown;
}

/** A streamed tool-call fragment. */
export interface ToolCallDelta {
  index?: number;
  id?: string;
  function?: { name?: string; arguments?: string };
}

/** A token's log-probability as OpenAI reports it. */
export interface OpenAILogprob {
  token?: string;
  logprob?: number;
  bytes?: number[] | null;
  top_logprobs?: { token?: string; logprob?: number; bytes?: number[] | null }[];
}

/** One streamed chunk (`chat.completion.chunk` or `text_completion`). */
export interface OpenAIChunk {
  model?: string;
  choices?: {
    index?: number;
    delta?: {
      content?: string | null;
      reasoning_content?: string | null;
      reasoning?: string | null;
      tool_calls?: ToolCallDelta[] | null;
    };
    text?: string | null;
    finish_reason?: string | null;
    logprobs?: { content?: OpenAILogprob[] | null } | null;
  }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  error?: unknown;
  detail?: unknown;
  object?: string;
  message?: string;
}

/** An upstream `/v1/models` entry (Chutes enriches vLLM's row with these fields). */
export interface UpstreamModel {
  id: string;
  root?: string;
  created?: number;
  owned_by?: string;
  context_length?: number;
  max_model_len?: number;
  max_output_length?: number;
  input_modalities?: string[];
  output_modalities?: string[];
  supported_features?: string[];
  quantization?: string;
  pricing?: Record<string, unknown>;
}

/** An upstream `/v1/embeddings` answer: only what the proxy reads. */
export interface UpstreamEmbeddings {
  data?: { index?: number; embedding?: unknown }[];
  usage?: { prompt_tokens?: number; total_tokens?: number } | null;
}
