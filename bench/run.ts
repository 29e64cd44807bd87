/**
 * `deno task bench`: for each profile, starts a fake upstream, then measures in turn **direct**
 * (the load generator reading SSE from the upstream — the limit), the **pass-through** (the
 * floor for a Deno proxy) and **the proxy** (`main.ts`, NDJSON from `/api/chat`), each server
 * in a fresh process. Prints a table with ratios and the issue-11 targets, and writes the
 * results as JSON to `bench/results/<timestamp>.json`. See bench/README.md.
 *
 *   deno task bench                      quick set (under a minute)
 *   deno task bench --full               full set (a few minutes)
 *   deno task bench --profiles a,c -n 500 --cpu-prof
 *   deno task bench --proxy /tmp/snap/main.ts --label abc1234   measure another checkout
 *   deno task bench --before /tmp/snap/main.ts   that checkout as mode `before`, in the same run
 *   deno task bench --modes direct,passthrough,passthrough-js,proxy   add the converter floor
 *   deno task bench --profiles b,d --rounds 3 --after-wave 120   (b) three times, RSS after (d)
 */
import { parseArgs } from "node:util";
import type { LoadResult } from "./load.ts";
import { freePort, type Server, spawnDeno, startServer, stopServer } from "./processes.ts";
import { memoryMB } from "./proc.ts";
import { machine, printProfile, printTargets, targets } from "./report.ts";

/** One load shape. */
export interface Profile {
  id: string;
  title: string;
  concurrency: number;
  tokens: number;
  delayMs: number;
  /** Measured requests in the quick and the full set (warm-up requests come on top). */
  quick: number;
  full: number;
  warmup: number;
  /** Workers start spread over this many ms, so slow streams are out of phase. */
  rampMs: number;
}

/** The profiles of issues 5 and 11. */
export const PROFILES: Profile[] = [
  {
    id: "a",
    title: "saturation: C=64, 64 tokens, no delay",
    concurrency: 64,
    tokens: 64,
    delayMs: 0,
    quick: 1500,
    full: 10_000,
    warmup: 128,
    rampMs: 0,
  },
  {
    id: "b",
    title: "many slow streams: C=500, 50 tokens 20 ms apart",
    concurrency: 500,
    tokens: 50,
    delayMs: 20,
    quick: 1000,
    full: 5000,
    warmup: 500,
    rampMs: 1000,
  },
  {
    id: "c",
    title: "one client: C=1, 64 tokens, no delay",
    concurrency: 1,
    tokens: 64,
    delayMs: 0,
    quick: 300,
    full: 3000,
    warmup: 30,
    rampMs: 0,
  },
  {
    id: "e",
    title: "one paced client: C=1, 50 tokens 5 ms apart",
    concurrency: 1,
    tokens: 50,
    delayMs: 5,
    quick: 60,
    full: 120,
    warmup: 5,
    rampMs: 0,
  },
  {
    id: "d",
    title: "edge: C=1000, 50 tokens 20 ms apart",
    concurrency: 1000,
    tokens: 50,
    delayMs: 20,
    quick: 1000,
    full: 10_000,
    warmup: 1000,
    rampMs: 1000,
  },
];

/**
 * What can be measured on the same upstream; the first three by default. `passthrough-js` is
 * the pass-through with every chunk copied through JavaScript (the floor for a converter).
 */
export const MODES = ["direct", "passthrough", "passthrough-js", "before", "proxy"] as const;
const DEFAULT_MODES = "direct,passthrough,proxy";
export type Mode = typeof MODES[number];

/** One mode's figures: the load generator's plus the server process's memory and start-up. */
export interface ModeResult extends LoadResult {
  startupMs: number | null;
  idleRssMB: number | null;
  peakRssMB: number | null;
  /** RSS `--after-wave` seconds after the load ended (profile d only). */
  rssAfterWaveMB?: number | null;
  /** Total p99 of each round, with `--rounds` (the figures above are the first round's). */
  roundTotalP99Ms?: number[];
}

