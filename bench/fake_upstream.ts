/**
 * The benchmark's upstream: an OpenAI-compatible server on 127.0.0.1 that answers every
 * `POST /v1/chat/completions` with a vLLM-shaped stream of `--tokens` content events (one
 * `data: {chat.completion.chunk}` per token), then a finish chunk, a usage chunk with
 * `choices: []` and `data: [DONE]`. With `--delay-ms` above 0 every token is its own network
 * write, `delay` apart, as from a real model; with 0 it streams as fast as the reader pulls
 * (saturation). `GET /v1/models` lists one model shaped like tests/fixtures/models.json.
 * Events are pre-built once, so the upstream spends as little of the shared CPU as possible.
 *
 *   deno run --allow-net=127.0.0.1 bench/fake_upstream.ts --port 0 --tokens 64 --delay-ms 0
 *
 * Prints one JSON line `{"port": <port>}` on stdout once listening; stops on SIGTERM/SIGINT.
 */
import { parseArgs } from "node:util";

/** The model the upstream lists and the load generator asks for. */
export const BENCH_MODEL = "bench/Fake-Model-TEE";

const MODELS = {
  object: "list",
  data: [{
    id: BENCH_MODEL,
    root: BENCH_MODEL,
    object: "model",
    created: 1753500000,
    owned_by: "vllm",
    max_model_len: 32768,
    context_length: 32768,
    max_output_length: 32768,
    input_modalities: ["text"],
    output_modalities: ["text"],
    supported_features: ["json_mode", "tools", "structured_outputs", "reasoning"],
    supported_sampling_parameters: ["temperature", "top_p"],
    quantization: "fp8",
    pricing: { prompt: 0.1, completion: 0.4 },
  }],
};

const encoder = new TextEncoder();

function event(choices: unknown[], extra: Record<string, unknown> = {}): string {
  const chunk = {
    id: "chatcmpl-bench0123456789",
    object: "chat.completion.chunk",
    created: 1750000000,
    model: BENCH_MODEL,
    choices,
    ...extra,
  };
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

/** The events of one answer: role, `tokens` contents, finish, usage, `[DONE]`. */
export function answerEvents(tokens: number): { head: string[]; body: string[]; tail: string[] } {
  const delta = (d: Record<string, unknown>, finish: string | null = null) => ({
    index: 0,
    delta: d,
    logprobs: null,
    finish_reason: finish,
  });
  const body = Array.from({ length: tokens }, (_, i) => event([delta({ content: ` tok${i}` })]));
  return {
    head: [event([delta({ role: "assistant", content: "" })])],
    body,
    tail: [
      event([delta({}, "stop")]),
      event([], {
        usage: { prompt_tokens: 12, completion_tokens: tokens, total_tokens: 12 + tokens },
      }),
      "data: [DONE]\n\n",
    ],
  };
}

/**
 * One answer as a byte stream. The role event and the first token go out at once (prefill
 * done); each later token waits `delayMs`; the finish, usage and `[DONE]` events follow the
 * last token as one write. Pull-driven, so a slow reader is never flooded.
 */
function answerStream(writes: Uint8Array[], delayMs: number): ReadableStream<Uint8Array> {
  let next = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let cancelled = false;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const write = writes[next];
      if (write === undefined) return controller.close();
      // Each stream gets its own copy: a shared buffer may be transferred by the writer.
      const bytes = write.slice();
      const index = next++;
      if (delayMs <= 0 || index <= 1 || index === writes.length - 1) {
        return controller.enqueue(bytes);
      }
      return new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          if (!cancelled) controller.enqueue(bytes);
          resolve();
        }, delayMs);
      });
    },
    cancel() {
      cancelled = true;
      clearTimeout(timer);
    },
  }, { highWaterMark: 0 });
}

/** Starts the upstream; returns the server. */
export function serveFakeUpstream(
  options: { port: number; tokens: number; delayMs: number },
): Deno.HttpServer<Deno.NetAddr> {
  const { head, body, tail } = answerEvents(options.tokens);
  // Write 0: the role event; writes 1..N: one token each; the last write: finish+usage+[DONE].
  const writes = [...head, ...body, tail.join("")].map((s) => encoder.encode(s));
  const modelsJson = JSON.stringify(MODELS);
  return Deno.serve({
    hostname: "127.0.0.1",
    port: options.port,
    onListen: ({ port }) => {
      // deno-lint-ignore no-console
      console.log(JSON.stringify({ port }));
    },
  }, async (request) => {
    const path = new URL(request.url).pathname;
    if (request.method === "GET" && path === "/v1/models") {
      return new Response(modelsJson, { headers: { "content-type": "application/json" } });
    }
    if (request.method === "GET" && path === "/") return new Response("ok");
    if (request.method !== "POST" || path !== "/v1/chat/completions") {
      return Response.json({ detail: `fake upstream: no route ${path}` }, { status: 404 });
    }
    await request.arrayBuffer();
    return new Response(answerStream(writes, options.delayMs), {
      headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
    });
  });
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      port: { type: "string", default: "0" },
      tokens: { type: "string", default: "64" },
      "delay-ms": { type: "string", default: "0" },
    },
  });
  const server = serveFakeUpstream({
    port: Number(values.port),
    tokens: Number(values.tokens),
    delayMs: Number(values["delay-ms"]),
  });
  const stop = () => void server.shutdown();
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
  await server.finished;
}
