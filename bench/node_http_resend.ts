/**
 * Why the upstream client is `fetch` and not `node:http` (issue 5 left it open): under Deno
 * 2.9, a `node:http` request on a reused keep-alive socket that is aborted before its answer
 * (the first-byte time-out, or a client who leaves while waiting) is sent to the server again,
 * and the second answer is handed to the aborted request. For the proxy that is a duplicate,
 * billable completion nobody reads. Measured with a `node:http` client (keep-alive, chunks of
 * one socket read passed on as one) it cost 11 / 36 / 17 µs per token in profiles (a) / (b) /
 * (c) against 20–27 / 42–48 / 28–35 with `fetch`; without keep-alive the duplicate goes away,
 * but (b) rose to 50 µs per token and its TTFT p99 to 840 ms.
 *
 *   deno run --allow-net=127.0.0.1 bench/node_http_resend.ts
 *
 * Prints how many requests the server saw for one aborted request, with and without keep-alive.
 * A fixed Deno prints 1 for both; then `node:http` is worth measuring again.
 */
import http from "node:http";

async function hitsForOneAbortedRequest(keepAlive: boolean): Promise<number> {
  let hits = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (r) => {
    hits++;
    await r.text();
    if (r.method === "POST" && hits === 2) await new Promise((done) => setTimeout(done, 500));
    return new Response(`answer ${hits}`);
  });
  const url = `http://127.0.0.1:${server.addr.port}/`;
  const agent = new http.Agent({ keepAlive });
  try {
    // A first request, so that the next one goes out on a reused socket.
    await new Promise<void>((done) => {
      http.get(url, { agent }, (res) => res.resume().on("end", done));
    });
    await new Promise<void>((done) => {
      const req = http.request(url, { method: "POST", agent }, (res) => {
        res.resume().on("end", done);
      });
      req.on("error", () => done());
      setTimeout(() => req.destroy(new Error("first-byte time-out")), 100);
      req.end("{}");
    });
    await new Promise((done) => setTimeout(done, 700));
    return hits - 1;
  } finally {
    agent.destroy();
    await server.shutdown();
  }
}

if (import.meta.main) {
  for (const keepAlive of [true, false]) {
    const hits = await hitsForOneAbortedRequest(keepAlive);
    // deno-lint-ignore no-console
    console.log(`keep-alive ${keepAlive}: the server saw ${hits} request(s) for one aborted POST`);
  }
}
