/**
 * The start-up token check: a refused token is an ERROR line naming CHUTES_API_TOKEN and the
 * fix, `/readyz` is 503 with that reason, and the status data says so — while an accepted token
 * changes nothing. The probe never runs a model, and an echoed token is redacted.
 */
import assert from "node:assert/strict";
import { startBackground } from "../../lib/app.ts";
import { PROBE_MODEL } from "../../lib/models/token_check.ts";
import { startProxy, TEST_TOKEN } from "../_helpers.ts";

Deno.test("a refused token: ERROR line with the fix, /readyz 503 saying why, shown in /ui/data", async () => {
  await using p = startProxy();
  p.upstream.probeReply = {
    status: 401,
    json: { detail: `Authentication required. (got ${TEST_TOKEN})` },
  };
  const background = new AbortController();
  const work = startBackground(p.deps, background.signal);
  try {
    while (p.deps.tokenCheck.verdict.state === "unchecked" || !p.deps.catalogue.live) {
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    background.abort();
    await work;
  }
  const probe = p.upstream.calls("/v1/chat/completions")[0]!;
  assert.equal(probe.body?.model, PROBE_MODEL);
  assert.equal(probe.body?.max_tokens, 1);
  const error = p.logs.find((l) => / ERROR /.test(l));
  assert.match(
    error ?? p.logs.join("\n"),
    /ERROR the upstream refused the API token \(HTTP 401: Authentication required\. \(got \[redacted\]\)\): every request will fail\. Set CHUTES_API_TOKEN=/,
  );
  const ready = await fetch(`${p.url}/readyz`);
  assert.equal(ready.status, 503);
  const { reason } = await ready.json();
  assert.match(reason, /refused the API token \(HTTP 401.*Set CHUTES_API_TOKEN=cpk_/);
  const ui = await (await fetch(`${p.url}/ui/data`)).json();
  assert.equal(ui.upstream.token_check.state, "refused");
  assert.equal(ui.upstream.token_valid, false);
  assert.match(ui.upstream.token_problem, /refused the API token/);
  const all = JSON.stringify(ui) + reason + p.logs.join("\n");
  assert.ok(!all.includes(TEST_TOKEN.slice(0, 12)), "the echoed token leaked");
});

Deno.test("an accepted token: ready, and the status data says accepted", async () => {
  await using p = startProxy();
  assert.equal((await p.deps.tokenCheck.run()).state, "accepted");
  await p.deps.catalogue.refresh();
  assert.equal((await fetch(`${p.url}/readyz`)).status, 200);
  const ui = await (await fetch(`${p.url}/ui/data`)).json();
  assert.deepEqual(ui.upstream.token_check, {
    state: "accepted",
    message: "the API token is accepted",
  });
  assert.equal(ui.upstream.token_valid, true);
  assert.ok(!p.logs.some((l) => / (ERROR|WARN) /.test(l)), p.logs.join("\n"));
});
