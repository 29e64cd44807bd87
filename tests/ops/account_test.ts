/**
 * The Chutes account on the status page over real HTTP, against the fake upstream playing the
 * management API: the subscription windows with their reset times, the daily quota ("unlimited"
 * too), the balance and whether the token was accepted; every documented shape; polling at most
 * once a minute and only while someone looks; failures shown with their reason while chat keeps
 * working; and a 402 or quota 429 that names the reset time the account data knows.
 */
import assert from "node:assert/strict";
import { ACCOUNT_PATHS, ACCOUNT_SHAPES, FakeUpstream, textStream } from "../_fake_upstream.ts";
import { post, startProxy } from "../_helpers.ts";
import { managementOff } from "../../lib/models/account.ts";

const QWEN = "Qwen/Qwen3-32B-TEE";
const CHAT = "/v1/chat/completions";
const ask = { model: QWEN, messages: [{ role: "user", content: "hi" }], stream: false };

// deno-lint-ignore no-explicit-any
async function uiData(url: string): Promise<Record<string, any>> {
  const res = await fetch(`${url}/ui/data`);
  assert.equal(res.status, 200);
  return await res.json();
}

Deno.test("/ui/data shows the account: 4-hour and monthly windows with resets, daily quota, balance", async () => {
  await using p = startProxy();
  const { account, upstream } = await uiData(p.url);
  assert.equal(upstream.token_valid, true);
  assert.equal(account.disabled, null);
  assert.deepEqual(account.token, { valid: true, problem: null });
  const sub = account.subscription;
  assert.equal(sub.error, null);
  assert.match(sub.fetched_at, /^\d{4}-\d\d-\d\dT/);
  assert.equal(sub.subscribed, true);
  assert.equal(sub.monthly_price, 20);
  assert.deepEqual(
    { ...sub.four_hour, reset_in_seconds: undefined },
    {
      used: 1.2,
      cap: 8.333333333333332,
      remaining: 7.133333333333332,
      uncapped: false,
      reset_at: "2030-04-16T00:00:00.000Z",
      reset_in_seconds: undefined,
    },
  );
  const in4h = Math.round((Date.parse("2030-04-16T00:00:00Z") - Date.now()) / 1000);
  assert.ok(Math.abs(sub.four_hour.reset_in_seconds - in4h) < 5);
  assert.equal(sub.monthly.reset_at, "2030-05-09T12:40:29.000Z");
  assert.equal(account.daily.used, 120);
  assert.equal(account.daily.quota, 5000);
  // Daily quotas are per UTC day: the next reset is the coming 00:00 UTC.
  const midnight = new Date();
  midnight.setUTCHours(24, 0, 0, 0);
  assert.equal(account.daily.reset_at, midnight.toISOString());
  assert.equal(account.balance.usd, 12.3456);
  for (const path of Object.values(ACCOUNT_PATHS)) {
    assert.equal(p.upstream.calls(path).length, 1, path);
    assert.equal(
      p.upstream.calls(path)[0]!.headers.get("authorization"),
      "Bearer " + p.deps.config.api_token,
    );
  }
});

Deno.test("/ui/data reads every documented shape; unknown fields are null, never an error", async () => {
  const shapes = [
    ...Object.keys(ACCOUNT_SHAPES.subscription_usage).map((s) => ({ subscription_usage: s })),
    ...Object.keys(ACCOUNT_SHAPES.quotas).map((s) => ({ quotas: s })),
    ...Object.keys(ACCOUNT_SHAPES.quota_usage).map((s) => ({ quota_usage: s })),
    ...Object.keys(ACCOUNT_SHAPES.me).map((s) => ({ me: s })),
  ];
  for (const shape of shapes) {
    const upstream = FakeUpstream.start();
    upstream.useAccount(shape);
    await using p = startProxy({ upstream });
    const { account } = await uiData(p.url);
    const label = JSON.stringify(shape);
    for (const part of ["subscription", "daily", "balance"]) {
      assert.equal(account[part].error, null, `${label}: ${part}`);
    }
    if ("subscription_usage" in shape) {
      const sub = account.subscription;
      if (shape.subscription_usage === "none") {
        assert.deepEqual([sub.subscribed, sub.four_hour, sub.monthly], [false, null, null]);
      } else {
        assert.equal(sub.subscribed, true, label);
      }
      if (shape.subscription_usage === "custom_uncapped") assert.equal(sub.monthly.uncapped, true);
      if (shape.subscription_usage === "odd") assert.equal(sub.four_hour, null);
    }
    if ("quota_usage" in shape && shape.quota_usage === "unlimited") {
      assert.deepEqual([account.daily.quota, account.daily.reset_at], ["unlimited", null]);
    }
    if ("me" in shape) {
      assert.equal(account.balance.usd, { balance: 12.3456, zero: 0, effective: 3.5 }[shape.me]);
    }
  }
});

Deno.test("the account is polled only while someone looks, and at most once a minute", async () => {
  let now = Date.now();
  await using p = startProxy({ wallNow: () => now });
  const subscriptionCalls = () => p.upstream.calls(ACCOUNT_PATHS.subscription_usage).length;
  p.upstream.enqueue(CHAT, { pieces: textStream(["a"]) });
  await (await post(p, "/api/chat", { ...ask, stream: true })).text();
  assert.equal(subscriptionCalls(), 0, "a chat must not poll the account");
  await uiData(p.url);
  await uiData(p.url);
  now += 59_000;
  await uiData(p.url);
  assert.equal(subscriptionCalls(), 1);
  now += 2_000;
  await uiData(p.url);
  assert.equal(subscriptionCalls(), 2);
});

