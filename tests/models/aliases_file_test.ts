/**
 * The aliases file (lib/models/aliases_file.ts) in a temp dir: a missing file means no aliases, a
 * malformed one is a start-up error naming the file, saving replaces the file whole; and where
 * `loadConfig` puts it by default (beside the config file, else the working directory).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DENO_DISK, type Disk, openAliasFile } from "../../lib/models/aliases_file.ts";
import { loadConfig } from "../../lib/config/sources.ts";
import { ConfigError } from "../../lib/config/values.ts";
import { startProxy } from "../_helpers.ts";

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

/** The real file system, recording each step a save takes. */
function recordingDisk(steps: string[], dir: string): Disk {
  const name = (path: string) => path.startsWith(dir) ? path.slice(dir.length + 1) || "." : path;
  const watched = (file: Deno.FsFile, label: string): Deno.FsFile =>
    new Proxy(file, {
      get(target, key) {
        const value = Reflect.get(target, key);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          if (key === "sync" || key === "close") steps.push(`${String(key)} ${label}`);
          return value.apply(target, args);
        };
      },
    });
  return {
    create: async (path) =>
      watched(await DENO_DISK.create(path), path.endsWith(".tmp") ? "temp" : name(path)),
    openDir: async (path) => watched(await DENO_DISK.openDir(path), "dir"),
    rename: async (from, to) => {
      await DENO_DISK.rename(from, to);
      steps.push(`rename temp → ${name(to)}`);
    },
    remove: DENO_DISK.remove,
  };
}

Deno.test("HTTP /api/copy answers 200 only after the file and its directory are fsynced", async () => {
  await inTempDir(async (dir) => {
    const steps: string[] = [];
    const store = await openAliasFile(join(dir, "aliases.json"), recordingDisk(steps, dir));
    await using p = startProxy({ aliasStore: store });
    const res = await fetch(`${p.url}/api/copy`, {
      method: "POST",
      body: JSON.stringify({ source: "Qwen/Qwen3-32B-TEE", destination: "mine" }),
    });
    const atAnswer = [...steps];
    assert.equal(res.status, 200);
    await res.body?.cancel();
    assert.deepEqual(atAnswer, [
      "sync temp",
      "close temp",
      "rename temp → aliases.json",
      "sync dir",
      "close dir",
    ]);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(join(dir, "aliases.json"))), {
      "mine:latest": "Qwen/Qwen3-32B-TEE",
    });
  });
});
