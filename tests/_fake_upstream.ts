/**
 * A fake Chutes server on 127.0.0.1, port 0. It records every request (method, path, headers,
 * parsed JSON body) so tests can assert the exact translated body, serves a model list, and
 * answers completion calls from a per-path queue of scripted replies (or functions that make
 * one from the request): JSON, text, or an SSE stream written piece by piece (optionally with
 * delays, or left hanging). It counts open and cancelled streams so disconnect tests can prove
 * the upstream request was closed. At its root (`origin`, the proxy's `management_base_url`) it
 * also plays Chutes' management API: the account endpoints in any documented shape
 * (`ACCOUNT_SHAPES`, `useAccount`), the public utilisation list, and warm-up streams (queued per
 * path, else one `hot` line). The token probe (a chat request for `PROBE_MODEL`, sent by
 * `--check` and at start-up) is answered from `probeReply` — by default Chutes' 404 for an
 * unknown model, i.e. the token passed — and never takes a queued reply meant for a test's own
 * chat request.
 */
import type { UpstreamModel } from "../lib/upstream/wire.ts";
import { PROBE_MODEL } from "../lib/models/token_check.ts";

/** One request as the fake upstream saw it. */
export interface Recorded {
  method: string;
  path: string;
  headers: Headers;
  body: Record<string, unknown> | undefined;
}

/** A scripted reply. `pieces` are written as separate network writes, `delayMs` apart. */
export type Reply =
  & (
    | { status?: number; json: unknown; headers?: Record<string, string> }
    | { status?: number; text: string; headers?: Record<string, string> }
    | { pieces: string[]; delayMs?: number; hang?: boolean }
  )
  & {
    /** Milliseconds to wait before answering with headers (a slow first byte). */
    before?: number;
  };

/** A reply made from the request it answers (a fake model that reads its prompt). */
export type ReplyFor = (request: Recorded) => Reply;

/** `data: <json>\n\n` for each object, then `data: [DONE]\n\n` unless `done` is false. */
export function sse(events: unknown[], options: { done?: boolean } = {}): string[] {
  const out = events.map((e) => `data: ${typeof e === "string" ? e : JSON.stringify(e)}\n\n`);
  if (options.done !== false) out.push("data: [DONE]\n\n");
  return out;
}

/** A chat.completion.chunk with the given delta and finish reason. */
export function chunk(
  delta: Record<string, unknown>,
  finish: string | null = null,
): Record<string, unknown> {
  return {
    id: "chatcmpl-1",
    object: "chat.completion.chunk",
    created: 1750000000,
    model: "up",
    choices: [{ index: 0, delta, finish_reason: finish }],
  };
}

/** The usage-only chunk Chutes sends after the finish chunk. */
export function usage(prompt: number, completion: number): Record<string, unknown> {
  return {
    id: "chatcmpl-1",
    object: "chat.completion.chunk",
    created: 1750000000,
    model: "up",
    choices: [],
    usage: {
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
    },
  };
}

/** A plain streamed answer: text pieces, finish `stop`, usage 10/number of pieces. */
export function textStream(pieces: string[], finish = "stop"): string[] {
  return sse([
    chunk({ role: "assistant", content: "" }),
    ...pieces.map((p) => chunk({ content: p })),
    chunk({}, finish),
    usage(10, pieces.length),
  ]);
}

/** Models served on `GET /v1/models` unless a test replaces them. */
export const FAKE_MODELS: UpstreamModel[] = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/models.json", import.meta.url)),
).data;

/** The account endpoints' bodies in each documented shape (tests/fixtures/chutes_account.json). */
export const ACCOUNT_SHAPES: {
  subscription_usage: Record<string, unknown>;
  quotas: Record<string, unknown>;
  quota_usage: Record<string, unknown>;
  me: Record<string, unknown>;
} = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/chutes_account.json", import.meta.url)),
);

/** The utilisation list served on `GET /chutes/utilization` unless a test replaces it. */
export const FAKE_UTILIZATION: unknown[] = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/utilization.json", import.meta.url)),
);

/** Where each account endpoint lives on the management API. */
export const ACCOUNT_PATHS = {
  subscription_usage: "/users/me/subscription_usage",
  quotas: "/users/me/quotas",
  quota_usage: "/users/me/quota_usage/%2A",
  me: "/users/me",
} as const;

/** A warm-up SSE stream: one `data:` line per status, as `GET /chutes/warmup/{name}` sends them. */
export function warmupStream(statuses: ["hot" | "warming" | "cold", string][]): string[] {
  return statuses.map(([status, log]) => `data: ${JSON.stringify({ status, log })}\n\n`);
}

function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

/** The fake upstream server. */
export class FakeUpstream {
  readonly requests: Recorded[] = [];
  models: UpstreamModel[] = structuredClone(FAKE_MODELS);
  /** Replaces the `/v1/models` answer (e.g. a 500) when set. */
  modelsReply: Reply | undefined;
  /** The answer to every token probe (e.g. a 401 for a refused token). */
  probeReply: Reply = { status: 404, json: { detail: `model not found: ${PROBE_MODEL}` } };
  /** The management API's account answers by path (see `ACCOUNT_PATHS`); `useAccount` sets them. */
  account = new Map<string, Reply>();
  /** The `GET /chutes/utilization` answer. */
  utilization: Reply = { json: structuredClone(FAKE_UTILIZATION) };
  openStreams = 0;
  cancelledStreams = 0;
  readonly #queues = new Map<string, (Reply | ReplyFor)[]>();
  readonly #server: Deno.HttpServer<Deno.NetAddr>;

