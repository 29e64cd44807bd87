/**
 * The Responses door's types: the request once checked (`ResponsesRequest`, its input items and
 * tools in one normal form whatever shorthand the client used), and the output items the door
 * writes, snake_case as on the wire. Input items are also what the `previous_response_id` store
 * keeps, so an earlier answer comes back as the same items a client would replay.
 */

/** A content part of a message or a tool output. */
export type ContentPart =
  | { type: "input_text" | "output_text"; text: string }
  | { type: "input_image"; image_url: string };

/** An input item in normal form. `reasoning` holds the plain thinking text to replay. */
export type InputItem =
  | {
    type: "message";
    role: "user" | "assistant" | "system" | "developer";
    content: string | ContentPart[];
  }
  | { type: "function_call"; call_id: string; name: string; namespace?: string; arguments: string }
  | { type: "function_call_output"; call_id: string; output: string | ContentPart[] }
  | { type: "custom_tool_call"; call_id: string; name: string; namespace?: string; input: string }
  | { type: "custom_tool_call_output"; call_id: string; output: string | ContentPart[] }
  | { type: "reasoning"; text: string };

/** A client tool the model may call: a function (JSON arguments) or a freeform custom tool. */
export interface ToolSpec {
  kind: "function" | "custom";
  name: string;
  /** The `namespace` group the tool came in, when it did. */
  namespace?: string;
  description?: string;
  /** The JSON schema of a function's arguments. */
  parameters?: unknown;
  strict?: boolean;
  /** A custom tool's input format (`{type:"text"}` or a grammar), shown to the model. */
  format?: { type?: string; syntax?: string; definition?: string };
}

/** `tool_choice` after checking. */
export type ToolChoice =
  | "auto"
  | "none"
  | "required"
  | { name: string; namespace?: string }
  | { mode: "auto" | "required"; allowed: { name: string; namespace?: string }[] };

/** A `POST /v1/responses` request after the boundary checks. */
export interface ResponsesRequest {
  model: string;
  stream: boolean;
  instructions: string | undefined;
  input: InputItem[];
  tools: ToolSpec[];
  toolChoice: ToolChoice;
  parallelToolCalls: boolean | undefined;
  maxOutputTokens: number | undefined;
  temperature: number | undefined;
  topP: number | undefined;
  topLogprobs: number | undefined;
  effort: string | undefined;
  summary: string | undefined;
  /** `text.format` of type `json_schema` or `json_object`; absent for plain text. */
  format:
    | { type: "json_object" }
    | { type: "json_schema"; name: string; schema: unknown; strict?: boolean; description?: string }
    | undefined;
  previousResponseId: string | undefined;
  /** False when the client sent `store: false`; only then is the answer not kept. */
  store: boolean;
  /** Fields echoed as they came (`tools`, `metadata`, `text`, `truncation`, …). */
  echo: Record<string, unknown>;
  /** Client fields that were accepted but not forwarded, with why. */
  ignored: string[];
}

/** A part of an answer message. */
export interface OutputTextPart {
  type: "output_text";
  text: string;
  annotations: unknown[];
  logprobs: unknown[];
}

/** An output item, as streamed and as put in `response.output`. */
export type OutputItem =
  | {
    id: string;
    type: "message";
    status: ItemStatus;
    role: "assistant";
    content: OutputTextPart[];
  }
  | {
    id: string;
    type: "reasoning";
    summary: { type: "summary_text"; text: string }[];
    encrypted_content?: string;
    status?: ItemStatus;
  }
  | {
    id: string;
    type: "function_call";
    status: ItemStatus;
    call_id: string;
    name: string;
    namespace?: string;
    arguments: string;
  }
  | {
    id: string;
    type: "custom_tool_call";
    status: ItemStatus;
    call_id: string;
    name: string;
    namespace?: string;
    input: string;
  };

/** An item's status. */
export type ItemStatus = "in_progress" | "completed" | "incomplete";
