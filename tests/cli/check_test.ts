/**
 * Tests for `--check` (`lib/cli/check.ts`): the verdict of each step and the exit status for a good
 * setup, a bad token, a wrong base URL, no network (a blocked port, a refused connection, DNS
 * failure, a time-out), a config error and filters that hide every model — against the fake
 * upstream on 127.0.0.1 or an injected `fetch`. The made-up token must never be printed. One
 * test runs `main.ts --check` as a process to prove the exit statuses for real.
 */
import assert from "node:assert/strict";
import {
  checkExitCode,
  type CheckReport,
  checkSetup,
  formatCheckReport,
  PROBE_MODEL,
} from "../../lib/cli/check.ts";
import { FakeUpstream } from "../_fake_upstream.ts";
import { runMain } from "../_process.ts";

const TOKEN = "cpk_check_test_made_up.never-print-me-4b3a";
const CHAT = "/v1/chat/completions";
const PROBE_PASSED = { status: 404, json: { detail: `model not found: ${PROBE_MODEL}` } };
const BAD_TOKEN = { status: 401, json: { detail: "Authentication required." } };

/** Runs the check with `--check`, the made-up token and `env`; no file exists. */
async function check(
  env: Record<string, string>,
  options: { fetch?: typeof fetch; timeoutMs?: number; config?: unknown } = {},
): Promise<{ report: CheckReport; text: string; code: number }> {
  // The fake upstream plays the management API too; nothing may reach api.chutes.ai.
  const management = env.CHUTES_BASE_URL
    ? { CHUTES_MANAGEMENT_BASE_URL: new URL(env.CHUTES_BASE_URL).origin }
    : {};
  const report = await checkSetup({
    args: ["--check"],
    // Port 0: the listen step passes whatever runs on this machine (one test takes a port).
    env: { CHUTES_API_TOKEN: TOKEN, OLLAMA_HOST: "127.0.0.1:0", ...management, ...env },
    readTextFile: (path) =>
      Promise.resolve(
        path === "config.json" && options.config ? JSON.stringify(options.config) : undefined,
      ),
  }, options);
  const text = formatCheckReport(report);
  assert.ok(!text.includes(TOKEN), `the token was printed:\n${text}`);
  assert.ok(!text.includes(TOKEN.slice(0, 16)), "a token prefix was printed");
  return { report, text, code: checkExitCode(report) };
}

const statuses = (report: CheckReport) =>
  Object.fromEntries(report.steps.map((s) => [s.name, s.status]));
const step = (report: CheckReport, name: string) => report.steps.find((s) => s.name === name)!;

Deno.test("check: a good setup passes every step and exits 0", async () => {
  await using upstream = FakeUpstream.start();
  upstream.probeReply = PROBE_PASSED;
  const { report, text, code } = await check({ CHUTES_BASE_URL: upstream.url });
  assert.deepEqual(statuses(report), {
    config: "pass",
    listen: "pass",
    upstream: "pass",
    token: "pass",
    models: "pass",
  });
  assert.equal(code, 0);
  assert.match(
    text,
    /^PASS {2}upstream {2}http:\/\/127\.0\.0\.1:\d+\/v1\/models answered with a list of 4 models$/m,
  );
  assert.match(text, /^PASS {2}token .*API token is accepted/m);
  assert.match(text, /^PASS {2}models {4}4 models visible to clients$/m);
  assert.match(text, /Verdict: READY/);
  const [probe] = upstream.calls(CHAT);
  assert.equal(probe?.body?.model, PROBE_MODEL);
  assert.equal(probe?.body?.max_tokens, 1);
  assert.equal(probe?.headers.get("authorization"), `Bearer ${TOKEN}`);
});

Deno.test("check: a bad token fails the token step with how to set one, exits 1", async () => {
  await using upstream = FakeUpstream.start();
  upstream.probeReply = BAD_TOKEN;
  const { report, text, code } = await check({ CHUTES_BASE_URL: upstream.url });
  assert.equal(statuses(report).token, "fail");
  assert.equal(statuses(report).models, "pass");
  assert.equal(code, 1);
  assert.match(
    text,
    /^FAIL {2}token .*refused the API token \(HTTP 401: Authentication required\.\)/m,
  );
  assert.match(step(report, "token").fix ?? "", /CHUTES_API_TOKEN=cpk_.*https:\/\/chutes\.ai/);
  assert.match(text, /Verdict: NOT READY\. 1 check failed/);
});

