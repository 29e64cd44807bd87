/**
 * The account readers over every documented shape of the Chutes account endpoints
 * (tests/fixtures/chutes_account.json, agent-doors.md E.4): one case per shape, plus bodies no
 * shape describes (null, a string, an array, fields of the wrong type), which must read as
 * "unknown", never throw.
 */
import assert from "node:assert/strict";
import {
  readBalance,
  readQuotas,
  readQuotaUsage,
  readSubscription,
  type SpendWindow,
  type Subscription,
} from "../../lib/models/account_shapes.ts";
import { ACCOUNT_SHAPES } from "../_fake_upstream.ts";

const sub = ACCOUNT_SHAPES.subscription_usage;
const w = (
  used: number | null,
  cap: number | null,
  remaining: number | null,
  resetAt: string | null = null,
  uncapped = false,
): SpendWindow => ({ used, cap, remaining, resetAt, uncapped });

const CASES: Record<string, Subscription> = {
  live: {
    subscribed: true,
    plan: null,
    monthlyPrice: 20,
    fourHour: w(1.2, 8.333333333333332, 7.133333333333332, "2030-04-16T02:00:00+02:00"),
    monthly: w(55.33878851910001, 100, 44.66121148089999, "2030-05-09T14:40:29+02:00"),
    daily: null,
  },
  four_hour_used_up: {
    subscribed: true,
    plan: null,
    monthlyPrice: 20,
    fourHour: w(8.333333333333332, 8.333333333333332, 0, "2030-04-16T02:00:00+02:00"),
    monthly: w(55.33878851910001, 100, 44.66121148089999, "2030-05-09T14:40:29+02:00"),
    daily: null,
  },
  none: {
    subscribed: false,
    plan: null,
    monthlyPrice: null,
    fourHour: null,
    monthly: null,
    daily: null,
  },
  custom_uncapped: {
    subscribed: true,
    plan: null,
    monthlyPrice: 500,
    fourHour: w(1.5, 40, 38.5, "2030-04-16T04:00:00Z"),
    monthly: w(null, null, null, null, true),
    daily: null,
  },
  named_windows: {
    subscribed: true,
    plan: "Pro",
    monthlyPrice: null,
    fourHour: w(0, 8.3333, 8.3333),
    monthly: w(55.339, 100, 44.661),
    daily: { used: 120, quota: 5000 },
  },
  flat: {
    subscribed: true,
    plan: "Pro",
    monthlyPrice: null,
    fourHour: w(2, 8.3333, 6.3333),
    monthly: w(55.339, 100, 44.661),
    daily: { used: 7, quota: 5000 },
  },
  data_wrapped: {
    subscribed: true,
    plan: "Pro",
    monthlyPrice: null,
    fourHour: w(1.25, 8.3333, 7.0833, "2030-04-16T02:00:00+00:00"),
    monthly: w(10, 100, 90, "2030-05-09T00:00:00+00:00"),
    daily: null,
  },
  // A string where a boolean belongs, a string where an object belongs, a numeric string.
  odd: {
    subscribed: true,
    plan: null,
    monthlyPrice: null,
    fourHour: null,
    monthly: w(12.5, null, null),
    daily: null,
  },
};

Deno.test("subscription_usage: every documented shape reads to the same model", () => {
  assert.deepEqual(Object.keys(CASES).toSorted(), Object.keys(sub).toSorted());
  for (const [shape, expected] of Object.entries(CASES)) {
    assert.deepEqual(readSubscription(sub[shape]), expected, shape);
  }
});

Deno.test('quotas: a list, {items}, {} and the default map {"*": 200}', () => {
  const q = ACCOUNT_SHAPES.quotas;
  assert.deepEqual(readQuotas(q.list), [{ chute: "*", quota: 5000 }]);
  assert.deepEqual(readQuotas(q.items), [{ chute: "*", quota: 5000 }]);
  assert.deepEqual(readQuotas(q.empty), []);
  assert.deepEqual(readQuotas(q.default_map), [{ chute: "*", quota: 200 }]);
  assert.deepEqual(readQuotas([{ model: "All Models", quota: "unlimited" }]), [
    { chute: "All Models", quota: "unlimited" },
  ]);
});

Deno.test('quota_usage: a count, the string "unlimited", used up, wrapped', () => {
  const u = ACCOUNT_SHAPES.quota_usage;
  assert.deepEqual(readQuotaUsage(u.counted), { used: 120, quota: 5000 });
  assert.deepEqual(readQuotaUsage(u.unlimited), { used: 0, quota: "unlimited" });
  assert.deepEqual(readQuotaUsage(u.exhausted), { used: 200, quota: 200 });
  assert.deepEqual(readQuotaUsage(u.data_wrapped), { used: 7, quota: 5000 });
  assert.deepEqual(readQuotaUsage({ "*": { quota: 5000, used: 11 } }), { used: 11, quota: 5000 });
});

Deno.test("balance: `balance`, a zero balance, or current_balance.effective_balance", () => {
  const m = ACCOUNT_SHAPES.me;
  assert.equal(readBalance(m.balance), 12.3456);
  assert.equal(readBalance(m.zero), 0);
  assert.equal(readBalance(m.effective), 3.5);
});

Deno.test("bodies no shape describes read as unknown and never throw", () => {
  for (const raw of [null, undefined, "text", 42, [], [1, 2], { data: null }, { data: [] }]) {
    const s = readSubscription(raw);
    assert.deepEqual([s.subscribed, s.fourHour, s.monthly, s.daily], [null, null, null, null]);
    assert.ok(Array.isArray(readQuotas(raw)));
    assert.deepEqual(readQuotaUsage(raw), { used: null, quota: null });
    assert.equal(readBalance(raw), null);
  }
  assert.deepEqual(readQuotas([null, "x", { quota: {} }]), [{ chute: "*", quota: null }]);
  assert.equal(readBalance({ balance: "NaN" }), null);
  assert.equal(readBalance({ balance: Infinity }), null);
});