const here = (path: string) => new URL(path, import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MODE_URL: Record<Mode, string> = {
  direct: "/v1/chat/completions",
  passthrough: "/v1/chat/completions",
  "passthrough-js": "/v1/chat/completions",
  before: "/api/chat",
  proxy: "/api/chat",
};

/**
 * The flags of `deno task start` in the deno.json beside `entry` (permissions, V8 flags), so
 * each checkout is measured as it ships.
 */
function startFlags(entry: string): string[] {
  const file = new URL("deno.json", `file://${entry}`).pathname;
  const deno = JSON.parse(Deno.readTextFileSync(file)) as { tasks: Record<string, string> };
  const words = deno.tasks.start!.split(/\s+/).slice(2); // drop `deno run`
  return words.slice(0, words.findIndex((w) => !w.startsWith("--")));
}

interface RunOptions {
  full: boolean;
  /** The proxy's entry point (default: this checkout's main.ts). */
  proxy: string;
  /** Another checkout's main.ts, measured as mode `before` in the same run. */
  before: string | undefined;
  requests: number | undefined;
  cpuProf: string | undefined;
  maxSeconds: number;
  /** Seconds to wait after (d) before reading the proxy's RSS again (0: not measured). */
  afterWave: number;
  /** Rounds of (b), for the median of its total p99 ratio. */
  rounds: number;
}

function startMode(mode: Mode, upstream: Server, p: Profile, o: RunOptions): Promise<Server> {
  const port = freePort();
  if (mode === "passthrough" || mode === "passthrough-js") {
    const args = ["--port", `${port}`, "--upstream", `http://127.0.0.1:${upstream.port}`];
    if (mode === "passthrough-js") args.push("--js");
    return startServer(mode, port, [
      "run",
      "--allow-net=127.0.0.1",
      here("./passthrough.ts"),
      ...args,
    ]);
  }
  const entry = mode === "before" ? o.before! : o.proxy;
  const prof = o.cpuProf
    ? ["--cpu-prof", `--cpu-prof-dir=${o.cpuProf}`, `--cpu-prof-name=${mode}-${p.id}.cpuprofile`]
    : [];
  // An empty working directory: no config.json, .env or aliases.json of the developer's.
  return startServer(mode, port, [
    "run",
    ...startFlags(entry),
    ...prof,
    entry,
    "--port",
    `${port}`,
  ], {
    cwd: here("./results/.cwd"),
    env: {
      CHUTES_API_TOKEN: "cpk_bench.not-a-real-token",
      CHUTES_BASE_URL: `http://127.0.0.1:${upstream.port}/v1`,
    },
  });
}

async function runLoad(
  url: string,
  mode: Mode,
  p: Profile,
  pids: Record<string, number>,
  o: RunOptions,
): Promise<LoadResult> {
  const requests = o.requests ?? (o.full ? p.full : p.quick);
  const timeoutMs = 60_000;
  const { child, stderrTail } = spawnDeno([
    "run",
    "--allow-net=127.0.0.1",
    "--allow-run=cat",
    here("./load.ts"),
    "--url",
    url,
    "--format",
    MODE_URL[mode] === "/api/chat" ? "ndjson" : "sse",
    "-c",
    `${p.concurrency}`,
    "-n",
    `${requests}`,
    "--warmup",
    `${p.warmup}`,
    "--tokens",
    `${p.tokens}`,
    "--ramp-ms",
    `${p.rampMs}`,
    "--max-seconds",
    `${o.maxSeconds}`,
    "--timeout-ms",
    `${timeoutMs}`,
    ...Object.entries(pids).map(([name, pid]) => `--pid=${name}=${pid}`),
  ], { stdout: "piped" });
  const killer = setTimeout(() => child.kill("SIGKILL"), o.maxSeconds * 1000 + timeoutMs + 30_000);
  const [status, stdout] = await Promise.all([child.status, new Response(child.stdout).text()]);
  clearTimeout(killer);
  const text = stdout.trim();
  if (!status.success || text === "") throw new Error(`load generator failed:\n${stderrTail()}`);
  return JSON.parse(text) as LoadResult;
}

async function runMode(mode: Mode, p: Profile, upstream: Server, o: RunOptions) {
  const server = mode === "direct" ? undefined : await startMode(mode, upstream, p, o);
  try {
    let idleRssMB: number | null = null;
    if (server) {
      await sleep(300);
      idleRssMB = memoryMB(server.pid)?.rss ?? null;
    }
    const port = server?.port ?? upstream.port;
    const pids: Record<string, number> = { upstream: upstream.pid };
    if (server) pids.server = server.pid;
    const url = `http://127.0.0.1:${port}${MODE_URL[mode]}`;
    const load = await runLoad(url, mode, p, pids, o);
    const peakRssMB = server ? memoryMB(server.pid)?.peak ?? null : null;
    const result: ModeResult = {
      ...load,
      startupMs: server?.startupMs ?? null,
      idleRssMB,
      peakRssMB,
    };
    if (p.id === "b" && o.rounds > 1) {
      result.roundTotalP99Ms = [load.totalMs.p99];
      for (let round = 2; round <= o.rounds; round++) {
        result.roundTotalP99Ms.push((await runLoad(url, mode, p, pids, o)).totalMs.p99);
      }
    }
    if (server && p.id === "d" && o.afterWave > 0) {
      await sleep(o.afterWave * 1000);
      result.rssAfterWaveMB = memoryMB(server.pid)?.rss ?? null;
    }
    return result;
  } finally {
    if (server) await stopServer(server);
  }
}

async function runProfile(p: Profile, modes: readonly Mode[], o: RunOptions) {
  const port = freePort();
  const upstream = await startServer("upstream", port, [
    "run",
    "--allow-net=127.0.0.1",
    here("./fake_upstream.ts"),
    "--port",
    `${port}`,
    "--tokens",
    `${p.tokens}`,
    "--delay-ms",
    `${p.delayMs}`,
  ]);
  const results: Partial<Record<Mode, ModeResult>> = {};
  try {
    for (const mode of modes) results[mode] = await runMode(mode, p, upstream, o);
  } finally {
    await stopServer(upstream);
  }
  return results;
}

/** `git describe --always --dirty` of the checkout holding `file`, or null outside git. */
async function describeCheckout(file: string): Promise<string | null> {
  try {
    const out = await new Deno.Command("git", {
      args: ["describe", "--always", "--dirty"],
      cwd: new URL(".", `file://${file}`).pathname,
      stdout: "piped",
      stderr: "null",
    }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  } catch {
    return null;
  }
}

function parseOptions() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      full: { type: "boolean", default: false },
      profiles: { type: "string", default: "a,b,c,e,d" },
      modes: { type: "string", default: DEFAULT_MODES },
      requests: { type: "string", short: "n" },
      "cpu-prof": { type: "boolean", default: false },
      "max-seconds": { type: "string", default: "120" },
      "after-wave": { type: "string", default: "0" },
      rounds: { type: "string", default: "1" },
      proxy: { type: "string", default: here("../main.ts") },
      before: { type: "string" },
      label: { type: "string" },
    },
  });
  const ids = values.profiles.split(",");
  const profiles = PROFILES.filter((p) => ids.includes(p.id));
  const chosen = values.modes.split(",");
  if (values.before && !chosen.includes("before")) chosen.push("before");
  const modes = MODES.filter((m) => chosen.includes(m));
  if (profiles.length === 0 || modes.length === 0) throw new Error("no profile or mode chosen");
  return { ...values, profiles, modes };
}

