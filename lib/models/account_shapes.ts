/**
 * Pure readers of the Chutes account endpoints (agent-doors.md E.4), which publish no schema and
 * answer in several shapes: `subscription_usage` as nested `four_hour`/`monthly` objects (the live
 * shape), `billing_cycle_cap`/`four_hour_window`/`daily_quota_usage` objects, flat
 * `*_used`/`*_limit` fields, `{"subscription": false}`, `monthly: {"uncapped": true}`, each
 * possibly under a `data` wrapper; `quotas` as a list, `{items: […]}`, `{}` or a map of chute id →
 * quota; `quota_usage` with a number or `"unlimited"`; the balance as `balance` or
 * `effective_balance`. Every reader takes `unknown` and answers `null` for what it cannot find,
 * so a missing or unknown field shows as "—" and never breaks the page.
 */
import { isJsonObject } from "../base/json.ts";

/** One spending window of a subscription, in USD. */
export interface SpendWindow {
  used: number | null;
  cap: number | null;
  remaining: number | null;
  /** ISO time the window resets, as Chutes sent it (with its offset). */
  resetAt: string | null;
  /** A custom plan without a monthly cap. */
  uncapped: boolean;
}

/** The daily request quota: `quota` is a count, `"unlimited"` (free or invoiced accounts) or unknown. */
export interface RequestQuota {
  used: number | null;
  quota: number | "unlimited" | null;
}

/** What `GET /users/me/subscription_usage` says. */
export interface Subscription {
  /** false: no subscription; null: the answer did not say. */
  subscribed: boolean | null;
  plan: string | null;
  monthlyPrice: number | null;
  fourHour: SpendWindow | null;
  monthly: SpendWindow | null;
  /** Some shapes carry the daily request quota too. */
  daily: RequestQuota | null;
}

/** One row of `GET /users/me/quotas`: the chute it applies to (`*` = every chute) and its quota. */
export interface QuotaRow {
  chute: string;
  quota: number | "unlimited" | null;
}

type Obj = Record<string, unknown>;

/** A finite number, or a numeric string; else null. */
export function num(v: unknown): number | null {
  const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
  return typeof n === "number" && Number.isFinite(n) ? n : null;
}

const str = (v: unknown): string | null => typeof v === "string" && v !== "" ? v : null;

const pick = (o: Obj, keys: readonly string[]): unknown =>
  keys.map((k) => o[k]).find((v) => v !== undefined && v !== null);

/** Unwraps `{data: {...}}` (once or twice) when the outer object carries nothing else we read. */
function unwrap(v: unknown): unknown {
  for (
    let i = 0;
    i < 2 && isJsonObject(v) && isJsonObject(v.data) && Object.keys(v).length <= 3;
    i++
  ) {
    v = v.data;
  }
  return v;
}

function quotaValue(v: unknown): number | "unlimited" | null {
  if (typeof v === "string" && v.trim().toLowerCase() === "unlimited") return "unlimited";
  return num(v);
}

const USED = ["usage", "used", "spent"];
const CAP = ["cap", "limit", "max"];
const RESET = ["reset_at", "resets_at", "reset", "reset_time"];

function windowFrom(o: Obj, names: readonly string[], flat: readonly string[]): SpendWindow | null {
  const nested = pick(o, names);
  if (isJsonObject(nested)) {
    return complete({
      used: num(pick(nested, USED)),
      cap: num(pick(nested, CAP)),
      remaining: num(nested.remaining),
      resetAt: str(pick(nested, RESET)),
      uncapped: nested.uncapped === true,
    });
  }
  for (const p of flat) {
    const used = num(pick(o, USED.map((k) => `${p}_${k}`)));
    const cap = num(pick(o, CAP.map((k) => `${p}_${k}`)));
    const remaining = num(o[`${p}_remaining`]);
    if (used === null && cap === null && remaining === null) continue;
    const resetAt = str(pick(o, RESET.map((k) => `${p}_${k}`)));
    return complete({ used, cap, remaining, resetAt, uncapped: false });
  }
  return null;
}

function complete(w: SpendWindow): SpendWindow {
  if (w.remaining === null && w.used !== null && w.cap !== null) w.remaining = w.cap - w.used;
  if (w.used === null && w.remaining !== null && w.cap !== null) w.used = w.cap - w.remaining;
  return w;
}

function dailyFrom(o: Obj): RequestQuota | null {
  const w = windowFrom(o, ["daily_quota_usage", "daily_quota", "daily"], ["daily"]);
  return w && { used: w.used, quota: w.cap };
}

/** Reads `GET /users/me/subscription_usage` in any of its shapes. */
export function readSubscription(raw: unknown): Subscription {
  const o = unwrap(raw);
  if (!isJsonObject(o)) {
    return {
      subscribed: null,
      plan: null,
      monthlyPrice: null,
      fourHour: null,
      monthly: null,
      daily: null,
    };
  }
  const plan = isJsonObject(o.plan) ? o.plan : {};
  const fourHour = windowFrom(o, ["four_hour", "four_hour_window", "4h"], ["four_hour", "4h"]);
  const monthly = windowFrom(
    o,
    ["monthly", "billing_cycle_cap", "billing_cycle", "monthly_cap"],
    ["monthly", "billing_cycle"],
  );
  const daily = dailyFrom(o);
  const subscribed = typeof o.subscription === "boolean"
    ? o.subscription
    : fourHour || monthly
    ? true
    : null;
  return {
    subscribed,
    plan: str(o.plan_name) ?? str(plan.name) ?? (typeof o.plan === "string" ? o.plan : null),
    monthlyPrice: num(o.monthly_price) ?? num(plan.monthly_price) ?? num(plan.monthly_price_usd),
    fourHour,
    monthly,
    daily,
  };
}

/** Reads `GET /users/me/quotas`: a list, `{items}`/`{quotas}`/`{data}`, `{}`, or `{"*": 200}`. */
export function readQuotas(raw: unknown): QuotaRow[] {
  let v = unwrap(raw);
  if (isJsonObject(v)) v = v.items ?? v.quotas ?? v;
  if (Array.isArray(v)) {
    return v.filter(isJsonObject).map((row) => ({
      chute: str(row.chute_id) ?? str(row.model) ?? "*",
      quota: quotaValue(row.quota ?? row.limit),
    }));
  }
  if (!isJsonObject(v)) return [];
  // `settings.default_quotas` (chutes-api): chute id → daily quota, e.g. {"*": 200}.
  return Object.entries(v)
    .filter(([, q]) => quotaValue(q) !== null)
    .map(([chute, q]) => ({ chute, quota: quotaValue(q) }));
}

/** Reads `GET /users/me/quota_usage/{chute}`: `{quota, used}`, maybe wrapped or keyed by chute. */
export function readQuotaUsage(raw: unknown): RequestQuota {
  let o = unwrap(raw);
  if (isJsonObject(o) && !("quota" in o) && !("used" in o) && isJsonObject(o["*"])) o = o["*"];
  if (!isJsonObject(o)) return { used: null, quota: null };
  return { used: num(o.used ?? o.usage), quota: quotaValue(o.quota ?? o.limit) };
}

/** Reads the balance (USD) out of `GET /users/me`. */
export function readBalance(raw: unknown): number | null {
  const o = unwrap(raw);
  if (!isJsonObject(o)) return null;
  const nested = isJsonObject(o.current_balance) ? o.current_balance.effective_balance : undefined;
  return num(o.balance) ?? num(o.effective_balance) ?? num(nested);
}
