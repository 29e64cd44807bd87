/**
 * The guard on every upstream body: bytes pass through untouched, and when nothing arrives for
 * `idleMs`, or when the proxy is shutting down and its grace period is over, the stage writes
 * one bare JSON error line — the same shape as Chutes' own mid-stream failure — and ends, which
 * cancels the upstream body. Downstream stages already turn a bare error line into the client's
 * final error (an NDJSON `{"error"}` line, or an SSE error event on `/v1`), so a stalled upstream
 * never leaves a client hanging and a shutdown never cuts an answer silently. A healthy stream
 * has no total time limit.
 */

const encoder = new TextEncoder();

/** The message for a stream that went quiet. */
export function stalledMessage(idleMs: number): string {
  return `the upstream sent nothing for ${idleMs / 1000} s; the stream was cut`;
}

/** The message for a stream cut by the proxy's shutdown. */
export const SHUTDOWN_MESSAGE = "the proxy is shutting down; the answer was cut";

/** Passes bytes through; ends with a bare error line after `idleMs` of silence or on `shutdown`. */
export class IdleTimeoutStream extends TransformStream<Uint8Array, Uint8Array> {
  constructor(idleMs: number | undefined, shutdown?: AbortSignal) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let ended = false;
    let cut: ((message: string) => void) | undefined;
    const onShutdown = () => cut?.(SHUTDOWN_MESSAGE);
    const stop = () => {
      ended = true;
      clearTimeout(timer);
      shutdown?.removeEventListener("abort", onShutdown);
    };
    const arm = () => {
      clearTimeout(timer);
      if (idleMs) timer = setTimeout(() => cut?.(stalledMessage(idleMs)), idleMs);
    };
    super({
      start: (controller) => {
        cut = (message) => {
          if (ended) return;
          stop();
          try {
            controller.enqueue(encoder.encode(`\n${JSON.stringify({ error: message })}\n`));
            controller.terminate();
          } catch {
            // The client already went away; nothing to tell.
          }
        };
        if (shutdown?.aborted) return cut(SHUTDOWN_MESSAGE);
        shutdown?.addEventListener("abort", onShutdown, { once: true });
        arm();
      },
      transform: (chunk, controller) => {
        if (ended) return;
        arm();
        controller.enqueue(chunk);
      },
      flush: stop,
      cancel: stop,
    });
  }
}