Deno.test("check: an upstream that echoes the token in its error never gets it printed", async () => {
  await using upstream = FakeUpstream.start();
  upstream.probeReply = { status: 403, json: { detail: `token ${TOKEN} is revoked` } };
  const { text, code } = await check({ CHUTES_BASE_URL: upstream.url });
  assert.equal(code, 1);
  assert.match(text, /token \[redacted\] is revoked/);
});

Deno.test("check: a wrong base URL (404 or not a model list) says what the URL should be", async (t) => {
  for (
    const [name, reply, expected] of [
      [
        "404",
        { status: 404, json: { detail: "Not Found" } },
        /answered HTTP 404: Not Found: there is no model list/,
      ],
      [
        "HTML",
        { text: "<html>welcome</html>", headers: { "content-type": "text/html" } },
        /answered, but not with an OpenAI model list \(text\/html\)/,
      ],
    ] as const
  ) {
    await t.step(name, async () => {
      await using upstream = FakeUpstream.start();
      upstream.modelsReply = reply;
      const { report, text, code } = await check({ CHUTES_BASE_URL: upstream.url });
      assert.deepEqual(statuses(report), {
        config: "pass",
        listen: "pass",
        upstream: "fail",
        token: "skip",
        models: "skip",
      });
      assert.equal(code, 1);
      assert.match(text, expected);
      assert.match(
        step(report, "upstream").fix ?? "",
        /CHUTES_BASE_URL.*https:\/\/llm\.chutes\.ai\/v1/,
      );
      assert.equal(upstream.calls(CHAT).length, 0, "no probe without a model list");
    });
  }
});

Deno.test("check: no network names the host (blocked port, refused connection)", async () => {
  const blocked = await check({ CHUTES_BASE_URL: "http://127.0.0.1:9/v1" });
  assert.equal(blocked.code, 1);
  assert.match(blocked.text, /^FAIL {2}upstream {2}cannot reach 127\.0\.0\.1:9/m);
  assert.match(step(blocked.report, "upstream").fix ?? "", /online and can reach 127\.0\.0\.1:9/);

  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const refused = await check({ CHUTES_BASE_URL: `http://127.0.0.1:${port}/v1` });
  assert.equal(refused.code, 1);
  assert.match(
    refused.text,
    new RegExp(`cannot reach 127\\.0\\.0\\.1:${port}: connection refused`),
  );
});

