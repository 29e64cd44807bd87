/**
 * Browser origins by Ollama's rules: the policy alone (table of origins), and over HTTP the
 * allowed, disallowed and preflight cases, including OLLAMA_ORIGINS additions for browser
 * extensions and Obsidian.
 */
import assert from "node:assert/strict";
import { CorsPolicy } from "../../lib/server/cors.ts";
import { startProxy } from "../_helpers.ts";
import { exchange } from "../_raw_http.ts";

Deno.test("CorsPolicy allows Ollama's default origins and nothing else", () => {
  const policy = new CorsPolicy([]);
  const cases: [string, boolean][] = [
    ["http://localhost", true],
    ["http://localhost:3000", true],
    ["https://127.0.0.1:8443", true],
    ["http://0.0.0.0:8080", true],
    ["app://obsidian.md", true],
    ["file://", true],
    ["tauri://localhost", true],
    ["vscode-webview://abc123", true],
    ["vscode-file://vscode-app", true],
    ["https://evil.example", false],
    ["http://localhost.evil.example", false],
    ["chrome-extension://abcdef", false],
    ["moz-extension://1234", false],
  ];
  for (const [origin, allowed] of cases) assert.equal(policy.allows(origin), allowed, origin);
});

Deno.test("CorsPolicy adds OLLAMA_ORIGINS patterns; a lone * allows every origin", () => {
  const policy = new CorsPolicy([
    "chrome-extension://*",
    "moz-extension://*",
    "https://*.example.com",
  ]);
  assert.equal(policy.allows("chrome-extension://abcdef"), true);
  assert.equal(policy.allows("moz-extension://1234"), true);
  assert.equal(policy.allows("https://chat.example.com"), true);
  assert.equal(policy.allows("https://example.org"), false);
  assert.equal(new CorsPolicy(["*"]).allows("https://anything.example"), true);
});

Deno.test("HTTP: allowed origins get Allow-Origin and Vary; no Origin is not CORS", async () => {
  await using p = startProxy();
  const res = await fetch(`${p.url}/api/version`, { headers: { origin: "http://localhost:5173" } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("access-control-allow-origin"), "http://localhost:5173");
  assert.match(res.headers.get("vary") ?? "", /Origin/);
  await res.body?.cancel();
  const plain = await fetch(`${p.url}/api/version`);
  assert.equal(plain.headers.get("access-control-allow-origin"), null);
  await plain.body?.cancel();
});

Deno.test("HTTP: a disallowed origin gets 403 with an empty body, before any route runs", async () => {
  await using p = startProxy();
  const res = await fetch(`${p.url}/api/chat`, {
    method: "POST",
    headers: { origin: "https://evil.example", "content-type": "application/json" },
    body: JSON.stringify({
      model: "Qwen/Qwen3-32B-TEE",
      messages: [{ role: "user", content: "hi" }],
    }),
  });
  assert.equal(res.status, 403);
  assert.equal(await res.text(), "");
  assert.equal(p.upstream.calls("/v1/chat/completions").length, 0);
});

Deno.test("HTTP: preflight from an allowed origin answers 204 with methods, headers and max-age", async () => {
  await using p = startProxy({
    config: { origins: ["app://obsidian.md", "chrome-extension://*"] },
  });
  for (
    const origin of ["app://obsidian.md", "chrome-extension://abcdef", "http://localhost:3000"]
  ) {
    const res = await fetch(`${p.url}/api/chat`, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,authorization",
      },
    });
    assert.equal(res.status, 204, origin);
    assert.equal(res.headers.get("access-control-allow-origin"), origin);
    assert.match(res.headers.get("access-control-allow-methods") ?? "", /POST/);
    const allowed = (res.headers.get("access-control-allow-headers") ?? "").toLowerCase();
    assert.ok(allowed.includes("authorization") && allowed.includes("content-type"));
    assert.ok(allowed.includes("x-stainless-os"));
    assert.equal(res.headers.get("access-control-max-age"), "43200");
    await res.body?.cancel();
  }
  const denied = await fetch(`${p.url}/api/chat`, {
    method: "OPTIONS",
    headers: { origin: "moz-extension://x" },
  });
  assert.equal(denied.status, 403);
  await denied.body?.cancel();
});

Deno.test("HTTP: an Origin equal to the server's own host is not treated as CORS", async () => {
  await using p = startProxy();
  const host = new URL(p.url).host;
  const res = await fetch(`${p.url}/api/version`, { headers: { origin: `http://${host}` } });
  assert.equal(res.status, 200);
  await res.body?.cancel();
});

Deno.test("only an Origin of exactly the server's own scheme://host:port is not CORS", () => {
  const policy = new CorsPolicy([]);
  const request = (origin: string, host: string) =>
    new Request("http://192.168.1.5:11434/api/tags", { headers: { origin, host } });
  assert.equal(policy.check(request("http://192.168.1.5:11434", "192.168.1.5:11434")).kind, "none");
  assert.equal(
    policy.check(request("https://192.168.1.5:11434", "192.168.1.5:11434")).kind,
    "none",
  );
  assert.equal(policy.check(request("http://192.168.1.5", "192.168.1.5:80")).kind, "none");
  // Another port of the same host name is another origin (a page served there is not us).
  assert.equal(policy.check(request("http://192.168.1.5", "192.168.1.5:11434")).kind, "forbidden");
  assert.equal(
    policy.check(request("http://192.168.1.5:8080", "192.168.1.5:11434")).kind,
    "forbidden",
  );
  assert.equal(policy.check(request("http://192.168.1.6", "192.168.1.5:11434")).kind, "forbidden");
  assert.equal(
    policy.check(request("chrome-extension://192.168.1.5", "192.168.1.5:11434")).kind,
    "forbidden",
  );
});

Deno.test("HTTP: a page on another port of the proxy's host name is another origin (403)", async () => {
  await using p = startProxy();
  const body = JSON.stringify({
    model: "Qwen/Qwen3-32B-TEE",
    messages: [{ role: "user", content: "hi" }],
  });
  const headers = {
    host: "192.168.1.5:11434",
    "content-type": "application/json",
    "content-length": String(body.length),
  };
  const other = await exchange(p.url, {
    method: "POST",
    path: "/api/chat",
    headers: { ...headers, origin: "http://192.168.1.5:8080" },
    body,
  });
  assert.equal(other.status, 403);
  assert.equal(other.body, "");
  assert.equal(p.upstream.calls("/v1/chat/completions").length, 0);
  const same = await exchange(p.url, {
    path: "/api/version",
    headers: { host: "192.168.1.5:11434", origin: "http://192.168.1.5:11434" },
  });
  assert.equal(same.status, 200);
  assert.equal(same.headers.get("access-control-allow-origin"), null);
});
