/**
 * The demo upstream behind `--demo`: an in-process `fetch` that plays an OpenAI-compatible API at
 * `DEMO_BASE_URL` (a `.invalid` host, so it is never contacted: this function answers instead),
 * letting a newcomer point Open WebUI or the `ollama` client at the proxy before having a Chutes
 * token. It lists a few clearly labelled demo models and answers `/chat/completions`,
 * `/completions` and `/embeddings` with the canned replies of lib/demo/answers.ts, streamed as
 * real OpenAI SSE (role chunk, one event per token a short pause apart so streaming is visible,
 * finish chunk, usage chunk, `[DONE]`) or as one JSON object when `stream` is false. Everything
 * in front of it — translation, streams, catalogue, logs, metrics — is the real proxy.
 */
import {
  type DemoAnswer,
  demoEmbedding,
  estimateTokens,
  limitTokens,
  planChatAnswer,
  planCompletionAnswer,
} from "./answers.ts";
import { DEMO_BASE_URL } from "../config/config.ts";
import type { UpstreamModel } from "../upstream/wire.ts";

/** A fixed listing date (2026-01-01), so the demo catalogue never changes. */
const LISTED = 1767225600;

const demoModel = (id: string, context: number, features: string[], inputs = ["text"]) => ({
  id,
  root: id,
  created: LISTED,
  owned_by: "ollama-chutes-proxy demo",
  context_length: context,
  max_model_len: context,
  max_output_length: 8192,
  input_modalities: inputs,
  output_modalities: ["text"],
  supported_features: features,
  quantization: "bf16",
  pricing: { prompt: 0, completion: 0 },
});

/** The models the demo upstream lists, in Chutes' `/v1/models` shape. */
export const DEMO_MODELS: readonly UpstreamModel[] = [
  demoModel("demo/chat", 32768, ["json_mode", "structured_outputs"]),
  demoModel("demo/tools", 65536, ["json_mode", "structured_outputs", "tools"]),
  demoModel("demo/thinker", 131072, ["json_mode", "reasoning"]),
  demoModel("demo/vision", 32768, ["json_mode"], ["text", "image"]),
];

/** Options of the demo upstream. */
export interface DemoOptions {
  /** Pause between streamed tokens, in milliseconds (default 20). */
  tokenDelayMs?: number;
}

type Body = Record<string, unknown>;

/** What every chunk of one answer shares. */
interface Wire {
  id: string;
  object: string;
  created: number;
  model: string;
}

const detail = (status: number, message: string) => Response.json({ detail: message }, { status });

/** Creates the demo upstream's `fetch`. */
export function createDemoFetch(options: DemoOptions = {}): typeof fetch {
  const delayMs = options.tokenDelayMs ?? 20;
  let served = 0;
  return (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    if (request.signal.aborted) return Promise.reject(request.signal.reason);
    if (!request.url.startsWith(`${DEMO_BASE_URL}/`)) {
      return Promise.reject(
        new TypeError(`the demo upstream answers only ${DEMO_BASE_URL}, not ${request.url}`),
      );
    }
    const path = request.url.slice(DEMO_BASE_URL.length).replace(/[?#].*$/, "");
    return route(path, request, delayMs, `demo${++served}`);
  };
}

/** The demo upstream with its default pace, as `main.ts --demo` uses it. */
export const demoFetch: typeof fetch = createDemoFetch();

async function route(
  path: string,
  request: Request,
  delayMs: number,
  id: string,
): Promise<Response> {
  if (path === "/models" && request.method === "GET") {
    return Response.json({
      object: "list",
      data: DEMO_MODELS.map((m) => ({ object: "model", ...m })),
    });
  }
  if (
    request.method !== "POST" ||
    !["/chat/completions", "/completions", "/embeddings"].includes(path)
  ) {
    return detail(404, "Not Found");
  }
  const body = await request.json().catch(() => undefined) as Body | undefined;
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    return detail(400, "Invalid request JSON");
  }
  if (path === "/embeddings") return embeddings(body);
  const model = String(body.model ?? "");
  if (!DEMO_MODELS.some((m) => m.id === model)) return detail(404, `model not found: ${model}`);
  const chat = path === "/chat/completions";
  const answer = limitTokens(
    chat ? planChatAnswer(body, model) : planCompletionAnswer(body.prompt, model),
    body.max_tokens,
  );
  const wire: Wire = {
    id: `${chat ? "chatcmpl" : "cmpl"}-${id}`,
    object: chat ? "chat.completion" : "text_completion",
    created: Math.floor(Date.now() / 1000),
    model,
  };
  const meta = {
    promptTokens: estimateTokens(chat ? body.messages : body.prompt),
    callId: `call_${id}`,
  };
  if (body.stream !== true) {
    return Response.json(chat ? chatJson(answer, wire, meta) : textJson(answer, wire, meta));
  }
  const events = chat ? chatEvents(answer, wire, meta) : textEvents(answer, wire, meta);
  return new Response(sseBody(events, delayMs, request.signal), {
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" },
  });
}

function usageOf(promptTokens: number, completionTokens: number) {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}

/** Tool-call arguments in pieces of a few characters, as real upstreams stream them. */
function argumentPieces(args: string): string[] {
  const chars = Array.from(args);
  const pieces: string[] = [];
  for (let i = 0; i < chars.length; i += 6) pieces.push(chars.slice(i, i + 6).join(""));
  return pieces;
}

/** Per-answer facts beside the text: the prompt's token estimate and the tool call's id. */
interface AnswerMeta {
  promptTokens: number;
  callId: string;
}

function chatEvents(answer: DemoAnswer, wire: Wire, meta: AnswerMeta): unknown[] {
  const chunk = (delta: Body, finish: string | null = null) => ({
    ...wire,
    object: "chat.completion.chunk",
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  });
  const events = [chunk({ role: "assistant", content: "" })];
  for (const token of answer.reasoning) events.push(chunk({ reasoning_content: token }));
  for (const token of answer.content) events.push(chunk({ content: token }));
  let generated = answer.reasoning.length + answer.content.length;
  if (answer.toolCall) {
    const { name, arguments: args } = answer.toolCall;
    const head = { index: 0, id: meta.callId, type: "function", function: { name, arguments: "" } };
    events.push(chunk({ tool_calls: [head] }));
    const pieces = argumentPieces(args);
    for (const piece of pieces) {
      events.push(chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] }));
    }
    generated += pieces.length + 1;
  }
  events.push(chunk({}, answer.finish));
  return [...events, {
    ...wire,
    object: "chat.completion.chunk",
    choices: [],
    usage: usageOf(meta.promptTokens, generated),
  }];
}

