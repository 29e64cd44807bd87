/**
 * The Chutes account as the proxy last saw it: subscription usage (4-hour and monthly windows
 * with their reset times), the daily request quota and its use, and the balance, each with when
 * it was fetched or why it could not be. `AccountWatch` asks the management API at most once a
 * minute, and only when someone looks (the status page, `--check`) or a client just got a 402 or
 * 429; concurrent looks share one fetch. It also tells whether the management API accepted the
 * token. Nothing here is on the chat path: a failing account endpoint changes what the status
 * page shows, never an answer — except that a 402 or quota 429 names the reset time it knows.
 */
import type { Logger } from "../base/log.ts";
import { type Config, DEFAULT_MANAGEMENT_BASE_URL, DEMO_MANAGEMENT_URL } from "../config/config.ts";
import type { ApiAnswer, ManagementApi } from "../upstream/management.ts";
import {
  type QuotaRow,
  readBalance,
  readQuotas,
  readQuotaUsage,
  readSubscription,
  type RequestQuota,
  type SpendWindow,
  type Subscription,
} from "./account_shapes.ts";

/** One endpoint's last answer: its value when it answered, else why not; `at` is wall-clock ms. */
export interface Part<T> {
  value: T | null;
  at: number | null;
  error: string | null;
}

/** Everything known about the account. */
export interface AccountState {
  /** Why the account is not watched at all (demo mode), when it is not. */
  disabled: string | null;
  subscription: Part<Subscription>;
  quotas: Part<QuotaRow[]>;
  quotaUsage: Part<RequestQuota>;
  balance: Part<number | null>;
  /** true: the management API accepted the token; false: it refused it; null: not asked yet. */
  tokenValid: boolean | null;
  tokenProblem: string | null;
  /** When the last fetch started (wall-clock ms), or null. */
  checkedAt: number | null;
}

/**
 * Why the management API is not used, or undefined when it is: never in demo mode, and not with
 * the default Chutes address when the chat upstream is not Chutes (the token is for another
 * service and must not be sent to api.chutes.ai); setting `management_base_url` turns it on.
 */
export function managementOff(
  config: Pick<Config, "base_url" | "management_base_url">,
): string | undefined {
  if (config.management_base_url === DEMO_MANAGEMENT_URL) {
    return "demo mode: there is no Chutes account behind the demo upstream";
  }
  const chutes = /(^|\.)chutes\.ai$/.test(new URL(config.base_url).hostname);
  if (config.management_base_url === DEFAULT_MANAGEMENT_BASE_URL && !chutes) {
    return "base_url is not Chutes, so the token is not sent to api.chutes.ai (set " +
      "management_base_url to show a Chutes account)";
  }
  return undefined;
}

/** At most one fetch per this many milliseconds. */
export const ACCOUNT_POLL_MS = 60_000;

const empty = <T>(): Part<T> => ({ value: null, at: null, error: null });

/** The next 00:00 UTC after `now`: Chutes' daily quotas are per UTC day (chutes-api `quota_key`). */
export function nextUtcMidnight(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
}

/** "2 h 10 min", "5 min", "40 s" for a duration in milliseconds (past durations as "now"). */
export function humanDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s <= 0) return "now";
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return min % 60 === 0 ? `${h} h` : `${h} h ${min % 60} min`;
  return `${Math.floor(h / 24)} days`;
}

/** Watches the Chutes account through the management API. */
export class AccountWatch {
  readonly #api: ManagementApi | undefined;
  readonly #now: () => number;
  readonly #log: Logger;
  #state: AccountState;
  #inflight: Promise<void> | undefined;

