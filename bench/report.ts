// deno-lint-ignore-file no-console
/**
 * The benchmark's report: the machine it ran on, one table per profile with absolute figures
 * and the two ratios that survive a noisy shared machine (proxy / pass-through and
 * pass-through / direct), and the issue-11 targets, each marked met, not met, or for information.
 */
import type { Mode, ModeResult, Profile } from "./run.ts";

type Results = Partial<Record<Mode, ModeResult>>;

/** What the run's machine looks like, for the results file and the README. */
export async function machine(): Promise<Record<string, unknown>> {
  let cpu = "unknown";
  try {
    const out = await new Deno.Command("cat", { args: ["/proc/cpuinfo"], stdout: "piped" })
      .output();
    cpu = /^model name\s*:\s*(.*)$/m.exec(new TextDecoder().decode(out.stdout))?.[1] ?? cpu;
  } catch { /* not Linux */ }
  const memory = Deno.systemMemoryInfo();
  return {
    cores: navigator.hardwareConcurrency,
    cpu,
    memoryGB: Math.round(memory.total / 2 ** 30),
    loadavgAtStart: Deno.loadavg(),
    kernel: Deno.osRelease(),
    deno: Deno.version.deno,
    v8: Deno.version.v8,
  };
}

const fixed = (n: number | null | undefined, digits = 1) =>
  n === null || n === undefined || !Number.isFinite(n) ? "—" : n.toFixed(digits);
const ratio = (a: number | null | undefined, b: number | null | undefined) =>
  a == null || b == null || !Number.isFinite(a) || !Number.isFinite(b) || b === 0 ? null : a / b;
const times = (r: number | null) => (r === null ? "—" : `${r.toFixed(2)}×`);

/** Share of the whole machine (all cores) used by every measured process in the window. */
function machineShare(r: ModeResult): number | null {
  const used = Object.values(r.cpuMicros).reduce<number>((sum, v) => sum + (v ?? 0), 0);
  return (used / (r.windowMs * 1000 * navigator.hardwareConcurrency)) * 100;
}

const COLUMNS: [string, number, (r: ModeResult) => string][] = [
  ["req/s", 8, (r) => fixed(r.reqPerSec, 0)],
  ["tok/s", 9, (r) => fixed(r.tokPerSec, 0)],
  ["ttft p50", 9, (r) => fixed(r.ttftMs.p50, 2)],
  ["ttft p99", 9, (r) => fixed(r.ttftMs.p99, 2)],
  ["total p50", 10, (r) => fixed(r.totalMs.p50, 1)],
  ["total p99", 10, (r) => fixed(r.totalMs.p99, 1)],
  ["gap p99", 8, (r) => fixed(r.gapMs?.p99, 2)],
  ["fail", 5, (r) => `${r.failures}${r.truncated ? "!" : ""}`],
  ["srv µs/tok", 11, (r) => fixed(r.cpuMicrosPerToken.server)],
  ["up µs/tok", 10, (r) => fixed(r.cpuMicrosPerToken.upstream)],
  ["load µs/tok", 12, (r) => fixed(r.cpuMicrosPerToken.load)],
  ["CPU %", 6, (r) => fixed(machineShare(r), 0)],
  ["peak MB", 8, (r) => fixed(r.peakRssMB, 0)],
  ["idle MB", 8, (r) => fixed(r.idleRssMB, 0)],
  ["start ms", 9, (r) => fixed(r.startupMs, 0)],
];

/** Prints one profile's table and ratios. */
export function printProfile(p: Profile, results: Results): void {
  const measured = Object.values(results)[0]?.requests ?? 0;
  console.log(`\n(${p.id}) ${p.title} — ${measured} requests measured per mode`);
  console.log(["mode".padEnd(15), ...COLUMNS.map(([h, w]) => h.padStart(w))].join(""));
  for (const [mode, r] of Object.entries(results)) {
    console.log([mode.padEnd(15), ...COLUMNS.map(([, w, f]) => f(r).padStart(w))].join(""));
  }
  const { direct, passthrough, proxy } = results;
  const jsFloor = results["passthrough-js"];
  const line = (label: string, a: ModeResult | undefined, b: ModeResult | undefined) => {
    if (!a || !b) return;
    const parts = [
      `tok/s ${times(ratio(a.tokPerSec, b.tokPerSec))}`,
      `ttft p50 ${times(ratio(a.ttftMs.p50, b.ttftMs.p50))}`,
      `ttft p99 ${times(ratio(a.ttftMs.p99, b.ttftMs.p99))}`,
      `total p50 ${times(ratio(a.totalMs.p50, b.totalMs.p50))}`,
      `total p99 ${times(ratio(a.totalMs.p99, b.totalMs.p99))}`,
    ];
    const cpu = ratio(a.cpuMicrosPerToken.server, b.cpuMicrosPerToken.server);
    if (cpu !== null) parts.push(`srv µs/tok ${times(cpu)}`);
    const rss = ratio(a.peakRssMB, b.peakRssMB);
    if (rss !== null) parts.push(`peak RSS ${times(rss)}`);
    console.log(`  ${label.padEnd(26)}${parts.join(", ")}`);
  };
  line("proxy / pass-through:", proxy, passthrough);
  line("before / pass-through:", results.before, passthrough);
  line("proxy / before:", proxy, results.before);
  line("pass-through / direct:", passthrough, direct);
  line("proxy / direct:", proxy, direct);
  line("proxy / pass-through-js:", proxy, jsFloor);
  line("pass-through-js / p-t:", jsFloor, passthrough);
}

