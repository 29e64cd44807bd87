/**
 * The management API client's reasons are built from the API's own text: a token it echoes is
 * redacted before the reason is cut short, so not even a prefix survives, in an error message or
 * a redirect's target.
 */
import assert from "node:assert/strict";
import { ManagementApi } from "../../lib/upstream/management.ts";
import { TEST_TOKEN } from "../_helpers.ts";

const KEY = "proxy-key-0123456789abcdef";

/** Every prefix of `secret` of 8 characters or more that occurs in `text`. */
function prefixesIn(text: string, secret: string): string[] {
  const found: string[] = [];
  for (let n = 8; n <= secret.length; n++) {
    if (text.includes(secret.slice(0, n))) found.push(secret.slice(0, n));
  }
  return found;
}

Deno.test("management reasons: an echoed secret is redacted before the cut, also in a redirect", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (r) => {
    const path = new URL(r.url).pathname;
    if (path === "/moved") {
      return new Response(null, {
        status: 302,
        headers: { location: `https://elsewhere.example/?token=${TEST_TOKEN}` },
      });
    }
    // The token starts just before the 200-character cut of the reason; the key well inside it.
    return Response.json({ detail: `${KEY} ${"x".repeat(163)} ${TEST_TOKEN}` }, { status: 500 });
  });
  try {
    const api = new ManagementApi({
      baseUrl: `http://127.0.0.1:${server.addr.port}`,
      token: TEST_TOKEN,
      fetch,
      secrets: [KEY],
    });
    const failed = await api.get("/quotas");
    assert.equal(failed.ok, false);
    const reason = (failed as { reason: string }).reason;
    assert.match(reason, /^HTTP 500: \[redacted\] x+ \[re/);
    const moved = await api.get("/moved");
    const where = (moved as { reason: string }).reason;
    assert.equal(where, "HTTP 302: redirect to https://elsewhere.example/?token=[redacted]");
    for (const text of [reason, where]) {
      assert.deepEqual(prefixesIn(text, TEST_TOKEN), []);
      assert.deepEqual(prefixesIn(text, KEY), []);
    }
  } finally {
    await server.shutdown();
  }
});