Deno.test("check: a DNS failure and a time-out are told apart", async () => {
  const dns = await check({}, {
    fetch: () =>
      Promise.reject(
        new TypeError("fetch failed", {
          cause: new Error(
            "error sending request for url (https://llm.chutes.ai/v1/models): client error " +
              "(Connect): dns error: failed to lookup address information: Name or service not known",
          ),
        }),
      ),
  });
  assert.equal(dns.code, 1);
  assert.match(dns.text, /cannot resolve the host name llm\.chutes\.ai \(DNS lookup failed/);
  assert.match(
    step(dns.report, "upstream").fix ?? "",
    /should look like|https:\/\/llm\.chutes\.ai\/v1/,
  );

  const hanging: typeof fetch = (_url, init) =>
    new Promise((_, reject) =>
      init?.signal?.addEventListener("abort", () => reject(init.signal?.reason))
    );
  const slow = await check({}, { fetch: hanging, timeoutMs: 50 });
  assert.equal(slow.code, 1);
  assert.match(slow.text, /no answer from llm\.chutes\.ai within 0\.05 s/);
});

Deno.test("check: a config error fails the first step naming the key; the rest is skipped", async () => {
  const noToken = await checkSetup({
    args: ["--check"],
    env: {},
    readTextFile: () => Promise.resolve(undefined),
  });
  assert.equal(checkExitCode(noToken), 1);
  assert.deepEqual(statuses(noToken), {
    config: "fail",
    listen: "skip",
    upstream: "skip",
    token: "skip",
    models: "skip",
  });
  assert.match(formatCheckReport(noToken), /FAIL {2}config .*CHUTES_API_TOKEN/);
  const badKey = await check({}, { config: { retry_attempts: 99 } });
  assert.match(badKey.text, /FAIL {2}config {4}config "retry_attempts": expected an integer 1-10/);
});

Deno.test("check: filters that hide every model fail the models step", async () => {
  await using upstream = FakeUpstream.start();
  upstream.probeReply = PROBE_PASSED;
  const { text, code } = await check({ CHUTES_BASE_URL: upstream.url }, {
    config: { include: ["nothing/*"] },
  });
  assert.equal(code, 1);
  assert.match(
    text,
    /FAIL {2}models {4}the upstream lists 4 models, but include\/exclude hide all/,
  );
});

Deno.test("main.ts --check exits 0 when all pass and 1 on a bad token, never printing it", async () => {
  await using upstream = FakeUpstream.start();
  upstream.probeReply = PROBE_PASSED;
  const env = {
    CHUTES_API_TOKEN: TOKEN,
    CHUTES_BASE_URL: upstream.url,
    CHUTES_MANAGEMENT_BASE_URL: upstream.origin,
    OLLAMA_HOST: "127.0.0.1:0",
  };
  const good = await runMain(["--check"], env);
  assert.equal(good.code, 0, good.stdout + good.stderr);
  assert.match(good.stdout, /Verdict: READY/);
  assert.match(good.stdout, /^ {2}balance {7}\$12\.35$/m);
  upstream.probeReply = BAD_TOKEN;
  const bad = await runMain(["--check"], env);
  assert.equal(bad.code, 1, bad.stdout + bad.stderr);
  assert.match(bad.stdout, /^FAIL {2}token/m);
  for (const out of [good, bad]) assert.ok(!(out.stdout + out.stderr).includes(TOKEN));
});

Deno.test("check: a bind address in use fails the listen step with the fix", async () => {
  await using upstream = FakeUpstream.start();
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const inUse = await check({
    CHUTES_BASE_URL: upstream.url,
    OLLAMA_HOST: `127.0.0.1:${taken.addr.port}`,
  });
  assert.equal(inUse.code, 1);
  assert.equal(statuses(inUse.report).listen, "fail");
  assert.match(
    inUse.text,
    new RegExp(
      `^FAIL {2}listen {4}cannot listen on 127\\.0\\.0\\.1:${taken.addr.port}: the port is already in use`,
      "m",
    ),
  );
  assert.match(step(inUse.report, "listen").fix ?? "", /OLLAMA_HOST=127\.0\.0\.1:11435/);
});

Deno.test("check: a long upstream error echoing the token is redacted before it is cut", async () => {
  await using upstream = FakeUpstream.start();
  // The message is cut at 200 characters: here that falls inside the token.
  upstream.probeReply = { status: 403, json: { detail: `${"x".repeat(180)} ${TOKEN}` } };
  const { text, code } = await check({ CHUTES_BASE_URL: upstream.url });
  assert.equal(code, 1);
  assert.match(text, /x{180} \[redacted\]/);
});

Deno.test("check: prints the Chutes account (subscription windows, daily quota, balance)", async () => {
  await using upstream = FakeUpstream.start();
  upstream.probeReply = PROBE_PASSED;
  const { text, code } = await check({ CHUTES_BASE_URL: upstream.url });
  assert.equal(code, 0);
  assert.match(text, new RegExp(`^Chutes account \\(${upstream.origin}\\):$`, "m"));
  assert.match(
    text,
    /^ {2}subscription {2}\$20\/month plan: 4-hour \$1\.20 of \$8\.33 used \(\$7\.13 left\), resets \w{3} 1[56] Apr, \d\d:\d\d .+ \(in \d+ days\)$/m,
  );
  assert.match(text, /^ {16}monthly \$55\.34 of \$100\.00 used \(\$44\.66 left\), resets /m);
  // "in 3 h 10 min", "in 17 h" on the hour, or "in 40 min".
  assert.match(
    text,
    /^ {2}daily quota {3}120\/5000 requests, resets .+ \(in (\d+ h|\d+ h \d+ min|\d+ min)\)$/m,
  );
  assert.match(text, /^ {2}balance {7}\$12\.35$/m);
  // The account is fetched with the token, `*` percent-encoded.
  const usage = upstream.calls("/users/me/quota_usage/%2A")[0]!;
  assert.equal(usage.headers.get("authorization"), `Bearer ${TOKEN}`);
});

Deno.test("check: an account endpoint that fails says why and does not change the verdict", async () => {
  await using upstream = FakeUpstream.start();
  upstream.probeReply = PROBE_PASSED;
  upstream.useAccount({ quota_usage: "unlimited" });
  upstream.account.set("/users/me/subscription_usage", {
    status: 500,
    json: { detail: "database is down" },
  });
  upstream.account.set("/users/me", {
    status: 503,
    text: "<html>busy</html>",
    headers: { "content-type": "text/html" },
  });
  const { text, code } = await check({ CHUTES_BASE_URL: upstream.url });
  assert.equal(code, 0);
  assert.match(text, /^ {2}subscription {2}— \(HTTP 500: database is down\)$/m);
  assert.match(text, /^ {2}daily quota {3}unlimited$/m);
  assert.match(text, /^ {2}balance {7}— \(HTTP 503\)$/m);
});
