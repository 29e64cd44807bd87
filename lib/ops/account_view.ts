/**
 * The Chutes account as the operator sees it, in two forms from the same facts: the `account`
 * section of `/ui/data` (subscription windows with used, cap, remaining and reset time, the
 * daily request quota, the balance, each with when it was fetched or why it failed, and whether
 * the token was accepted) and the text block `--check` prints. A value nobody sent is `null`
 * in the data and "—" in the text; nothing here throws on an odd shape.
 */
import { type AccountState, humanDuration, nextUtcMidnight } from "../models/account.ts";
import type { RequestQuota, SpendWindow } from "../models/account_shapes.ts";

const iso = (ms: number | null) => ms === null ? null : new Date(ms).toISOString();

function resetOf(resetAt: string | null, now: number) {
  const ms = resetAt === null ? NaN : Date.parse(resetAt);
  return Number.isNaN(ms)
    ? { reset_at: null, reset_in_seconds: null }
    : { reset_at: new Date(ms).toISOString(), reset_in_seconds: Math.round((ms - now) / 1000) };
}

function windowData(w: SpendWindow | null | undefined, now: number) {
  if (!w) return null;
  return {
    used: w.used,
    cap: w.cap,
    remaining: w.remaining,
    uncapped: w.uncapped,
    ...resetOf(w.resetAt, now),
  };
}

/** The daily request quota from the best source: quota usage, then subscription, then quotas. */
export function dailyQuota(state: AccountState): RequestQuota & { at: number | null } {
  const usage = state.quotaUsage.value;
  if (usage && (usage.quota !== null || usage.used !== null)) {
    return { ...usage, at: state.quotaUsage.at };
  }
  const fromSub = state.subscription.value?.daily;
  if (fromSub) return { ...fromSub, at: state.subscription.at };
  const rows = state.quotas.value ?? [];
  const row = rows.find((r) => r.chute === "*") ?? rows[0];
  return { used: null, quota: row?.quota ?? null, at: row ? state.quotas.at : null };
}

/** The `account` section of `/ui/data`. */
export function accountData(state: AccountState, now: number): Record<string, unknown> {
  const sub = state.subscription.value;
  const daily = dailyQuota(state);
  const dailyReset = typeof daily.quota === "number" ? nextUtcMidnight(now) : null;
  return {
    disabled: state.disabled,
    checked_at: iso(state.checkedAt),
    token: { valid: state.tokenValid, problem: state.tokenProblem },
    subscription: {
      fetched_at: iso(state.subscription.at),
      error: state.subscription.error,
      subscribed: sub?.subscribed ?? null,
      plan: sub?.plan ?? null,
      monthly_price: sub?.monthlyPrice ?? null,
      four_hour: windowData(sub?.fourHour, now),
      monthly: windowData(sub?.monthly, now),
    },
    daily: {
      fetched_at: iso(daily.at),
      error: state.quotaUsage.error,
      used: daily.used,
      quota: daily.quota,
      ...resetOf(dailyReset === null ? null : new Date(dailyReset).toISOString(), now),
    },
    balance: {
      fetched_at: iso(state.balance.at),
      error: state.balance.error,
      usd: state.balance.value ?? null,
    },
  };
}

const usd = (n: number | null | undefined) =>
  n === null || n === undefined ? "—" : `$${n.toFixed(2)}`;

/** A reset time as local time and a countdown: "Thu 16 Apr, 02:00 CEST (in 2 h 10 min)". */
export function whenText(ms: number, now: number): string {
  const local = new Date(ms).toLocaleString("en-GB", {
    weekday: "short",
    day: "numeric",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
    timeZoneName: "short",
  });
  return `${local} (in ${humanDuration(ms - now)})`;
}

function windowText(name: string, w: SpendWindow | null | undefined, now: number): string {
  if (!w) return `${name} —`;
  if (w.uncapped) return `${name} ${usd(w.used)} used, no cap`;
  const reset = w.resetAt === null ? NaN : Date.parse(w.resetAt);
  const when = Number.isNaN(reset) ? "" : `, resets ${whenText(reset, now)}`;
  return `${name} ${usd(w.used)} of ${usd(w.cap)} used (${usd(w.remaining)} left)${when}`;
}

/** The account block `--check` prints, one line per fact. */
export function accountSummary(state: AccountState, now: number): string[] {
  if (state.disabled) return [`not shown: ${state.disabled}`];
  const lines: string[] = [];
  const row = (label: string, text: string) => lines.push(`${label.padEnd(14)}${text}`);
  if (state.tokenValid === false) row("token", state.tokenProblem ?? "refused");
  const sub = state.subscription;
  if (sub.value === null) row("subscription", `— (${sub.error ?? "not fetched"})`);
  else if (sub.value.subscribed === false) row("subscription", "none (pay as you go)");
  else {
    const plan = sub.value.plan ??
      (sub.value.monthlyPrice === null ? "subscription" : `$${sub.value.monthlyPrice}/month plan`);
    row("subscription", `${plan}: ${windowText("4-hour", sub.value.fourHour, now)}`);
    row("", windowText("monthly", sub.value.monthly, now));
  }
  const daily = dailyQuota(state);
  if (daily.quota === "unlimited") row("daily quota", "unlimited");
  else if (daily.quota === null && daily.used === null) {
    row("daily quota", `— (${state.quotaUsage.error ?? "not reported"})`);
  } else {
    row(
      "daily quota",
      `${daily.used ?? "—"}/${daily.quota ?? "—"} requests, resets ${
        whenText(nextUtcMidnight(now), now)
      }`,
    );
  }
  const balance = state.balance;
  row(
    "balance",
    balance.value === null ? `— (${balance.error ?? "not reported"})` : usd(balance.value),
  );
  return lines;
}
