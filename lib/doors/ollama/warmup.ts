/**
 * `ollama pull` of a Chutes model: nothing to download, but the chute may be cold, so the pull
 * asks Chutes to warm it up and reports what happens as Ollama's NDJSON progress lines:
 * `pulling manifest`, `warming up <id> on Chutes.ai: <status>, <log>` per status line Chutes
 * sends, then `success` once the chute is hot, or one `{"error": …}` line saying why not (the
 * warm-up was refused, broke, or the chute is still cold when `warmup_timeout_seconds` ran out).
 * Without `stream`, the answer waits for the same end: `{"status": "success"}` or an error status.
 */
import { jsonResponse, ProxyError } from "../../base/errors.ts";
import type { CoreDeps } from "../../core/deps.ts";
import { WarmupError } from "../../upstream/management.ts";

const encoder = new TextEncoder();
const line = (value: unknown) => encoder.encode(`${JSON.stringify(value)}\n`);

function warmupFailure(upstreamId: string, err: unknown): string {
  if (!(err instanceof WarmupError)) throw err;
  if (err.stillCold) return err.message;
  const hint = err.status === 402
    ? " (chat requests within your subscription or daily quota may still work)"
    : "";
  return `cannot warm up ${upstreamId} on Chutes.ai: ${err.message}${hint}`;
}

/** Answers a pull of `upstreamId` by following its warm-up. */
export async function pullWithWarmup(
  upstreamId: string,
  stream: boolean,
  signal: AbortSignal,
  deps: CoreDeps,
): Promise<Response> {
  if (!stream) {
    try {
      for await (const _ of deps.warmth.warm(upstreamId, signal)) { /* until hot */ }
    } catch (err) {
      const message = warmupFailure(upstreamId, err);
      throw new ProxyError((err as WarmupError).stillCold ? 504 : 502, message);
    }
    return jsonResponse({ status: "success" });
  }
  const events = deps.warmth.warm(upstreamId, signal);
  let started = false;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue(line({ status: "pulling manifest" }));
        return;
      }
      try {
        const next = await events.next();
        if (next.done) {
          controller.enqueue(line({ status: "success" }));
          controller.close();
          return;
        }
        const { status, log } = next.value;
        const text = status === "hot"
          ? `${upstreamId} is hot on Chutes.ai${log ? `: ${log}` : ""}`
          : `warming up ${upstreamId} on Chutes.ai: ${status}${log ? `, ${log}` : ""}`;
        controller.enqueue(line({ status: text }));
      } catch (err) {
        controller.enqueue(line({ error: warmupFailure(upstreamId, err) }));
        controller.close();
      }
    },
    async cancel() {
      await events.return(undefined);
    },
  }, { highWaterMark: 0 });
  return new Response(body, { headers: { "content-type": "application/x-ndjson" } });
}
