/**
 * The transport's promise: no request is ever sent twice. An upstream that reads a POST on a
 * reused keep-alive connection and then resets it (RST) or closes it (FIN) must see that POST
 * exactly once, for chat (streamed and not, Ollama and OpenAI doors) and for embeddings, and
 * the client gets a 502 saying why it was not sent again; `fetch` sent it twice. Also: a POST
 * whose connection is refused before it goes out is still retried, a client that leaves while
 * waiting aborts the upstream request, and the proxy variables choose the route.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { FAKE_MODELS, FakeUpstream, textStream } from "../_fake_upstream.ts";
import { post, startProxy, TEST_TOKEN } from "../_helpers.ts";
import { spawnMain } from "../_process.ts";
import { proxySettings, undiciTransport } from "../../lib/upstream/undici.ts";

const QWEN = "Qwen/Qwen3-32B-TEE";
const BGE = "BAAI/bge-m3";
const WARM = "warm";
const ONCE = "bill me once";

/** One request as the raw upstream read it. */
interface Seen {
  method: string;
  path: string;
  body: Record<string, unknown> | undefined;
  /** True when an earlier request was served on the same connection. */
  reused: boolean;
}

const sseAnswer = [
  `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: "hi" } }] })}\n\n`,
  `data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] })}\n\n`,
  "data: [DONE]\n\n",
].join("");

/** What a well-behaved upstream answers `seen` with: [content type, body]. */
function goodAnswer(seen: Seen): [string, string] {
  if (seen.method === "GET") return ["application/json", JSON.stringify({ data: FAKE_MODELS })];
  if (seen.path.endsWith("/embeddings")) {
    return ["application/json", JSON.stringify({ data: [{ index: 0, embedding: [0.6, 0.8] }] })];
  }
  if (seen.body?.stream) return ["text/event-stream", sseAnswer];
  const message = { role: "assistant", content: "hi" };
  return [
    "application/json",
    JSON.stringify({ choices: [{ index: 0, message, finish_reason: "stop" }] }),
  ];
}

/**
 * A raw HTTP/1.1 upstream on `node:net`: it answers every GET and every POST that mentions
 * `warm` with keep-alive, and reads any other POST whole, then resets or closes its connection.
 */