/** One issue-11 target and how this run did: `met` is null for figures reported only. */
export interface Verdict {
  target: string;
  value: string;
  met: boolean | null;
}

function check(target: string, value: number | null, limit: number, unit = ""): Verdict {
  return {
    target,
    value: value === null ? "not measured" : `${value.toFixed(2)}${unit}`,
    met: value === null ? null : value <= limit,
  };
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor((xs.length - 1) / 2)];
const cpu = (r: ModeResult | undefined) => r?.cpuMicrosPerToken.server ?? null;

/** The added latency of one client against direct: time to first token and inter-token gap. */
function addedLatency(id: string, r: Results): Verdict[] {
  const { proxy, direct } = r;
  if (!proxy || !direct) return [];
  return [
    check(
      `(${id}) added TTFT p50 vs direct ≤ 0.3 ms`,
      proxy.ttftMs.p50 - direct.ttftMs.p50,
      0.3,
      " ms",
    ),
    check(
      `(${id}) added TTFT p99 vs direct ≤ 1 ms`,
      proxy.ttftMs.p99 - direct.ttftMs.p99,
      1,
      " ms",
    ),
    check(
      `(${id}) added inter-token gap p99 vs direct ≤ 0.1 ms`,
      proxy.gapMs.p99 - direct.gapMs.p99,
      0.1,
      " ms",
    ),
  ];
}

/** Evaluates the issue-11 targets on whatever profiles were run. */
export function targets(all: Record<string, Results>): Verdict[] {
  const out: Verdict[] = [];
  const { a, b, c, d, e } = all;
  if (a?.proxy) {
    out.push(
      check("(a) proxy CPU ≤ 1.3× pass-through", ratio(cpu(a.proxy), cpu(a.passthrough)), 1.3, "×"),
    );
    const share = ratio(a.proxy.tokPerSec, a.passthrough?.tokPerSec);
    out.push({
      target: "(a) proxy throughput ≥ 0.9× pass-through",
      value: share === null ? "not measured" : `${share.toFixed(2)}×`,
      met: share === null ? null : share >= 0.9,
    });
    const load = a.proxy.cpuMicrosPerToken.load ?? null;
    out.push({
      target: "(a) load generator CPU µs/token (server's beside it)",
      value: `${fixed(load, 1)} (${fixed(cpu(a.proxy), 1)})`,
      met: null,
    });
  }
  if (b?.proxy) {
    out.push(check("(b) zero failures", b.proxy.failures, 0));
    out.push(
      check("(b) proxy CPU ≤ 1.6× pass-through", ratio(cpu(b.proxy), cpu(b.passthrough)), 1.6, "×"),
    );
    const rounds = b.proxy.roundTotalP99Ms;
    const through = b.passthrough?.roundTotalP99Ms;
    const p99 = rounds && through && rounds.length === through.length
      ? median(rounds.map((x, i) => x / through[i]!))!
      : ratio(b.proxy.totalMs.p99, b.passthrough?.totalMs.p99);
    const label = rounds ? `median of ${rounds.length} rounds` : "one round";
    out.push(check(`(b) total p99 ≤ 1.1× pass-through (${label})`, p99, 1.1, "×"));
    out.push(check("(b) peak RSS ≤ 150 MB", b.proxy.peakRssMB, 150, " MB"));
  }
  if (c) out.push(...addedLatency("c", c));
  if (e) out.push(...addedLatency("e", e));
  if (d?.proxy) {
    out.push(check("(d) zero failures", d.proxy.failures, 0));
    out.push(check("(d) peak RSS ≤ 250 MB", d.proxy.peakRssMB, 250, " MB"));
    const p99 = (r: ModeResult | undefined) => fixed(r?.totalMs.p99, 0);
    out.push({
      target: "(d) where latency degrades (total p99 ms: direct / pass-through / proxy)",
      value: `${p99(d.direct)} / ${p99(d.passthrough)} / ${p99(d.proxy)}`,
      met: null,
    });
    const after = d.proxy.rssAfterWaveMB;
    if (after != null && d.proxy.idleRssMB != null) {
      out.push(
        check(
          "(d) RSS after the wave within 20 % of idle",
          after / d.proxy.idleRssMB,
          1.2,
          "× idle",
        ),
      );
    }
  }
  const proxies = Object.values(all).map((r) => r.proxy).filter((r) => r !== undefined);
  const idle = proxies.map((r) => r.idleRssMB).filter((x) => x !== null);
  const start = proxies.map((r) => r.startupMs).filter((x) => x !== null);
  if (idle.length > 0) {
    out.push(check("idle RSS ≤ 50 MB (median of starts)", median(idle)!, 50, " MB"));
  }
  if (start.length > 0) {
    out.push(check("start-up ≤ 300 ms (median of starts)", median(start)!, 300, " ms"));
  }
  return out;
}

/** Prints the verdicts. */
export function printTargets(verdicts: Verdict[]): void {
  console.log("\nissue-11 targets");
  for (const v of verdicts) {
    const mark = v.met === null ? "info" : v.met ? "met " : "NOT ";
    console.log(`  [${mark}] ${v.target.padEnd(70)} ${v.value}`);
  }
}
