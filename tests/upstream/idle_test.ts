/**
 * The lazy idle watch: it cuts a stream that went quiet, never fires on a healthy one however
 * long it runs, stops cleanly, re-arms one timer for the time left instead of one timer per
 * chunk (counted through an injected clock), and does not count a slow client's pauses.
 */
import assert from "node:assert/strict";
import { IdleWatch, stalledMessage } from "../../lib/upstream/idle.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("a watch that is never touched fires once, after the idle time", async () => {
  const started = performance.now();
  let fired = 0;
  let firedAt = 0;
  const watch = new IdleWatch(50, () => {
    fired++;
    firedAt = performance.now();
  });
  await sleep(200);
  watch.stop();
  assert.equal(fired, 1);
  assert.ok(firedAt - started >= 49, `fired after ${firedAt - started} ms`);
});

Deno.test("a stream touched more often than the idle time is never cut, however long", async () => {
  let fired = false;
  const watch = new IdleWatch(60, () => fired = true);
  for (let i = 0; i < 15; i++) {
    await sleep(15);
    watch.touch(); // a chunk arrived …
    watch.waiting(); // … and the next read waits on the upstream at once
  }
  watch.stop();
  assert.equal(fired, false);
});

Deno.test("after stop() the watch never fires", async () => {
  let fired = false;
  const watch = new IdleWatch(20, () => fired = true);
  watch.stop();
  await sleep(60);
  assert.equal(fired, false);
});

Deno.test("touches cost no timers: the one timer re-arms for the time that is left", async () => {
  const realSetTimeout = globalThis.setTimeout;
  let timers = 0;
  globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
    timers++;
    return realSetTimeout(...args);
  }) as typeof setTimeout;
  const pause = (ms: number) => new Promise((r) => realSetTimeout(r, ms));
  try {
    let now = 0; // a clock the test moves
    let fired = false;
    const watch = new IdleWatch(40, () => fired = true, () => now);
    now = 30;
    for (let i = 0; i < 1000; i++) {
      watch.touch();
      watch.waiting();
    }
    assert.equal(timers, 1, "1,000 touches, still the one timer");
    await pause(60); // it fires: quiet for 30 ms of 40, so it re-arms for the 10 ms left
    assert.equal(fired, false);
    assert.equal(timers, 2);
    now = 75; // 45 ms since the last touch
    await pause(40);
    assert.equal(fired, true);
    assert.equal(timers, 2, "no timer after the cut");
    watch.stop();
  } finally {
    globalThis.setTimeout = realSetTimeout;
  }
});

Deno.test("the stall message names the idle time in seconds", () => {
  assert.equal(stalledMessage(200), "the upstream sent nothing for 0.2 s; the stream was cut");
  assert.equal(stalledMessage(120_000), "the upstream sent nothing for 120 s; the stream was cut");
});

Deno.test("IdleWatch: a client that stops reading is not a stalled upstream", async () => {
  let stalled = 0;
  const watch = new IdleWatch(50, () => stalled++);
  watch.waiting();
  watch.touch(); // a chunk arrived; the client has not asked for the next one yet
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(stalled, 0);
  watch.waiting(); // the client asks again and the upstream stays silent
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(stalled, 1);
  watch.stop();
});
