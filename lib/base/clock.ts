/**
 * Time sources: `now` (monotonic milliseconds, for durations) and `iso` (wall-clock timestamps
 * for `created_at`). The app passes a `Clock` down; golden tests fix it. And `atMost`, a wait
 * with a limit.
 */

/** Time source: `now` in milliseconds (monotonic), `iso` for `created_at`. Fixed in golden tests. */
export interface Clock {
  now(): number;
  iso(): string;
}

let isoMs = NaN;
let isoText = "";

/** The real clock. `iso` formats a new string only when the millisecond changed. */
export const systemClock: Clock = {
  now: () => performance.now(),
  iso: () => {
    const ms = Date.now();
    if (ms !== isoMs) {
      isoMs = ms;
      isoText = new Date(ms).toISOString();
    }
    return isoText;
  },
};

/** Waits for `work`, but `ms` at most (the work goes on in the background). */
export async function atMost(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([work, new Promise<void>((resolve) => timer = setTimeout(resolve, ms))]);
  clearTimeout(timer);
}
