/**
 * The module graph of `lib/` as `deno info --json main.ts` reports it: no import circle, and
 * every import points down the layer order of the README's Architecture section (main → app →
 * server → doors and ops → core → models → config → upstream → base). A door never imports
 * another door. No `lib/` file is longer than 300 lines.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

/** Layers from the top; a module may import its own layer or any layer after it. */
const LAYERS = [
  ["main.ts"],
  ["lib/app.ts", "lib/cli/", "lib/demo/"],
  ["lib/server/"],
  ["lib/doors/", "lib/ops/"],
  ["lib/core/"],
  ["lib/models/"],
  ["lib/config/"],
  ["lib/upstream/"],
  ["lib/base/"],
];

function layerOf(path: string): number {
  const i = LAYERS.findIndex((prefixes) => prefixes.some((p) => path.startsWith(p)));
  if (i < 0) throw new Error(`${path} is in no layer`);
  return i;
}

/** `lib/doors/<name>/` of a path, when it is in a door. */
function doorOf(path: string): string | undefined {
  return /^lib\/doors\/([^/]+)\//.exec(path)?.[1];
}

interface ModuleGraph {
  modules: {
    specifier: string;
    dependencies?: { code?: { specifier?: string }; type?: { specifier?: string } }[];
  }[];
}

async function graph(): Promise<Map<string, string[]>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "main.ts"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as ModuleGraph;
  const local = (s: string) => s.startsWith(ROOT.href) ? s.slice(ROOT.href.length) : undefined;
  const edges = new Map<string, string[]>();
  for (const m of info.modules) {
    const from = local(m.specifier);
    if (!from) continue;
    // Type-only imports count too: a circle of types is still a circle for a reader.
    const deps = (m.dependencies ?? []).flatMap((d) => [d.code?.specifier, d.type?.specifier])
      .map((s) => s && local(s)).filter((d): d is string => !!d);
    edges.set(from, deps);
  }
  return edges;
}

const edges = await graph();

Deno.test("lib/: every import goes down the layers, and no door imports another door", () => {
  const wrong: string[] = [];
  for (const [from, deps] of edges) {
    for (const to of deps) {
      const upward = layerOf(to) < layerOf(from);
      const sideways = doorOf(from) && doorOf(to) && doorOf(from) !== doorOf(to);
      const opsDoor = from.startsWith("lib/ops/") && to.startsWith("lib/doors/") ||
        from.startsWith("lib/doors/") && to.startsWith("lib/ops/");
      if (upward || sideways || opsDoor) wrong.push(`${from} → ${to}`);
    }
  }
  assert.deepEqual(wrong, []);
});

Deno.test("lib/: the import graph has no circle", () => {
  const state = new Map<string, "open" | "done">();
  const circles: string[] = [];
  const visit = (node: string, path: string[]) => {
    if (state.get(node) === "done") return;
    if (state.get(node) === "open") {
      circles.push([...path.slice(path.indexOf(node)), node].join(" → "));
      return;
    }
    state.set(node, "open");
    for (const next of edges.get(node) ?? []) visit(next, [...path, node]);
    state.set(node, "done");
  };
  for (const node of edges.keys()) visit(node, []);
  assert.deepEqual(circles, []);
});

Deno.test("lib/: every file is reached from main.ts and none is over 300 lines", async () => {
  const long: string[] = [];
  const unreached: string[] = [];
  const walk = async (dir: URL, rel: string) => {
    for await (const entry of Deno.readDir(dir)) {
      const path = `${rel}${entry.name}`;
      if (entry.isDirectory) await walk(new URL(`${entry.name}/`, dir), `${path}/`);
      else if (entry.name.endsWith(".ts")) {
        const lines = (await Deno.readTextFile(new URL(entry.name, dir))).split("\n").length - 1;
        if (lines > 300) long.push(`${path} (${lines} lines)`);
        if (!edges.has(path)) unreached.push(path);
      }
    }
  };
  await walk(new URL("lib/", ROOT), "lib/");
  assert.deepEqual(long, []);
  assert.deepEqual(unreached, []);
});
