/**
 * The account block of `--check`: the same facts as the status page (subscription windows and
 * their reset times, the daily request quota, the balance, or why each could not be fetched),
 * read once from the management API. It has no verdict: an account endpoint that fails does not
 * make the proxy unready, since chat does not depend on it.
 */
import type { Config } from "../config/config.ts";
import { createLogger } from "../base/log.ts";
import { AccountWatch, managementOff } from "../models/account.ts";
import { accountSummary } from "../ops/account_view.ts";
import { ManagementApi } from "../upstream/management.ts";
import type { CheckOptions } from "./check_http.ts";

/** Fetches the account once and answers where from and the summary lines. */
export async function checkAccount(
  config: Config,
  o: Required<CheckOptions>,
): Promise<{ where: string; lines: string[] }> {
  const off = managementOff(config);
  const api = off !== undefined ? undefined : new ManagementApi({
    baseUrl: config.management_base_url,
    token: config.api_token,
    fetch: o.fetch,
    timeoutMs: o.timeoutMs,
  });
  // Fetch problems go into the lines; nothing is logged.
  const log = createLogger({ debug: false, secrets: [], sink: () => {} });
  const watch = new AccountWatch({
    ...(api ? { api } : {}),
    ...(off ? { disabled: off } : {}),
    now: Date.now,
    log,
  });
  await watch.refresh();
  return { where: config.management_base_url, lines: accountSummary(watch.state, Date.now()) };
}
