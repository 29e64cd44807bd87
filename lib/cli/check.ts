/**
 * `--check`: tells a user whether the setup works before a client ever connects. Five steps, each
 * a verdict with the fix when it fails: the configuration loads (its errors name the key); the
 * bind address is free (not taken by Ollama, and an address of this machine); the upstream
 * answers `GET /models` with a model list (else the base URL, the network or DNS is wrong, and
 * the verdict says which and names the host); the token passes authentication (the probe of
 * lib/models/token_check.ts, which cannot run a model); and how many models clients will see.
 * `checkSetup` returns the steps as data, `formatCheckReport` prints them; `main.ts` exits 0 when
 * all pass, 1 otherwise. Every upstream text is redacted before it is cut: the token is never
 * printed, not even a prefix.
 */
import type { Config } from "../config/config.ts";
import { type ConfigInputs, loadConfig } from "../config/sources.ts";
import { redact } from "../base/log.ts";
import { globsToRegExps, wanted } from "../models/listing.ts";
import { ConfigError } from "../config/values.ts";
import { type CheckOptions, headers, said, send, URL_FIX } from "./check_http.ts";
import { checkAccount } from "./check_account.ts";
import { probeRequest, TOKEN_FIX, tokenStateFor } from "../models/token_check.ts";
import { bindProblem } from "../server/serve.ts";

export type { CheckOptions } from "./check_http.ts";
export { networkProblem } from "./check_http.ts";
export { PROBE_MODEL } from "../models/token_check.ts";

/** The outcome of one step; a step is skipped when an earlier failure makes it meaningless. */
export type CheckStatus = "pass" | "fail" | "skip";

/** One step's verdict, with the fix when it failed. */
export interface CheckStep {
  name: "config" | "listen" | "upstream" | "token" | "models";
  status: CheckStatus;
  message: string;
  fix?: string;
}

/** All the verdicts; `ok` when none failed. `account` is the Chutes account summary (no verdict). */
export interface CheckReport {
  ok: boolean;
  steps: CheckStep[];
  account?: { where: string; lines: string[] };
}

const CONFIG_FIX = "Correct the setting named above; every key, variable and flag is listed in " +
  "the README's Configuration table and in config.example.json.";
const LATER_FIX = "The upstream is busy or in trouble: run the check again in a few minutes.";

const pass = (name: CheckStep["name"], message: string): CheckStep => ({
  name,
  status: "pass",
  message,
});
const fail = (name: CheckStep["name"], message: string, fix: string): CheckStep => ({
  name,
  status: "fail",
  message,
  fix,
});
const skip = (name: CheckStep["name"], message: string): CheckStep => ({
  name,
  status: "skip",
  message,
});

/** Runs every step against the configuration `inputs` describe. */
export async function checkSetup(
  inputs: ConfigInputs,
  options: CheckOptions = {},
): Promise<CheckReport> {
  const secrets = [inputs.env.CHUTES_API_TOKEN ?? "", inputs.env.CHUTES_API_KEY ?? ""];
  const clean = (text: string) => redact(text, secrets);
  const o = { fetch: options.fetch ?? fetch, timeoutMs: options.timeoutMs ?? 15_000, clean };
  const steps: CheckStep[] = [];
  const config = await loadChecked(inputs, steps);
  let account: CheckReport["account"];
  if (config) {
    secrets.push(config.api_token, ...config.upstreams.map((u) => u.api_token ?? ""));
    steps.push(checkListen(config));
    const accountDone = checkAccount(config, o);
    const listing = await checkListing(config, o);
    steps.push(listing.step);
    if (listing.ids) {
      steps.push(await checkToken(config, o), countModels(config, listing.ids));
    } else {
      steps.push(skip("token", "not probed: the upstream must answer first"));
      steps.push(skip("models", "not counted: the upstream must answer first"));
    }
    account = await accountDone;
  }
  return {
    ok: steps.every((s) => s.status !== "fail"),
    ...(account ? { account: { where: account.where, lines: account.lines.map(clean) } } : {}),
    steps: steps.map((s) => ({
      ...s,
      message: clean(s.message),
      ...(s.fix ? { fix: clean(s.fix) } : {}),
    })),
  };
}

async function loadChecked(inputs: ConfigInputs, steps: CheckStep[]): Promise<Config | undefined> {
  try {
    const loaded = await loadConfig(inputs);
    if (loaded.help) throw new Error("checkSetup: --help is the caller's to handle");
    const from = loaded.configPath ?? "defaults and environment, no config file";
    steps.push(
      pass("config", `configuration is valid (${from}); upstream ${loaded.config.base_url}`),
    );
    return loaded.config;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    steps.push(fail("config", err.message, CONFIG_FIX));
    for (const name of ["listen", "upstream", "token", "models"] as const) {
      steps.push(skip(name, "not checked: the configuration must load first"));
    }
    return undefined;
  }
}

