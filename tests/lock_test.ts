/**
 * Test-only npm packages (npm:ollama, npm:openai, and any client library a test adds) never load
 * or download for `deno task start` or the compiled binary. Measured: Deno fetches every package
 * deno.lock pins, and `deno task` first installs every package deno.json's `imports` names. So
 * deno.json maps only what main.ts loads, deno.lock pins only that, and the tests resolve their
 * clients through tests/import_map.json with their own lock, tests/deno.lock (`deno task test`
 * and `deno task ok` pass `--import-map=tests/import_map.json --lock=tests/deno.lock`). A test
 * package added to deno.json, or a run of the tests without those flags, fails this test.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

async function lockedPackages(path: string): Promise<string[]> {
  const lock = JSON.parse(await Deno.readTextFile(new URL(path, ROOT))) as {
    npm?: Record<string, unknown>;
  };
  return Object.keys(lock.npm ?? {}).toSorted();
}

Deno.test("deno.lock pins only the npm packages main.ts loads; the test clients are in tests/deno.lock", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "main.ts"],
    cwd: decodeURIComponent(ROOT.pathname),
    env: { NO_COLOR: "1" },
    stdin: "null",
  }).output();
  assert.equal(out.code, 0, decode(out.stderr));
  const graph = JSON.parse(decode(out.stdout)) as { npmPackages: Record<string, unknown> };
  const runtime = Object.keys(graph.npmPackages).toSorted();
  assert.deepEqual(
    await lockedPackages("deno.lock"),
    runtime,
    "deno.lock pins packages main.ts does not load: run the tests through `deno task test` " +
      "(it passes --lock=tests/deno.lock), then restore deno.lock",
  );
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT))) as {
    imports: Record<string, string>;
  };
  for (const [name, target] of Object.entries(config.imports)) {
    const pkg = target.replace(/^npm:/, "");
    assert.ok(
      runtime.includes(pkg),
      `deno.json maps ${name} → ${target}, which main.ts does not load: \`deno task\` would ` +
        "download it for every user; put it in tests/import_map.json instead",
    );
  }
  const testing = await lockedPackages("tests/deno.lock");
  for (const name of ["ollama", "openai"]) {
    assert.ok(testing.some((p) => p.startsWith(`${name}@`)), `tests/deno.lock lacks ${name}`);
    assert.ok(!runtime.some((p) => p.startsWith(`${name}@`)), `main.ts loads ${name}`);
  }
});