function droppingUpstream(drop: "reset" | "close") {
  const seen: Seen[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let buffer = Buffer.alloc(0);
    let served = 0;
    socket.on("data", (data: Buffer) => {
      buffer = Buffer.concat([buffer, data]);
      for (;;) {
        const end = buffer.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = buffer.subarray(0, end).toString("latin1");
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffer.length < end + 4 + length) return;
        const text = buffer.subarray(end + 4, end + 4 + length).toString("utf8");
        buffer = buffer.subarray(end + 4 + length);
        const [method = "", target = ""] = head.split(" ");
        const request: Seen = {
          method,
          path: target,
          body: text ? JSON.parse(text) : undefined,
          reused: served > 0,
        };
        seen.push(request);
        if (method === "POST" && !text.includes(WARM)) {
          if (drop === "reset") socket.resetAndDestroy();
          else socket.destroy();
          return;
        }
        served++;
        const [type, body] = goodAnswer(request);
        socket.write(
          `HTTP/1.1 200 OK\r\ncontent-type: ${type}\r\ncontent-length: ${
            Buffer.byteLength(body)
          }\r\nconnection: keep-alive\r\n\r\n${body}`,
        );
      }
    });
  });
  const listening = new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    listening,
    get url() {
      return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/v1`;
    },
    /** The POSTs the test did not mark as warm-up. */
    billed: () => seen.filter((s) => s.method === "POST" && !JSON.stringify(s.body).includes(WARM)),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A request through the proxy, by door and kind. */
interface Case {
  name: string;
  path: string;
  body: (text: string) => Record<string, unknown>;
}

const chat = (text: string) => ({ model: QWEN, messages: [{ role: "user", content: text }] });
const CASES: Case[] = [
  { name: "/api/chat streamed", path: "/api/chat", body: (t) => chat(t) },
  {
    name: "/api/chat not streamed",
    path: "/api/chat",
    body: (t) => ({ ...chat(t), stream: false }),
  },
  {
    name: "/v1/chat/completions streamed",
    path: "/v1/chat/completions",
    body: (t) => ({ ...chat(t), stream: true }),
  },
  { name: "/v1/chat/completions not streamed", path: "/v1/chat/completions", body: chat },
  { name: "/api/embed", path: "/api/embed", body: (t) => ({ model: BGE, input: [t] }) },
  { name: "/v1/embeddings", path: "/v1/embeddings", body: (t) => ({ model: BGE, input: t }) },
];

for (const drop of ["reset", "close"] as const) {
  Deno.test(`a POST read by the upstream, which then ${drop}s the reused connection, is sent once`, async () => {
    const upstream = droppingUpstream(drop);
    await upstream.listening;
    try {
      await using p = startProxy({ config: { base_url: upstream.url } });
      for (const c of CASES) {
        const warm = await post(p, c.path, c.body(WARM));
        assert.equal(warm.status, 200, `${c.name} warm-up: ${await warm.text()}`);
        const before = upstream.billed().length;
        const res = await post(p, c.path, c.body(ONCE));
        const text = await res.text();
        assert.equal(res.status, 502, `${c.name}: ${text}`);
        assert.match(text, /dropped the connection after receiving the request/, c.name);
        assert.match(text, /it was not sent again/, c.name);
        // A re-send would come at once; give it time to arrive all the same.
        await new Promise((r) => setTimeout(r, 50));
        const billed = upstream.billed().slice(before);
        assert.equal(billed.length, 1, `${c.name}: the upstream saw ${billed.length} POSTs`);
        assert.ok(billed[0]!.reused, `${c.name}: the POST did not go out on a reused connection`);
      }
      assert.equal(p.deps.upstream.connectionsLost, CASES.length);
      assert.ok(
        p.logs.some((l) => /WARN upstream \/chat\/completions: the connection failed/.test(l)),
      );
    } finally {
      await upstream.close();
    }
  });
}

Deno.test("proxySettings: lowercase names first, NO_PROXY only beside a proxy", () => {
  assert.deepEqual(proxySettings({}), {});
  assert.deepEqual(proxySettings({ NO_PROXY: "localhost" }), {});
  assert.deepEqual(
    proxySettings({ HTTPS_PROXY: "http://a:3128", https_proxy: "http://b:3128" }),
    { httpsProxy: "http://b:3128", noProxy: "" },
  );
  assert.deepEqual(
    proxySettings({ HTTP_PROXY: "http://a:3128", no_proxy: "localhost,.lan" }),
    { httpProxy: "http://a:3128", noProxy: "localhost,.lan" },
  );
});

/** Runs `openssl` with `args` in `dir`; throws with its message when it fails. */
async function openssl(dir: string, args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", { args, cwd: dir, stdout: "null", stderr: "piped" })
    .output();
  if (!out.success) throw new Error(`openssl ${args[0]}: ${new TextDecoder().decode(out.stderr)}`);
}

/**
 * A throw-away certificate authority and a certificate for 127.0.0.1 signed by it, made for
 * this test run in `dir` (P-256 keys, valid one day); nothing here is ever committed.
 */
async function testCertificates(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  await openssl(dir, [
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "1",
    "-subj",
    "/CN=ollama-chutes-proxy test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign",
  ]);
  await openssl(dir, [
    "req",
    ...ec,
    "-keyout",
    "srv.key",
    "-out",
    "srv.csr",
    "-subj",
    "/CN=127.0.0.1",
  ]);
  await Deno.writeTextFile(
    `${dir}/ext.cnf`,
    "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
  );
  await openssl(dir, [
    "x509",
    "-req",
    "-in",
    "srv.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "srv.pem",
    "-days",
    "1",
    "-extfile",
    "ext.cnf",
  ]);
  const read = (name: string) => Deno.readTextFile(`${dir}/${name}`);
  return { ca: await read("ca.pem"), cert: await read("srv.pem"), key: await read("srv.key") };
}

/** An HTTP proxy that only tunnels (`CONNECT host:port`), recording each target. */
function connectProxy() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const targets: string[] = [];
  const open = new Set<Deno.Conn>();
  const tunnel = async (client: Deno.Conn) => {
    open.add(client);
    let head = "";
    const buffer = new Uint8Array(4096);
    while (!head.includes("\r\n\r\n")) {
      const n = await client.read(buffer);
      if (n === null) return client.close();
      head += new TextDecoder().decode(buffer.subarray(0, n));
    }
    const target = /^CONNECT (\S+):(\d+) HTTP\/1\.1\r\n/.exec(head);
    if (!target) {
      await client.write(new TextEncoder().encode("HTTP/1.1 405 Only CONNECT\r\n\r\n"));
      return client.close();
    }
    targets.push(`${target[1]}:${target[2]}`);
    const server = await Deno.connect({ hostname: target[1]!, port: Number(target[2]) });
    open.add(server);
    await client.write(new TextEncoder().encode("HTTP/1.1 200 Connection Established\r\n\r\n"));
    await Promise.allSettled([
      client.readable.pipeTo(server.writable),
      server.readable.pipeTo(client.writable),
    ]);
  };
  const accepting = (async () => {
    for await (const conn of listener) tunnel(conn).catch(() => {});
  })();
  return {
    url: `http://127.0.0.1:${listener.addr.port}`,
    targets,
    close: async () => {
      listener.close();
      await accepting;
      for (const conn of open) {
        try {
          conn.close();
        } catch { /* already closed */ }
      }
    },
  };
}

