/**
 * The DNS-rebinding guard: bound to loopback, a request whose `Host` is not a local name is
 * refused with 403 before any route runs (no chat reaches the upstream, no alias is made, the
 * status data stays unread); local names, private IPs and `allowed_hosts` pass. Bound beyond
 * loopback, the guard applies only when `allowed_hosts` lists names.
 */
import assert from "node:assert/strict";
import { HostCheck, hostName, isLocalIp } from "../../lib/server/host.ts";
import { textStream } from "../_fake_upstream.ts";
import { startProxy } from "../_helpers.ts";
import { exchange } from "../_raw_http.ts";

Deno.test("HostCheck on loopback: local names and local IPs pass, other names do not", () => {
  const check = new HostCheck("127.0.0.1", [], "my-laptop");
  const cases: [string, boolean][] = [
    ["localhost", true],
    ["localhost:11434", true],
    ["LOCALHOST.", true],
    ["127.0.0.1:11434", true],
    ["[::1]:11434", true],
    ["10.1.2.3", true],
    ["172.16.0.1", true],
    ["172.32.0.1", false],
    ["192.168.1.5:11434", true],
    ["169.254.10.1", true],
    ["0.0.0.0", true],
    ["[fe80::1]", true],
    ["[fd12:3456::1]:11434", true],
    ["[::ffff:127.0.0.1]", true],
    ["[2001:db8::1]", false],
    ["8.8.8.8", false],
    ["my-laptop:11434", true],
    ["app.localhost", true],
    ["printer.local", true],
    ["host.docker.internal:11434", true],
    ["evil.example", false],
    ["evil.example:11434", false],
    ["localhost.evil.example", false],
    ["127.0.0.1.nip.io", false],
  ];
  for (const [host, ok] of cases) assert.equal(check.permits(host), ok, host);
  assert.equal(check.permits(null), true, "no Host (HTTP/1.0)");
});

Deno.test("HostCheck: allowed_hosts adds names and *.suffixes; * turns it off; beyond loopback with keys only when listed", () => {
  const listed = new HostCheck("127.0.0.1", ["Proxy.Example.com", "*.lan.example"]);
  assert.equal(listed.permits("proxy.example.com:443"), true);
  assert.equal(listed.permits("a.lan.example"), true);
  assert.equal(listed.permits("lan.example"), false);
  assert.equal(listed.permits("other.example"), false);
  assert.equal(new HostCheck("127.0.0.1", ["*"]).permits("evil.example"), true);
  const wide = new HostCheck("0.0.0.0", [], undefined, true);
  assert.equal(wide.enabled, false);
  assert.equal(wide.permits("evil.example"), true);
  // Without keys, beyond loopback (a container published on 127.0.0.1): the guard is on.
  const keyless = new HostCheck("0.0.0.0", []);
  assert.equal(keyless.enabled, true);
  assert.equal(keyless.permits("evil.example"), false);
  assert.equal(keyless.permits("192.168.1.5:11434"), true);
  assert.equal(keyless.permits("homeserver.local"), true);
  const wideListed = new HostCheck("0.0.0.0", ["proxy.example.com"], undefined, true);
  assert.equal(wideListed.permits("evil.example"), false);
  assert.equal(wideListed.permits("proxy.example.com"), true);
  assert.equal(wideListed.permits("192.168.1.5:11434"), true);
  assert.equal(hostName("[::1]:80"), "::1");
  assert.equal(isLocalIp("::1"), true);
  assert.equal(isLocalIp("example"), false);
});

const CHAT = JSON.stringify({
  model: "Qwen/Qwen3-32B-TEE",
  stream: false,
  messages: [{ role: "user", content: "hi" }],
});

