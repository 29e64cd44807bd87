/**
 * Time sources: `now` (monotonic milliseconds, for durations) and `iso` (wall-clock timestamps
 * for `created_at`). The app passes a `Clock` down; golden tests fix it.
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
