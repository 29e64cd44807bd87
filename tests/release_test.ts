/**
 * The release builds with the Deno the Dockerfile pins: every `deno-version` in the release
 * workflow names the exact release of the `denoland/deno` base image, so a binary and an image
 * of the same tag run the same Deno. And `--version` prints the proxy's version and the Ollama
 * version it reports, without needing a token.
 */
import assert from "node:assert/strict";
import { PROXY_VERSION } from "../lib/base/version.ts";
import { DEFAULTS } from "../lib/config/config.ts";
import { runMain } from "./_process.ts";

const ROOT = new URL("../", import.meta.url);

Deno.test("release.yml builds with the same pinned Deno as the Dockerfile", async () => {
  const dockerfile = await Deno.readTextFile(new URL("Dockerfile", ROOT));
  const pinned = /^FROM denoland\/deno:(\d+\.\d+\.\d+)$/m.exec(dockerfile)?.[1];
  assert.ok(pinned, "the Dockerfile does not pin a Deno release");
  const workflow = await Deno.readTextFile(new URL(".github/workflows/release.yml", ROOT));
  const versions = [...workflow.matchAll(/deno-version:\s*(\S+)/g)].map((m) => m[1]);
  assert.ok(versions.length >= 2, "the workflow sets up Deno in each job");
  for (const v of versions) assert.equal(v, `v${pinned}`);
});

Deno.test("--version prints the proxy and Ollama versions, with no token and from config.json", async () => {
  const bare = await runMain(["--version"]);
  assert.equal(bare.code, 0, bare.stderr);
  assert.equal(
    bare.stdout,
    `ollama-chutes-proxy ${PROXY_VERSION}\nreports Ollama version ${DEFAULTS.ollama_version}\n`,
  );
  const configured = await runMain(["--version"], {}, {
    prepare: (cwd) => Deno.writeTextFile(`${cwd}/config.json`, '{"ollama_version": "0.13.1"}'),
  });
  assert.match(configured.stdout, /^reports Ollama version 0\.13\.1$/m);
});
