// deno-lint-ignore-file no-console
/**
 * Slow and idle clients against a real `main.ts` (issue 9): clients dripping their request
 * headers, clients dripping a request body one byte every 5 s, and idle keep-alive connections
 * after one answered request. Every `--step` seconds it prints how many of each the proxy closed
 * and answered (and with which status), and the proxy's RSS. No upstream is needed: none of these
 * requests gets that far. Linux only (`/proc`); only 127.0.0.1 is contacted.
 *
 *   deno run -A bench/slow_clients.ts [--proxy main.ts] [--seconds 130] [--step 30]
 *     [--mix 200,200,2000]   # header drippers, body drippers, idle connections
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    proxy: { type: "string", default: new URL("../main.ts", import.meta.url).pathname },
    seconds: { type: "string", default: "130" },
    step: { type: "string", default: "30" },
    mix: { type: "string", default: "200,200,2000" },
  },
});
const seconds = Number(values.seconds);
const [headers, bodies, idle] = values.mix.split(",").map(Number) as [number, number, number];
const encoder = new TextEncoder();

const cwd = await Deno.makeTempDir({ prefix: "slow_clients_" });
const child = new Deno.Command(Deno.execPath(), {
  args: ["run", "--unstable-no-legacy-abort", "-A", values.proxy, "--port", "0"],
  cwd,
  env: {
    PATH: Deno.env.get("PATH") ?? "",
    HOME: Deno.env.get("HOME") ?? "",
    CHUTES_API_TOKEN: "cpk_bench_made_up_token",
    CHUTES_BASE_URL: "http://127.0.0.1:9/v1",
  },
  clearEnv: true,
  stdout: "piped",
  stderr: "null",
}).spawn();
let output = "";
void (async () => {
  for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) output += text;
})();
let port = 0;
for (let i = 0; i < 300 && port === 0; i++) {
  port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1] ?? 0);
  await new Promise((r) => setTimeout(r, 50));
}
if (port === 0) throw new Error(`the proxy did not start:\n${output}`);

async function rss(): Promise<string> {
  const status = await Deno.readTextFile(`/proc/${child.pid}/status`).catch(() => "");
  return `${Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024)} MB`;
}

interface Client {
  kind: "header" | "body" | "idle";
  closedAt?: number;
  answered?: string;
}
const clients: Client[] = [];
const conns: Deno.Conn[] = [];
const started = Date.now();
const over = () => Date.now() - started > seconds * 1000;

async function watch(conn: Deno.Conn, client: Client): Promise<void> {
  const buf = new Uint8Array(4096);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      const text = new TextDecoder().decode(buf.subarray(0, n));
      if (!client.answered && text.startsWith("HTTP/1.1 ")) client.answered = text.slice(9, 12);
    }
  } catch {
    // closed here at the end
  }
  client.closedAt ??= (Date.now() - started) / 1000;
}

async function drip(conn: Deno.Conn, client: Client, byte: string): Promise<void> {
  while (!client.closedAt && !over()) {
    await new Promise((r) => setTimeout(r, 5000));
    await conn.write(encoder.encode(byte)).catch(() => {});
  }
}

async function open(kind: Client["kind"]): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  conns.push(conn);
  const client: Client = { kind };
  clients.push(client);
  void watch(conn, client);
  if (kind === "header") {
    await conn.write(encoder.encode("GET /api/version HTTP/1.1\r\n"));
    void drip(conn, client, "x");
  } else if (kind === "body") {
    await conn.write(encoder.encode(
      "POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10000\r\n\r\n",
    ));
    void drip(conn, client, " ");
  } else {
    await conn.write(encoder.encode("GET /api/version HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  }
}

console.log(`proxy ${values.proxy}, RSS at start ${await rss()}`);
for (let i = 0; i < headers; i++) await open("header");
for (let i = 0; i < bodies; i++) await open("body");
for (let i = 0; i < idle; i++) await open("idle");

const summary = (kind: Client["kind"]) => {
  const of = clients.filter((c) => c.kind === kind);
  const statuses = [...new Set(of.map((c) => c.answered).filter(Boolean))].join(",");
  return `${kind}: ${of.filter((c) => c.closedAt).length}/${of.length} closed, ` +
    `${of.filter((c) => c.answered).length} answered${statuses ? ` (${statuses})` : ""}`;
};
const step = Number(values.step);
for (let t = step; t <= seconds; t += step) {
  await new Promise((r) => setTimeout(r, Math.max(0, t * 1000 - (Date.now() - started))));
  console.log(
    `t=${t}s ${summary("header")} | ${summary("body")} | ${summary("idle")} | RSS ${await rss()}`,
  );
}
for (const conn of conns) {
  try {
    conn.close();
  } catch {
    // already closed by the proxy
  }
}
child.kill("SIGKILL");
await child.status;
await Deno.remove(cwd, { recursive: true });
Deno.exit(0);
