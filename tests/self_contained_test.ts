/**
 * Packaging: proof that `deno compile` would produce a self-contained binary, without running
 * it (it needs Deno's download host). The module graph of `main.ts` holds only local modules
 * under the repository, `npm:` packages and `node:` built-ins — nothing remote, nothing
 * dynamic — and no source reads a file beside itself. The app then starts from a copy of
 * main.ts, lib/, deno.json and deno.lock alone and serves a fake upstream's models. Last, the
 * packaging files (Dockerfile, release workflow, systemd unit) agree with deno.json's tasks.
 */
import assert from "node:assert/strict";
import { DEFAULTS } from "../lib/config/config.ts";
import { FAKE_MODELS, FakeUpstream } from "./_fake_upstream.ts";
import { type RunningMain, spawnMain, taskFlags } from "./_process.ts";

const ROOT = new URL("../", import.meta.url);
const ROOT_PATH = decodeURIComponent(ROOT.pathname);
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** The parts of `deno info --json` read here. */
interface ModuleInfo {
  kind?: string;
  specifier: string;
  local?: string;
  error?: string;
  dependencies?: { specifier: string; isDynamic?: boolean }[];
}

async function moduleGraph(): Promise<ModuleInfo[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "main.ts"],
    cwd: ROOT_PATH,
    env: { NO_COLOR: "1" },
    stdin: "null",
  }).output();
  assert.equal(out.code, 0, `deno info failed:\n${decode(out.stderr)}`);
  return (JSON.parse(decode(out.stdout)) as { modules: ModuleInfo[] }).modules;
}

Deno.test("deno info: every module is local to the repository, npm: or node:; none is dynamic", async () => {
  const modules = await moduleGraph();
  assert.ok(modules.some((m) => m.specifier === new URL("main.ts", ROOT).href));
  for (const m of modules) {
    assert.equal(m.error, undefined, `${m.specifier}: ${m.error}`);
    if (m.kind === "esm") {
      assert.ok(m.specifier.startsWith(ROOT.href), `not under the repository: ${m.specifier}`);
      const rel = m.specifier.slice(ROOT.href.length);
      assert.ok(rel === "main.ts" || rel.startsWith("lib/"), `outside main.ts and lib/: ${rel}`);
    } else if (m.kind === "npm") {
      assert.match(m.specifier, /^npm:/);
    } else {
      assert.equal(m.kind, "node", `unexpected module kind ${m.kind}: ${m.specifier}`);
      assert.match(m.specifier, /^node:/);
    }
    for (const dep of m.dependencies ?? []) {
      assert.ok(!dep.isDynamic, `dynamic import of ${dep.specifier} in ${m.specifier}`);
    }
  }
});

/** main.ts and every .ts file under lib/, as [path relative to the repository, text]. */
async function appSources(): Promise<[string, string][]> {
  const files: [string, string][] = [["main.ts", await Deno.readTextFile(`${ROOT_PATH}main.ts`)]];
  const walk = async (dir: string): Promise<void> => {
    for await (const entry of Deno.readDir(`${ROOT_PATH}${dir}`)) {
      const rel = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(rel);
      else if (entry.name.endsWith(".ts")) {
        files.push([rel, await Deno.readTextFile(`${ROOT_PATH}${rel}`)]);
      }
    }
  };
  await walk("lib");
  return files;
}

/** Code without its comments (crude: a `//` inside a string cuts the rest of that line). */
function withoutComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
}

