/**
 * Every request body passes the guard before a route reads it (lib/server/limits.ts): a body
 * cut short is a 400 in the door's shape, not a 500 with a stack trace; JSON nested too deep is
 * a 400 on every door and never reaches the upstream; a body that does not arrive within
 * `upload_timeout_seconds` (a client dripping bytes, or one that stopped) is answered 408
 * with `Connection: close`. (`Deno.serve` keeps the socket itself until the client closes it:
 * it offers no way to drop a connection whose body read is pending.)
 */
import assert from "node:assert/strict";
import { startProxy } from "../_helpers.ts";
import { connect, exchange, readAnswer } from "../_raw_http.ts";

const CHAT = "/v1/chat/completions";
const encoder = new TextEncoder();

Deno.test("HTTP: a body cut short is a 400 in the route's error shape, without a stack trace", async () => {
  await using p = startProxy();
  for (const path of ["/api/chat", "/v1/chat/completions", "/api/show"]) {
    const res = await exchange(p.url, {
      method: "POST",
      path,
      headers: { "content-type": "application/json", "content-length": "1000" },
      body: '{"model":"Qwen/Qwen3-32B-TEE",',
      closeWrite: true,
    });
    assert.equal(res.status, 400, `${path}: ${res.body}`);
    const body = JSON.parse(res.body);
    const message = path.startsWith("/v1") ? body.error.message : body.error;
    assert.match(message, /^the request body was cut short/);
  }
  assert.equal(p.upstream.calls(CHAT).length, 0);
  assert.ok(!p.logs.some((l) => / ERROR |internal error|\s{4}at /.test(l)), p.logs.join("\n"));
});

Deno.test("HTTP: JSON nested 100,000 levels deep is a 400 on every door and is never forwarded", async () => {
  await using p = startProxy();
  const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
  const ask = (extra: string) =>
    `{"model":"Qwen/Qwen3-32B-TEE","messages":[{"role":"user","content":"hi"}],${extra}}`;
  const cases: [string, string][] = [
    [CHAT, ask(`"x":${deep}`)],
    ["/api/chat", ask(`"options":{"stop":${deep}}`)],
    ["/api/embed", `{"model":"m","input":${deep}}`],
    ["/v1/messages", ask(`"max_tokens":10,"metadata":{"x":${deep}}`)],
    ["/v1/responses", `{"model":"Qwen/Qwen3-32B-TEE","input":"hi","metadata":{"x":${deep}}}`],
  ];
  for (const [path, body] of cases) {
    const res = await fetch(`${p.url}${path}`, { method: "POST", body });
    assert.equal(res.status, 400, path);
    const json = await res.json();
    const message: string = path.startsWith("/v1") ? json.error.message : json.error;
    assert.equal(typeof message, "string", `${path}: ${JSON.stringify(json)}`);
    assert.match(message, /nested deeper than 128 levels/);
  }
  assert.equal(p.upstream.calls(CHAT).length, 0);
});

Deno.test("HTTP: a client that stops sending its body gets a 408 at the timeout", async () => {
  await using p = startProxy({ config: { upload_timeout_seconds: 0.3 } });
  const conn = await connect(p.url);
  await conn.write(encoder.encode(
    'POST /api/chat HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 1000\r\n\r\n{"model":',
  ));
  const res = await readAnswer(conn, 5000);
  conn.close();
  assert.equal(res.status, 408);
  assert.equal(res.headers.get("connection"), "close");
  assert.match(
    JSON.parse(res.body).error,
    /did not arrive in time .*upload_timeout_seconds is 0\.3/,
  );
});

Deno.test("HTTP: a client dripping its body a byte at a time is cut off at the timeout", async () => {
  await using p = startProxy({ config: { upload_timeout_seconds: 0.4 } });
  const conn = await connect(p.url);
  await conn.write(encoder.encode(
    "POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 1000\r\n\r\n",
  ));
  let dripping = true;
  const drip = (async () => {
    while (dripping) {
      await new Promise((r) => setTimeout(r, 50));
      if (dripping) await conn.write(encoder.encode(" ")).catch(() => (dripping = false));
    }
  })();
  const res = await readAnswer(conn, 5000);
  dripping = false;
  await drip;
  conn.close();
  assert.equal(res.status, 408);
  assert.match(JSON.parse(res.body).error.message, /did not arrive in time/);
});

Deno.test("HTTP: a slow but steady upload outlives the timeout (a second more per KiB received)", async () => {
  await using p = startProxy({ config: { upload_timeout_seconds: 0.2 } });
  const json = `{"model":"Qwen/Qwen3-32B-TEE"${" ".repeat(6 * 1024)}}`;
  const conn = await connect(p.url);
  await conn.write(encoder.encode(
    `POST /api/show HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: ${json.length}\r\n\r\n`,
  ));
  for (let i = 0; i < json.length; i += 1024) {
    await new Promise((r) => setTimeout(r, 100));
    await conn.write(encoder.encode(json.slice(i, i + 1024)));
  }
  const res = await readAnswer(conn, 5000);
  conn.close();
  assert.equal(res.status, 200, res.body);
});