  /** Serves each account endpoint in the named shape of `ACCOUNT_SHAPES` (live shapes by default). */
  useAccount(shapes: Partial<Record<keyof typeof ACCOUNT_PATHS, string>> = {}): void {
    const chosen = {
      subscription_usage: "live",
      quotas: "list",
      quota_usage: "counted",
      me: "balance",
      ...shapes,
    };
    for (const [endpoint, shape] of Object.entries(chosen)) {
      const bodies = ACCOUNT_SHAPES[endpoint as keyof typeof ACCOUNT_PATHS];
      if (!(shape in bodies)) throw new Error(`no ${endpoint} shape ${shape}`);
      this.account.set(ACCOUNT_PATHS[endpoint as keyof typeof ACCOUNT_PATHS], {
        json: bodies[shape],
      });
    }
  }

  readonly #scheme: string;

  private constructor(tls?: { cert: string; key: string }) {
    this.#scheme = tls ? "https" : "http";
    this.useAccount();
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {}, ...tls },
      (r) => this.#handle(r),
    );
  }

  /** Starts the fake upstream; with `tls` (PEM certificate chain and key) it speaks HTTPS. */
  static start(options: { tls?: { cert: string; key: string } } = {}): FakeUpstream {
    return new FakeUpstream(options.tls);
  }

  /** The server's root, as the proxy's `management_base_url`. */
  get origin(): string {
    return `${this.#scheme}://127.0.0.1:${this.#server.addr.port}`;
  }

  /** Base URL including `/v1`, as the proxy's `base_url`. */
  get url(): string {
    return `${this.#scheme}://127.0.0.1:${this.#server.addr.port}/v1`;
  }

  /** Queues a reply (or a function of the request) for the next request to `path`. */
  enqueue(path: string, reply: Reply | ReplyFor): void {
    const queue = this.#queues.get(path) ?? [];
    queue.push(reply);
    this.#queues.set(path, queue);
  }

  /** Requests made to `path`, in order. */
  calls(path: string): Recorded[] {
    return this.requests.filter((r) => r.path === path);
  }

  async close(): Promise<void> {
    await this.#server.shutdown();
  }

  /** For `await using upstream = FakeUpstream.start()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #handle(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    const text = await request.text();
    let body: Record<string, unknown> | undefined;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = { _unparsed: text };
    }
    const recorded = { method: request.method, path, headers: request.headers, body };
    this.requests.push(recorded);
    if (path === "/v1/models" && request.method === "GET") {
      return this.#reply(this.modelsReply ?? { json: { object: "list", data: this.models } });
    }
    if (body?.model === PROBE_MODEL) return this.#reply(this.probeReply);
    const queued = this.#queues.get(path)?.shift();
    const reply = (typeof queued === "function" ? queued(recorded) : queued) ??
      this.#management(path, request.method);
    if (!reply) {
      return Response.json({ detail: `fake upstream: nothing queued for ${path}` }, {
        status: 418,
      });
    }
    if (reply.before) await abortableDelay(reply.before, request.signal);
    return this.#reply(reply);
  }

  #management(path: string, method: string): Reply | undefined {
    if (method !== "GET") return undefined;
    if (path === "/chutes/utilization") return this.utilization;
    if (path.startsWith("/chutes/warmup/")) {
      return { pieces: warmupStream([["hot", "chute is hot, 1 instances available"]]) };
    }
    return this.account.get(path);
  }

  #reply(reply: Reply): Response {
    if ("json" in reply) {
      return Response.json(reply.json, {
        status: reply.status ?? 200,
        headers: reply.headers ?? {},
      });
    }
    if ("text" in reply) {
      return new Response(reply.text, {
        status: reply.status ?? 200,
        headers: reply.headers ?? {},
      });
    }
    return new Response(this.#stream(reply), { headers: { "content-type": "text/event-stream" } });
  }

  #stream(
    reply: { pieces: string[]; delayMs?: number; hang?: boolean },
  ): ReadableStream<Uint8Array> {
    const encoder = new TextEncoder();
    const pieces = [...reply.pieces];
    let timer: ReturnType<typeof setTimeout> | undefined;
    let open = true;
    const finish = () => {
      if (open) this.openStreams--;
      open = false;
    };
    this.openStreams++;
    return new ReadableStream<Uint8Array>({
      pull: (controller) =>
        new Promise<void>((resolve) => {
          const piece = pieces.shift();
          if (piece === undefined) {
            if (!reply.hang) {
              finish();
              controller.close();
            }
            return; // hanging: never resolves, like a stalled upstream
          }
          timer = setTimeout(() => {
            controller.enqueue(encoder.encode(piece));
            resolve();
          }, reply.delayMs ?? 0);
        }),
      cancel: () => {
        clearTimeout(timer);
        this.cancelledStreams++;
        finish();
      },
    }, { highWaterMark: 0 });
  }
}