function checkListen(config: Config): CheckStep {
  const problem = bindProblem(config.host, config.port);
  const at = `${config.host.includes(":") ? `[${config.host}]` : config.host}:${config.port}`;
  if (problem === undefined) return pass("listen", `${at} is free to listen on`);
  return fail(
    "listen",
    problem,
    "Stop what listens there (often Ollama itself on 11434), or choose another address with " +
      "OLLAMA_HOST=127.0.0.1:11435 (or --host / --port).",
  );
}

function modelIds(text: string): string[] | undefined {
  try {
    const json = JSON.parse(text) as { data?: unknown };
    if (!Array.isArray(json?.data)) return undefined;
    return json.data.map((m) => (m as { id?: unknown })?.id).filter((id): id is string =>
      typeof id === "string"
    );
  } catch {
    return undefined;
  }
}

async function checkListing(
  config: Config,
  o: Required<CheckOptions>,
): Promise<{ step: CheckStep; ids?: string[] }> {
  const url = `${config.base_url}/models`;
  const answer = await send(url, { headers: headers(config, "application/json") }, o);
  if (!("status" in answer)) return { step: fail("upstream", answer.message, answer.fix) };
  const { status } = answer;
  const http = `${url} answered HTTP ${status}${said(answer)}`;
  if (status === 401 || status === 403) return { step: fail("upstream", http, TOKEN_FIX) };
  if (status === 429 || status >= 500) return { step: fail("upstream", http, LATER_FIX) };
  if (status < 200 || status > 299) {
    return { step: fail("upstream", `${http}: there is no model list at this base URL`, URL_FIX) };
  }
  const ids = modelIds(answer.text);
  if (!ids) {
    const kind = answer.contentType || "no content type";
    const message = `${url} answered, but not with an OpenAI model list (${kind})`;
    return { step: fail("upstream", message, URL_FIX) };
  }
  return { step: pass("upstream", `${url} answered with a list of ${ids.length} models`), ids };
}

/** Verifies the token without spending quota (lib/models/token_check.ts says how). */
async function checkToken(config: Config, o: Required<CheckOptions>): Promise<CheckStep> {
  const { url, init } = probeRequest(config.base_url, config.api_token, "check");
  const answer = await send(url, init, o);
  if (!("status" in answer)) return fail("token", answer.message, answer.fix);
  const { status } = answer;
  switch (tokenStateFor(status)) {
    case "refused":
      return fail(
        "token",
        `the upstream refused the API token (HTTP ${status}${said(answer)})`,
        TOKEN_FIX,
      );
    case "accepted":
      return pass(
        "token",
        `the API token is accepted (a probe for a made-up model passed authentication; HTTP ${status}, nothing ran)`,
      );
    case "unpaid":
      return fail(
        "token",
        `the API token is accepted, but the account cannot pay for requests (HTTP 402${
          said(answer)
        })`,
        "Add balance to the Chutes account, or wait until the quota resets.",
      );
    default:
      return fail(
        "token",
        `the token could not be verified: HTTP ${status}${said(answer)}`,
        LATER_FIX,
      );
  }
}

function countModels(config: Config, ids: string[]): CheckStep {
  const visible = ids.filter((id) =>
    wanted(id, globsToRegExps(config.include), globsToRegExps(config.exclude))
  );
  if (ids.length === 0) {
    return fail("models", "the upstream lists no models", `Is base_url right? ${URL_FIX}`);
  }
  if (visible.length === 0) {
    return fail(
      "models",
      `the upstream lists ${ids.length} models, but include/exclude hide all of them`,
      'Loosen "include" / "exclude" in config.json (glob patterns on model ids, like "Qwen/*").',
    );
  }
  const hidden = ids.length - visible.length;
  const note = hidden > 0 ? ` (${hidden} more hidden by include/exclude)` : "";
  return pass("models", `${visible.length} models visible to clients${note}`);
}

const LABELS: Record<CheckStatus, string> = { pass: "PASS", fail: "FAIL", skip: "SKIP" };

/** The report as text: one line per step, its fix under it, then the verdict. */
export function formatCheckReport(report: CheckReport): string {
  const lines = ["ollama-chutes-proxy check", ""];
  for (const step of report.steps) {
    lines.push(`${LABELS[step.status]}  ${step.name.padEnd(8)}  ${step.message}`);
    if (step.fix) lines.push(`${" ".repeat(16)}fix: ${step.fix}`);
  }
  if (report.account) {
    lines.push("", `Chutes account (${report.account.where}):`);
    for (const line of report.account.lines) lines.push(`  ${line}`);
  }
  const failed = report.steps.filter((s) => s.status === "fail").length;
  lines.push(
    "",
    report.ok
      ? "Verdict: READY. Every check passed; start the proxy with `deno task start`."
      : `Verdict: NOT READY. ${failed} check${failed === 1 ? "" : "s"} failed: apply the fix ` +
        "shown and run `deno task check` again.",
  );
  return lines.join("\n");
}

/** The process exit status for a report: 0 when every step passed, 1 otherwise. */
export function checkExitCode(report: CheckReport): 0 | 1 {
  return report.ok ? 0 : 1;
}