async function main(): Promise<void> {
  const flags = parseOptions();
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const resultsDir = here("./results");
  await Deno.mkdir(`${resultsDir}/.cwd`, { recursive: true });
  const o: RunOptions = {
    full: flags.full,
    proxy: flags.proxy,
    before: flags.before,
    requests: flags.requests === undefined ? undefined : Number(flags.requests),
    cpuProf: flags["cpu-prof"] ? `${resultsDir}/prof-${stamp}` : undefined,
    maxSeconds: Number(flags["max-seconds"]),
    afterWave: Number(flags["after-wave"]),
    rounds: Math.max(1, Number(flags.rounds)),
  };
  const about = {
    ...await machine(),
    proxyVersion: flags.label ?? await describeCheckout(o.proxy),
    ...(o.before ? { beforeVersion: await describeCheckout(o.before) } : {}),
  };
  const output: Record<string, unknown> = {
    started: new Date().toISOString(),
    machine: about,
    options: { ...o, profiles: flags.profiles.map((p) => p.id), modes: flags.modes },
  };
  const profiles: Record<string, unknown> = {};
  const all: Record<string, Partial<Record<Mode, ModeResult>>> = {};
  for (const p of flags.profiles) {
    const results = await runProfile(p, flags.modes, o);
    all[p.id] = results;
    profiles[p.id] = { profile: p, results };
    printProfile(p, results);
  }
  const verdicts = targets(all);
  printTargets(verdicts);
  output.profiles = profiles;
  output.targets = verdicts;
  output.finished = new Date().toISOString();
  output.loadavgAtEnd = Deno.loadavg();
  const file = `${resultsDir}/${stamp}.json`;
  await Deno.writeTextFile(file, `${JSON.stringify(output, null, 2)}\n`);
  // deno-lint-ignore no-console
  console.log(`\nresults: ${file}${o.cpuProf ? `\nCPU profiles: ${o.cpuProf}` : ""}`);
}

if (import.meta.main) await main();