Deno.test("a failing account endpoint shows why on /ui/data and leaves chat alone", async () => {
  await using p = startProxy();
  p.upstream.account.set(ACCOUNT_PATHS.subscription_usage, {
    status: 500,
    json: { detail: "Internal Server Error" },
  });
  p.upstream.account.set(ACCOUNT_PATHS.me, {
    status: 429,
    text: "<html><head><title>429 Too Many Requests</title></head></html>",
    headers: { "content-type": "text/html" },
  });
  const { account } = await uiData(p.url);
  assert.equal(account.subscription.error, "HTTP 500: Internal Server Error");
  assert.equal(account.subscription.four_hour, null);
  assert.equal(account.balance.error, "HTTP 429");
  assert.equal(account.daily.used, 120);
  p.upstream.enqueue(CHAT, { pieces: textStream(["fine"]) });
  const res = await post(p, "/api/chat", ask);
  assert.equal(res.status, 200);
  assert.equal((await res.json()).message.content, "fine");
  assert.ok(
    p.logs.some((l) => / WARN Chutes account: cannot fetch the balance: HTTP 429$/.test(l)),
  );
});

Deno.test("a token the management API refuses shows as not valid, with the reason", async () => {
  await using p = startProxy();
  for (const path of Object.values(ACCOUNT_PATHS)) {
    p.upstream.account.set(path, { status: 401, json: { detail: "Invalid token." } });
  }
  const { upstream, account } = await uiData(p.url);
  assert.equal(upstream.token_valid, false);
  assert.equal(
    upstream.token_problem,
    "the Chutes management API refused the token (HTTP 401: Invalid token.)",
  );
  assert.equal(account.token.valid, false);
});

Deno.test("a quota 429 and a 402 name the reset time the account data knows", async () => {
  await using p = startProxy({ config: { retry_attempts: 1 } });
  const resetAt = new Date(Date.now() + (2 * 60 + 10) * 60_000 + 30_000).toISOString();
  p.upstream.account.set(ACCOUNT_PATHS.subscription_usage, {
    json: {
      ...ACCOUNT_SHAPES.subscription_usage.live as object,
      four_hour: { usage: 8.33, cap: 8.33, remaining: 0, reset_at: resetAt },
    },
  });
  p.upstream.enqueue(CHAT, { status: 429, json: { detail: "Subscription usage cap exceeded" } });
  const res = await post(p, "/api/chat", ask);
  assert.equal(res.status, 429);
  assert.deepEqual(await res.json(), {
    error: "Subscription usage cap exceeded (Chutes account: the 4-hour subscription cap is " +
      `used up ($8.33 of $8.33); it resets at ${resetAt} (in 2 h 10 min))`,
  });
  // The same for the OpenAI door, in its own error shape.
  p.upstream.enqueue(CHAT, { status: 429, json: { detail: "Subscription usage cap exceeded" } });
  const v1 = await post(p, CHAT, ask);
  assert.match((await v1.json()).error.message, /the 4-hour subscription cap is used up/);
});

Deno.test("a 402 names the used-up daily quota with its reset, and the empty balance", async () => {
  await using p = startProxy({ config: { retry_attempts: 1 } });
  p.upstream.useAccount({ subscription_usage: "none", quota_usage: "exhausted", me: "zero" });
  p.upstream.enqueue(CHAT, { status: 402, json: { detail: { message: "Quota exceeded" } } });
  const res = await post(p, "/api/chat", ask);
  assert.equal(res.status, 402);
  const midnight = new Date();
  midnight.setUTCHours(24, 0, 0, 0);
  const { error } = await res.json();
  assert.ok(
    error.startsWith(
      "Quota exceeded (Chutes account: the daily request quota is used up (200/200); it resets " +
        `at ${midnight.toISOString()} (in `,
    ),
    error,
  );
  // "in 3 h 10 min", "in 18 h" on the hour, or "in 40 min".
  assert.match(error, /\(in (\d+ h|\d+ h \d+ min|\d+ min)\); the balance is \$0\.00\)$/);
  // The access log says why, at WARN.
  assert.ok(
    p.logs.some((l) => / WARN POST \/api\/chat 402 .*\(failed: Quota exceeded \(Chutes/.test(l)),
  );
});

Deno.test("a 429 at capacity gets no account note when no window is used up", async () => {
  await using p = startProxy({ config: { retry_attempts: 1 } });
  p.upstream.enqueue(CHAT, {
    status: 429,
    json: { detail: "Infrastructure is at maximum capacity" },
  });
  const res = await post(p, "/api/chat", ask);
  assert.deepEqual(await res.json(), { error: "Infrastructure is at maximum capacity" });
  // The account was looked at once to find out.
  assert.equal(p.upstream.calls(ACCOUNT_PATHS.subscription_usage).length, 1);
});

Deno.test("the token goes to api.chutes.ai only when the chat upstream is Chutes", async () => {
  assert.equal(
    managementOff({
      base_url: "https://llm.chutes.ai/v1",
      management_base_url: "https://api.chutes.ai",
    }),
    undefined,
  );
  await using p = startProxy({ config: { management_base_url: "https://api.chutes.ai" } });
  const data = await uiData(p.url);
  assert.match(data.account.disabled, /^base_url is not Chutes, so the token is not sent/);
  assert.equal(data.upstream.token_valid, null);
  assert.equal(p.deps.warmth.enabled, false);
  // Set explicitly, the management API is used whatever the chat upstream is (as in every test here).
  assert.equal(
    managementOff({
      base_url: "http://127.0.0.1:8000/v1",
      management_base_url: "http://127.0.0.1:9",
    }),
    undefined,
  );
});