function chatJson(answer: DemoAnswer, wire: Wire, meta: AnswerMeta): unknown {
  const call = answer.toolCall;
  const message: Body = { role: "assistant", content: call ? null : answer.content.join("") };
  if (answer.reasoning.length > 0) message.reasoning_content = answer.reasoning.join("");
  if (call) message.tool_calls = [{ id: meta.callId, type: "function", function: call }];
  const generated = answer.reasoning.length + answer.content.length +
    (call ? argumentPieces(call.arguments).length + 1 : 0);
  return {
    ...wire,
    choices: [{ index: 0, message, logprobs: null, finish_reason: answer.finish }],
    usage: usageOf(meta.promptTokens, generated),
  };
}

function textEvents(answer: DemoAnswer, wire: Wire, meta: AnswerMeta): unknown[] {
  const chunk = (text: string, finish: string | null = null) => ({
    ...wire,
    choices: [{ index: 0, text, logprobs: null, finish_reason: finish }],
  });
  return [
    ...answer.content.map((token) => chunk(token)),
    chunk("", answer.finish),
    { ...wire, choices: [], usage: usageOf(meta.promptTokens, answer.content.length) },
  ];
}

function textJson(answer: DemoAnswer, wire: Wire, meta: AnswerMeta): unknown {
  return {
    ...wire,
    choices: [{
      index: 0,
      text: answer.content.join(""),
      logprobs: null,
      finish_reason: answer.finish,
    }],
    usage: usageOf(meta.promptTokens, answer.content.length),
  };
}

function embeddings(body: Body): Response {
  // Any `demo/…` name embeds; any other is unknown here, so `pull` of it is an error.
  const model = String(body.model ?? "");
  if (!model.startsWith("demo/")) return detail(404, `model not found: ${model}`);
  const input = typeof body.input === "string" ? [body.input] : body.input;
  if (!Array.isArray(input) || !input.every((s) => typeof s === "string")) {
    return detail(400, "input must be a string or an array of strings");
  }
  const wanted = body.dimensions;
  const dimensions = typeof wanted === "number" && wanted > 0 ? Math.min(wanted, 4096) : 384;
  const tokens = estimateTokens(input);
  return Response.json({
    object: "list",
    model: body.model,
    data: input.map((text, index) => ({
      object: "embedding",
      index,
      embedding: demoEmbedding(text, dimensions),
    })),
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}

/** `data: <json>` events, then `data: [DONE]`, each a separate write `delayMs` after the last. */
function sseBody(
  events: unknown[],
  delayMs: number,
  signal: AbortSignal,
): ReadableStream<Uint8Array> {
  const lines = [...events.map((e) => `data: ${JSON.stringify(e)}\n\n`), "data: [DONE]\n\n"];
  const encoder = new TextEncoder();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let first = true;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        try {
          controller.error(signal.reason);
        } catch {
          // already closed
        }
      }, { once: true });
    },
    pull(controller) {
      const line = lines.shift();
      if (line === undefined) {
        controller.close();
        return;
      }
      const wait = first ? 0 : delayMs;
      first = false;
      return new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          controller.enqueue(encoder.encode(line));
          resolve();
        }, wait);
      });
    },
    cancel() {
      clearTimeout(timer);
    },
  }, { highWaterMark: 0 });
}
