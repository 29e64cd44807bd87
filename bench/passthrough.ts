/**
 * The floor for any Deno proxy: `Deno.serve` in front, `fetch` to the upstream, and the
 * upstream body handed to the client untouched (no decoding, no conversion). Whatever the real
 * proxy costs above this is the price of its own work. Deno hands an untouched fetch body to
 * the response in Rust, so no chunk ever enters JavaScript here.
 *
 * With `--js` every chunk goes through JavaScript, as in any proxy that converts the stream:
 * the body is read with a BYOB reader into one reused 16 KiB buffer (a default reader gets a
 * fresh 64 KiB ArrayBuffer per chunk), each read is copied out and enqueued by a single
 * pull-driven `ReadableStream`. That is the floor for a converter.
 *
 *   deno run --allow-net=127.0.0.1 bench/passthrough.ts --port 0 --upstream http://127.0.0.1:8000
 *
 * `POST /v1/chat/completions` is forwarded with its body; `GET /` answers `ok` (readiness).
 * Prints one JSON line `{"port": <port>}` on stdout once listening; stops on SIGTERM/SIGINT.
 */
import { parseArgs } from "node:util";

/** Copies `body` chunk by chunk through JavaScript, reading into one reused buffer. */
export function throughJavaScript(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = body.getReader({ mode: "byob" });
  let buffer = new ArrayBuffer(16 * 1024);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await reader.read(new Uint8Array(buffer));
      if (done || !value) return controller.close();
      controller.enqueue(value.slice());
      buffer = value.buffer as ArrayBuffer;
    },
    cancel: (reason) => reader.cancel(reason),
  }, { highWaterMark: 0 });
}

/** Starts the pass-through in front of `upstream` (an origin, no path). */
export function servePassThrough(
  options: { port: number; upstream: string; js?: boolean },
): Deno.HttpServer<Deno.NetAddr> {
  const target = `${options.upstream}/v1/chat/completions`;
  return Deno.serve({
    hostname: "127.0.0.1",
    port: options.port,
    onListen: ({ port }) => {
      // deno-lint-ignore no-console
      console.log(JSON.stringify({ port }));
    },
  }, async (request) => {
    if (request.method === "GET") return new Response("ok");
    const res = await fetch(target, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: await request.text(),
      signal: request.signal,
    });
    const body = options.js && res.body ? throughJavaScript(res.body) : res.body;
    return new Response(body, {
      status: res.status,
      headers: { "content-type": res.headers.get("content-type") ?? "text/event-stream" },
    });
  });
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      port: { type: "string", default: "0" },
      upstream: { type: "string" },
      js: { type: "boolean", default: false },
    },
  });
  if (!values.upstream) throw new Error("--upstream <origin> is required");
  const server = servePassThrough({
    port: Number(values.port),
    upstream: values.upstream,
    js: values.js,
  });
  const stop = () => void server.shutdown();
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
  await server.finished;
}