  constructor(
    options: { api?: ManagementApi; disabled?: string; now: () => number; log: Logger },
  ) {
    this.#api = options.api;
    this.#now = options.now;
    this.#log = options.log;
    this.#state = {
      disabled: options.api ? null : options.disabled ?? "no management API configured",
      subscription: empty(),
      quotas: empty(),
      quotaUsage: empty(),
      balance: empty(),
      tokenValid: null,
      tokenProblem: null,
      checkedAt: null,
    };
  }

  /** What is known now (a copy). */
  get state(): AccountState {
    return structuredClone(this.#state);
  }

  /** Fetches unless a fetch started less than a minute ago; resolves when the data is current. */
  refresh(): Promise<void> {
    if (!this.#api) return Promise.resolve();
    if (this.#inflight) return this.#inflight;
    const last = this.#state.checkedAt;
    if (last !== null && this.#now() - last < ACCOUNT_POLL_MS) return Promise.resolve();
    this.#state.checkedAt = this.#now();
    this.#inflight = this.#fetch(this.#api).finally(() => this.#inflight = undefined);
    return this.#inflight;
  }

  /** `refresh()`, waiting at most `waitMs` for it (the fetch goes on in the background). */
  async look(waitMs: number): Promise<AccountState> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.refresh(),
      new Promise<void>((resolve) => timer = setTimeout(resolve, waitMs)),
    ]);
    clearTimeout(timer);
    return this.state;
  }

  async #fetch(api: ManagementApi): Promise<void> {
    const [sub, quotas, usage, me] = await Promise.all([
      api.get("/users/me/subscription_usage"),
      api.get("/users/me/quotas"),
      // `*` is the every-chute quota; Chutes wants it percent-encoded (agent-doors.md E.4).
      api.get("/users/me/quota_usage/%2A"),
      api.get("/users/me"),
    ]);
    const s = this.#state;
    this.#apply(s.subscription, sub, readSubscription, "subscription usage");
    this.#apply(s.quotas, quotas, readQuotas, "quotas");
    this.#apply(s.quotaUsage, usage, readQuotaUsage, "quota usage");
    this.#apply(s.balance, me, readBalance, "balance");
    const answers = [sub, quotas, usage, me];
    const refused = answers.find((a) => !a.ok && (a.status === 401 || a.status === 403));
    if (refused && !refused.ok) {
      s.tokenValid = false;
      s.tokenProblem = `the Chutes management API refused the token (${refused.reason})`;
    } else if (answers.some((a) => a.ok)) {
      s.tokenValid = true;
      s.tokenProblem = null;
    }
  }

  #apply<T>(part: Part<T>, answer: ApiAnswer, read: (raw: unknown) => T, what: string): void {
    if (answer.ok) {
      part.value = read(answer.json);
      part.at = this.#now();
      part.error = null;
      return;
    }
    if (part.error !== answer.reason) {
      this.#log.warn(`Chutes account: cannot fetch the ${what}: ${answer.reason}`);
    }
    part.error = answer.reason;
  }

  /**
   * For a 402 or 429 answered to a client: what the account data says about it (the window or
   * quota that is used up and when it resets; for a 402, an empty balance), or "" when it knows
   * nothing that explains it (a 429 "at capacity" is not the account's doing).
   */
  explain(status: number): string {
    const s = this.#state;
    const now = this.#now();
    const used: string[] = [];
    const window = (w: SpendWindow | null | undefined, name: string) => {
      if (!w || w.uncapped || w.cap === null || w.cap <= 0 || w.remaining === null) return;
      if (w.remaining > 0) return;
      const reset = w.resetAt === null ? NaN : Date.parse(w.resetAt);
      const when = Number.isNaN(reset)
        ? ""
        : `; it resets at ${new Date(reset).toISOString()} (in ${humanDuration(reset - now)})`;
      used.push(`the ${name} is used up ($${w.used?.toFixed(2)} of $${w.cap.toFixed(2)})${when}`);
    };
    window(s.subscription.value?.fourHour, "4-hour subscription cap");
    window(s.subscription.value?.monthly, "monthly subscription cap");
    const daily = s.quotaUsage.value;
    if (daily && typeof daily.quota === "number" && daily.quota > 0 && daily.used !== null) {
      if (daily.used >= daily.quota) {
        const reset = nextUtcMidnight(now);
        used.push(
          `the daily request quota is used up (${daily.used}/${daily.quota}); it resets at ${
            new Date(reset).toISOString()
          } (in ${humanDuration(reset - now)})`,
        );
      }
    }
    if (status === 402 && s.balance.value !== null && s.balance.value <= 0) {
      used.push(`the balance is $${s.balance.value.toFixed(2)}`);
    }
    return used.length > 0 ? `Chutes account: ${used.join("; ")}` : "";
  }
}
