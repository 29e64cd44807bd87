/**
 * Idle-read guard for upstream bodies: bytes pass through untouched, and when nothing arrives
 * for `idleMs` the stage writes one bare JSON error line — the same shape as Chutes' own
 * mid-stream failure — and ends, which cancels the upstream body. Downstream stages already turn
 * a bare error line into the client's final error (an NDJSON `{"error"}` line, or an SSE error
 * event on `/v1`), so a stalled upstream never leaves a client hanging. A healthy stream has no
 * total time limit.
 */

const encoder = new TextEncoder();

/** The message for a stream that went quiet. */
export function stalledMessage(idleMs: number): string {
  return `the upstream sent nothing for ${idleMs / 1000} s; the stream was cut`;
}

/** Passes bytes through; ends with a bare error line after `idleMs` of silence. */
export class IdleTimeoutStream extends TransformStream<Uint8Array, Uint8Array> {
  constructor(idleMs: number) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let ended = false;
    const stop = () => {
      ended = true;
      clearTimeout(timer);
    };
    const arm = (controller: TransformStreamDefaultController<Uint8Array>) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (ended) return;
        stop();
        try {
          const line = JSON.stringify({ error: stalledMessage(idleMs) });
          controller.enqueue(encoder.encode(`\n${line}\n`));
          controller.terminate();
        } catch {
          // The client already went away; nothing to tell.
        }
      }, idleMs);
    };
    super({
      start: (controller) => arm(controller),
      transform: (chunk, controller) => {
        if (ended) return;
        arm(controller);
        controller.enqueue(chunk);
      },
      flush: stop,
      cancel: stop,
    });
  }
}