const hasOpenssl = await new Deno.Command("openssl", { args: ["version"], stdout: "null" })
  .output().then((o) => o.success, () => false);

Deno.test({
  name: "TLS: a self-signed upstream is refused, and trusted with its CA from upstream_ca_file",
  ignore: !hasOpenssl,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "tls_test_" });
    try {
      const certs = await testCertificates(dir);
      const tls = { cert: certs.cert, key: certs.key };
      {
        const upstream = FakeUpstream.start({ tls });
        await using p = startProxy({
          upstream,
          config: { base_url: upstream.url, models: [QWEN] },
        });
        const res = await post(p, "/api/chat", { ...chat("hi"), stream: false });
        assert.equal(res.status, 502);
        assert.match((await res.json()).error, /cannot reach the upstream at https:.*cert/i);
        assert.equal(upstream.requests.length, 0);
      }
      const upstream = FakeUpstream.start({ tls });
      const config = { base_url: upstream.url, models: [QWEN] };
      await using p = startProxy({ upstream, config, app: { upstreamCa: certs.ca } });
      upstream.enqueue("/v1/chat/completions", { pieces: textStream(["secure"]) });
      const res = await post(p, "/api/chat", { ...chat("hi"), stream: false });
      assert.equal(res.status, 200, await res.clone().text());
      assert.equal((await res.json()).message.content, "secure");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "main.ts: upstream_ca_file adds to the usual roots, and HTTPS_PROXY tunnels every upstream",
  ignore: !hasOpenssl || Deno.build.os === "windows",
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "tls_test_" });
    const tunnel = connectProxy();
    // "public" stands for a public authority: Deno's DENO_CERT adds it to the usual roots.
    await Deno.mkdir(`${dir}/public`);
    await Deno.mkdir(`${dir}/local`);
    const publicCerts = await testCertificates(`${dir}/public`);
    const localCerts = await testCertificates(`${dir}/local`);
    await using chutes = FakeUpstream.start({ tls: publicCerts });
    await using local = FakeUpstream.start({ tls: localCerts });
    local.models = [{ id: "local/model" }];
    const proxy = await spawnMain(["--port", "0"], {
      CHUTES_API_TOKEN: TEST_TOKEN,
      CHUTES_BASE_URL: chutes.url,
      DENO_CERT: `${dir}/public/ca.pem`,
      HTTPS_PROXY: tunnel.url,
    }, {
      prepare: async (cwd) => {
        await Deno.writeTextFile(`${cwd}/local-ca.pem`, localCerts.ca);
        await Deno.writeTextFile(
          `${cwd}/config.json`,
          JSON.stringify({
            upstream_ca_file: "local-ca.pem",
            upstreams: [{ name: "local", base_url: local.url, api_token: null }],
          }),
        );
      },
    });
    try {
      const [, port] = await proxy.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)/, 15_000);
      for (const [upstream, model] of [[chutes, QWEN], [local, "local/model"]] as const) {
        upstream.enqueue("/v1/chat/completions", { pieces: textStream([`from ${model}`]) });
        const res = await fetch(`http://127.0.0.1:${port}/api/chat`, {
          method: "POST",
          body: JSON.stringify({
            model,
            messages: [{ role: "user", content: "hi" }],
            stream: false,
          }),
        });
        assert.equal(res.status, 200, await res.clone().text());
        assert.equal((await res.json()).message.content, `from ${model}`);
        // The start-up token check posts a probe too; count this chat's model only.
        const chats = upstream.calls("/v1/chat/completions").filter((c) => c.body?.model === model);
        assert.equal(chats.length, 1);
      }
      const hosts = new Set([new URL(chutes.url).host, new URL(local.url).host]);
      assert.deepEqual(new Set(tunnel.targets), hosts);
    } finally {
      await proxy.stop("SIGKILL");
      await tunnel.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("the pool keeps connections alive for reuse and opens no more than its limit per origin", async () => {
  let open = 0;
  let most = 0;
  let accepted = 0;
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const release: (() => void)[] = [];
  const serve = async (conn: Deno.Conn) => {
    open++;
    most = Math.max(most, open);
    const buffer = new Uint8Array(4096);
    try {
      while ((await conn.read(buffer)) !== null) {
        await new Promise<void>((resolve) => release.push(resolve));
        await conn.write(new TextEncoder().encode(
          "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok",
        ));
      }
    } catch {
      /* closed */
    } finally {
      open--;
      conn.close();
    }
  };
  const accepting = (async () => {
    for await (const conn of listener) {
      accepted++;
      serve(conn);
    }
  })();
  const transport = undiciTransport({ connections: 2 });
  const url = new URL(`http://127.0.0.1:${listener.addr.port}/v1/models`);
  const get = async () => {
    const answer = await transport.send({ method: "GET", url, headers: {}, signals: [] });
    while (await answer.body.read());
    return answer.status;
  };
  try {
    let answered = 0;
    const five = Array.from({ length: 5 }, () => get().finally(() => answered++));
    while (answered < 5) {
      await new Promise((r) => setTimeout(r, 20)); // time for a third connection, were it opened
      release.splice(0).forEach((go) => go());
    }
    assert.deepEqual(await Promise.all(five), [200, 200, 200, 200, 200]);
    assert.equal(most, 2);
    assert.equal(accepted, 2, "the five requests share two kept-alive connections");
  } finally {
    release.forEach((go) => go());
    await transport.close();
    listener.close();
    await accepting;
  }
});

Deno.test({
  name: "HTTPS upstreams are spoken to in HTTP/1.1, even when they offer HTTP/2",
  ignore: !hasOpenssl,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "tls_test_" });
    const certs = await testCertificates(dir);
    const listener = Deno.listenTls({
      hostname: "127.0.0.1",
      port: 0,
      cert: certs.cert,
      key: certs.key,
      alpnProtocols: ["h2", "http/1.1"],
    });
    const negotiated: (string | null)[] = [];
    const serving = (async () => {
      for await (const conn of listener) {
        negotiated.push((await conn.handshake()).alpnProtocol);
        await conn.read(new Uint8Array(4096));
        await conn.write(new TextEncoder().encode(
          "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
        ));
        conn.close();
      }
    })();
    const transport = undiciTransport({ ca: certs.ca });
    try {
      const url = new URL(`https://127.0.0.1:${listener.addr.port}/v1/models`);
      const answer = await transport.send({ method: "GET", url, headers: {}, signals: [] });
      assert.equal(answer.status, 200);
      assert.equal(new TextDecoder().decode(await answer.body.read()), "ok");
      assert.deepEqual(negotiated, ["http/1.1"]);
    } finally {
      await transport.close();
      listener.close();
      await serving.catch(() => {});
      await Deno.remove(dir, { recursive: true });
    }
  },
});
