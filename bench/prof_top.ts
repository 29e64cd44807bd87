// deno-lint-ignore-file no-console
/**
 * Summarises a V8 `.cpuprofile` (from `deno run --cpu-prof`, e.g. `deno task bench --cpu-prof`):
 * the functions with the most self time, the most inclusive time (a function counted once per
 * sample however deep it recurses), and self time per source file. `(idle)` is excluded from
 * the percentages, so they are shares of the time the process was busy.
 *
 *   deno run --allow-read bench/prof_top.ts bench/results/prof-…/proxy-a.cpuprofile [--top 25]
 */
import { parseArgs } from "node:util";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function shortUrl(url: string): string {
  if (url === "") return "";
  const lib = url.indexOf("/lib/");
  if (url.startsWith("file://") && lib >= 0) return url.slice(lib + 1);
  return url.replace(/^file:\/\/.*\/(npm|registry\.npmjs\.org)\//, "npm:").replace(/^.*\//, "");
}

function label(frame: CallFrame): string {
  const name = frame.functionName || "(anonymous)";
  const where = shortUrl(frame.url);
  return where ? `${name} ${where}:${frame.lineNumber + 1}` : name;
}

function add(map: Map<string, number>, key: string, value: number): void {
  map.set(key, (map.get(key) ?? 0) + value);
}

/** Self, inclusive and per-file times in microseconds, plus the busy total. */
export function summarise(profile: CpuProfile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const files = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id)!;
    if (node.callFrame.functionName === "(idle)") return;
    busy += dt;
    add(self, label(node.callFrame), dt);
    add(files, shortUrl(node.callFrame.url) || node.callFrame.functionName, dt);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const key = label(byId.get(at)!.callFrame);
      if (!seen.has(key)) add(total, key, dt);
      seen.add(key);
    }
  });
  return { self, total, files, busy };
}

function print(title: string, map: Map<string, number>, busy: number, top: number): void {
  console.log(`\n${title}`);
  const rows = [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [key, us] of rows) {
    console.log(
      `${((us / busy) * 100).toFixed(1).padStart(6)} %  ${
        (us / 1000).toFixed(0).padStart(7)
      } ms  ${key}`,
    );
  }
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: { top: { type: "string", default: "25" } },
  });
  const top = Number(values.top);
  for (const file of positionals) {
    const { self, total, files, busy } = summarise(JSON.parse(await Deno.readTextFile(file)));
    console.log(`\n=== ${file}: ${(busy / 1000).toFixed(0)} ms busy`);
    print("self time by function", self, busy, top);
    print("inclusive time by function", total, busy, top);
    print("self time by file", files, busy, top);
  }
}