Deno.test("HTTP: a rebinding page (Host and Origin evil.example) is refused before any route", async () => {
  await using p = startProxy();
  const port = new URL(p.url).port;
  const evil = { host: `evil.example:${port}`, origin: `http://evil.example:${port}` };
  const json = { ...evil, "content-type": "application/json" };
  for (let i = 0; i < 4; i++) {
    const res = await exchange(p.url, {
      method: "POST",
      path: "/api/chat",
      headers: { ...json, "content-length": String(CHAT.length) },
      body: CHAT,
    });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get("access-control-allow-origin"), null);
    assert.match(res.body, /allowed_hosts/);
  }
  const copy = JSON.stringify({ source: "Qwen/Qwen3-32B-TEE", destination: "evil" });
  const made = await exchange(p.url, {
    method: "POST",
    path: "/api/copy",
    headers: { ...json, "content-length": String(copy.length) },
    body: copy,
  });
  assert.equal(made.status, 403);
  const ui = await exchange(p.url, { path: "/ui/data", headers: evil });
  assert.equal(ui.status, 403);
  assert.equal(p.upstream.calls("/v1/chat/completions").length, 0);
  assert.equal(p.deps.catalogue.aliasKind("evil"), undefined);
  assert.equal(p.logs.filter((l) => l.includes("refused a request for Host")).length, 1);
});

Deno.test("HTTP: local names and allowed_hosts are served", async () => {
  await using p = startProxy({ config: { allowed_hosts: ["proxy.example.com"] } });
  const port = new URL(p.url).port;
  for (const host of [`localhost:${port}`, "192.168.1.5:11434", "box.local", "proxy.example.com"]) {
    p.upstream.enqueue("/v1/chat/completions", { pieces: textStream(["ok"]) });
    const res = await exchange(p.url, {
      method: "POST",
      path: "/api/chat",
      headers: { host, "content-type": "application/json", "content-length": `${CHAT.length}` },
      body: CHAT,
    });
    assert.equal(res.status, 200, `${host}: ${res.body}`);
  }
});

Deno.test("HTTP: bound beyond loopback, a foreign Host is served with keys, refused without", async () => {
  const key = "proxy-key-0123456789abcdef";
  await using keyed = startProxy({ config: { host: "0.0.0.0", api_keys: [key] } });
  const served = await exchange(keyed.url, {
    path: "/api/version",
    headers: { host: "evil.example", authorization: `Bearer ${key}` },
  });
  assert.equal(served.status, 200);
  // The Docker recipe: 0.0.0.0 inside, published on 127.0.0.1, no keys. A rebinding page is out.
  await using keyless = startProxy({ config: { host: "0.0.0.0" } });
  const refused = await exchange(keyless.url, {
    method: "POST",
    path: "/api/chat",
    headers: { host: "evil.example:11434", origin: "http://evil.example:11434" },
    body: JSON.stringify({
      model: "Qwen/Qwen3-32B-TEE",
      messages: [{ role: "user", content: "x" }],
    }),
  });
  assert.equal(refused.status, 403);
  assert.equal(keyless.upstream.calls("/v1/chat/completions").length, 0);
});

Deno.test("PROXY_ALLOWED_HOSTS lists names as allowed_hosts does; the compose file sets it", async () => {
  const { configFromEnv } = await import("../../lib/config/env.ts");
  const listed = configFromEnv({ PROXY_ALLOWED_HOSTS: " proxy, *.lan ,," }).allowed_hosts;
  assert.deepEqual(listed, ["proxy", "*.lan"]);
  // In a container the proxy binds 0.0.0.0: with the listed name the rebinding guard is on.
  const check = new HostCheck("0.0.0.0", listed as string[], undefined, true);
  assert.equal(check.enabled, true);
  assert.equal(check.permits("proxy:11434"), true);
  assert.equal(check.permits("localhost:11434"), true);
  assert.equal(check.permits("evil.example"), false);
  const compose = await Deno.readTextFile(new URL("../../deploy/compose.yaml", import.meta.url));
  assert.match(compose, /PROXY_ALLOWED_HOSTS: proxy\n/);
});