Deno.test("sources: no dynamic import() and no read of a file beside the source (import.meta)", async () => {
  const banned: [RegExp, string][] = [
    [/\bimport\s*\(/, "dynamic import()"],
    [/\bimport\.meta\.(url|dirname|filename|resolve)\b/, "a path relative to the source"],
  ];
  for (const [path, text] of await appSources()) {
    const code = withoutComments(text);
    for (const [pattern, what] of banned) {
      const m = pattern.exec(code);
      assert.equal(m, null, `${path}: ${what} (${m?.[0]}): a compiled binary may lack the file`);
    }
  }
});

/** Copies only what `deno compile` embeds: main.ts, lib/ (all of it), deno.json, deno.lock. */
async function copyApp(to: string): Promise<void> {
  for (const file of ["main.ts", "deno.json", "deno.lock"]) {
    await Deno.copyFile(`${ROOT_PATH}${file}`, `${to}/${file}`);
  }
  const copyDir = async (rel: string): Promise<void> => {
    await Deno.mkdir(`${to}/${rel}`);
    for await (const entry of Deno.readDir(`${ROOT_PATH}${rel}`)) {
      const child = `${rel}/${entry.name}`;
      if (entry.isDirectory) await copyDir(child);
      else await Deno.copyFile(`${ROOT_PATH}${child}`, `${to}/${child}`);
    }
  };
  await copyDir("lib");
}

Deno.test("a copy of main.ts, lib/, deno.json and deno.lock alone serves the upstream's models", async () => {
  const upstream = FakeUpstream.start();
  let proxy: RunningMain | undefined;
  try {
    proxy = await spawnMain(["--port", "0"], {
      CHUTES_API_TOKEN: "cpk_made_up_self_contained",
      CHUTES_BASE_URL: upstream.url,
    }, {
      prepare: async (dir) => {
        await copyApp(dir);
        const entries = [];
        for await (const e of Deno.readDir(dir)) entries.push(e.name);
        assert.deepEqual(entries.sort(), ["deno.json", "deno.lock", "lib", "main.ts"]);
      },
      entry: "main.ts",
    });
    const [, url] = await proxy.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 15_000);
    const tags = await fetch(`${url}/api/tags`);
    assert.equal(tags.status, 200);
    const { models } = await tags.json() as { models: { name: string }[] };
    const names = models.map((m) => m.name.replace(/:latest$/, ""));
    for (const m of FAKE_MODELS) assert.ok(names.includes(m.id), `${m.id} not in ${names}`);
    const root = await fetch(`${url}/`);
    assert.equal(root.status, 200);
    assert.equal(await root.text(), "Ollama is running");
  } finally {
    await proxy?.stop("SIGKILL");
    await upstream.close();
  }
});

Deno.test("Dockerfile CMD runs main.ts with the flags of `deno task start`", async () => {
  const dockerfile = await Deno.readTextFile(`${ROOT_PATH}Dockerfile`);
  const cmd = /^CMD (\[.*\])$/m.exec(dockerfile);
  assert.ok(cmd, "no exec-form CMD line");
  const args = JSON.parse(cmd[1]!) as string[];
  assert.deepEqual(args, ["run", ...taskFlags("start"), "/app/main.ts"]);
  assert.match(dockerfile, /^FROM denoland\/deno:2\.\d+\.\d+$/m, "the base image is not pinned");
});

Deno.test("release workflow compiles every target with the flags of `deno task compile`", async () => {
  const workflow = await Deno.readTextFile(`${ROOT_PATH}.github/workflows/release.yml`);
  const compile = /deno compile ((?:--[\w=-]+\s+)+)--target/.exec(workflow);
  assert.ok(compile, "no `deno compile ... --target` command");
  assert.deepEqual(compile[1]!.trim().split(/\s+/), taskFlags("compile"));
  const targets = [
    "x86_64-unknown-linux-gnu",
    "aarch64-unknown-linux-gnu",
    "x86_64-apple-darwin",
    "aarch64-apple-darwin",
    "x86_64-pc-windows-msvc",
  ];
  for (const t of targets) assert.match(workflow, new RegExp(`target: ${t}$`, "m"));
  assert.match(workflow, /run: deno task ok$/m);
});

Deno.test("systemd unit: stops with SIGTERM and waits longer than the shutdown grace", async () => {
  const unit = await Deno.readTextFile(`${ROOT_PATH}deploy/ollama-chutes-proxy.service`);
  const key = (name: string) => new RegExp(`^${name}=(.*)$`, "m").exec(unit)?.[1];
  assert.equal(key("KillSignal"), "SIGTERM");
  const stop = /^(\d+)s?$/.exec(key("TimeoutStopSec") ?? "");
  assert.ok(stop, "TimeoutStopSec is not a number of seconds");
  assert.ok(Number(stop[1]) > DEFAULTS.shutdown_grace_seconds);
  assert.equal(key("MemoryDenyWriteExecute"), undefined, "V8's JIT needs W+X memory");
  assert.equal(key("EnvironmentFile"), "/etc/ollama-chutes-proxy/env");
});
