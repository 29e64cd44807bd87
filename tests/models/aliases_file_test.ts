/**
 * The aliases file (lib/models/aliases_file.ts) in a temp dir: a missing file means no aliases, a
 * malformed one is a start-up error naming the file, saving replaces the file whole; and where
 * `loadConfig` puts it by default (beside the config file, else the working directory).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { openAliasFile } from "../../lib/models/aliases_file.ts";
import { loadConfig } from "../../lib/config/sources.ts";
import { ConfigError } from "../../lib/config/values.ts";

async function inTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "aliases_file_test_" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("openAliasFile: a missing or empty file means no aliases", async () => {
  await inTempDir(async (dir) => {
    const file = join(dir, "aliases.json");
    assert.deepEqual((await openAliasFile(file)).initial, {});
    await Deno.writeTextFile(file, "\n");
    assert.deepEqual((await openAliasFile(file)).initial, {});
  });
});

Deno.test("openAliasFile: reads alias → model id and saves a changed set through a rename", async () => {
  await inTempDir(async (dir) => {
    const file = join(dir, "aliases.json");
    await Deno.writeTextFile(file, '{"coder:latest": "Qwen/Qwen3-32B-TEE"}');
    const store = await openAliasFile(file);
    assert.equal(store.where, file);
    assert.deepEqual(store.initial, { "coder:latest": "Qwen/Qwen3-32B-TEE" });
    await store.save({ "a:latest": "x/y", "b:latest": "z" });
    assert.equal(
      await Deno.readTextFile(file),
      '{\n  "a:latest": "x/y",\n  "b:latest": "z"\n}\n',
    );
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assert.deepEqual(names, ["aliases.json"]);
  });
});

Deno.test("openAliasFile: a malformed file is a ConfigError naming the file", async () => {
  await inTempDir(async (dir) => {
    const file = join(dir, "aliases.json");
    const cases: [string, RegExp][] = [
      ["{not json", /not valid JSON/],
      ['["a", "b"]', /expected a JSON object of alias → model id/],
      ['{"a": 5}', /alias "a" must map to a model id, got 5/],
      ['{"a": ""}', /alias "a" must map to a model id/],
    ];
    for (const [text, why] of cases) {
      await Deno.writeTextFile(file, text);
      await assert.rejects(openAliasFile(file), (err: Error) => {
        assert.ok(err instanceof ConfigError, String(err));
        assert.ok(err.message.startsWith(`aliases file ${file}: `), err.message);
        assert.match(err.message, why);
        return true;
      });
    }
  });
});

Deno.test("loadConfig: aliases.json beside the config file, else here, unless aliases_file is set", async () => {
  const load = async (args: string[], files: Record<string, string>) => {
    const result = await loadConfig({
      args,
      env: { CHUTES_API_TOKEN: "cpk_made_up" },
      readTextFile: (path) => Promise.resolve(files[path]),
    });
    assert.ok(!result.help);
    return result.aliasesPath;
  };
  assert.equal(await load([], {}), "aliases.json");
  assert.equal(await load([], { "config.json": "{}" }), "aliases.json");
  assert.equal(
    await load(["--config", "/etc/proxy/proxy.json"], { "/etc/proxy/proxy.json": "{}" }),
    join("/etc/proxy", "aliases.json"),
  );
  assert.equal(
    await load([], { "config.json": '{"aliases_file": "/var/lib/proxy/aliases.json"}' }),
    "/var/lib/proxy/aliases.json",
  );
});
