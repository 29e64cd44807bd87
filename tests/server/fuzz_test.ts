/**
 * Fuzz: thousands of random and malformed requests (methods, paths, bodies, headers) against
 * every route. Every answer must be below 500 — a client mistake is never a server error — an
 * error status must carry a JSON body (except the empty 403 of a refused origin), and the
 * server must still answer normally afterwards. The generator is seeded, so a failure names a
 * seed that reproduces it.
 */
import assert from "node:assert/strict";
import { startProxy } from "../_helpers.ts";

/** A small seeded PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ROUTES = [
  "/",
  "/api/version",
  "/api/tags",
  "/api/show",
  "/api/ps",
  "/api/chat",
  "/api/generate",
  "/api/embed",
  "/api/embeddings",
  "/api/pull",
  "/api/push",
  "/api/create",
  "/api/copy",
  "/api/delete",
  "/api/blobs/sha256:abc",
  "/v1/chat/completions",
  "/v1/completions",
  "/v1/embeddings",
  "/v1/models",
  "/v1/models/Qwen/Qwen3-32B-TEE",
  "/v1/models/%ZZ",
  "/nope",
  "/api/",
  "//api//chat",
]; // deno-fmt-ignore
const METHODS = ["GET", "POST", "POST", "POST", "DELETE", "HEAD", "PUT", "OPTIONS"];
const KEYS = [
  "model",
  "name",
  "messages",
  "prompt",
  "stream",
  "options",
  "format",
  "think",
  "tools",
  "images",
  "keep_alive",
  "top_logprobs",
  "logprobs",
  "raw",
  "system",
  "suffix",
  "template",
  "context",
  "input",
  "source",
  "destination",
  "dimensions",
  "truncate",
  "max_tokens",
  "temperature",
  "role",
  "content",
  "tool_calls",
  "function",
  "arguments",
  "num_predict",
  "stop",
  "seed",
  "__proto__",
  "constructor",
]; // deno-fmt-ignore
const MODELS = ["Qwen/Qwen3-32B-TEE", "Qwen/Qwen3-32B-TEE:latest", "nope", "", " ", "a,b", "x:latency", "\u0000"];

function value(rand: () => number, depth: number): unknown {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  switch (Math.floor(rand() * (depth > 3 ? 7 : 10))) {
    case 0:
      return null;
    case 1:
      return pick([true, false]);
    case 2:
      return pick([0, -1, 1, 21, 1e308, -1e308, 0.5, 2 ** 53, -0]);
    case 3:
      return pick([
        "",
        "json",
        "high",
        "5m",
        "-1",
        "300",
        "USER",
        "tool",
        "\u{1F600}",
        "x".repeat(3000),
      ]);
    case 4:
      return pick(MODELS);
    case 5:
      return pick(["iVBORw0KGgo=", "not base64!", "data:image/png;base64,AAAA"]);
    case 6:
      return rand().toString(36);
    case 7:
    case 8: {
      const obj: Record<string, unknown> = {};
      for (let i = Math.floor(rand() * 5); i > 0; i--) obj[pick(KEYS)] = value(rand, depth + 1);
      return obj;
    }
    default:
      return Array.from({ length: Math.floor(rand() * 4) }, () => value(rand, depth + 1));
  }
}

function body(rand: () => number): string | Uint8Array<ArrayBuffer> | undefined {
  const r = rand();
  if (r < 0.05) return undefined;
  if (r < 0.1) return crypto.getRandomValues(new Uint8Array(Math.floor(rand() * 64)));
  if (r < 0.2) return JSON.stringify(value(rand, 0)).slice(0, Math.floor(rand() * 40));
  const obj = value(rand, 2);
  if (obj && typeof obj === "object" && !Array.isArray(obj) && rand() < 0.7) {
    (obj as Record<string, unknown>).model = MODELS[Math.floor(rand() * MODELS.length)];
  }
  return JSON.stringify(obj);
}

Deno.test("fuzz: 3000 random requests never get a 5xx, errors are JSON, and the server keeps answering", async () => {
  await using p = startProxy({
    config: { retry_attempts: 1, first_byte_timeout_seconds: 2, idle_timeout_seconds: 2 },
  });
  const seed = Number(Deno.env.get("FUZZ_SEED") ?? 20261124);
  const rand = prng(seed);
  const requests = Array.from({ length: 3000 }, (_, i) => {
    const method = METHODS[Math.floor(rand() * METHODS.length)]!;
    const headers: Record<string, string> = {};
    if (rand() < 0.8) headers["content-type"] = rand() < 0.9 ? "application/json" : "text/plain";
    if (rand() < 0.2) headers["authorization"] = `Bearer ${rand().toString(36)}`;
    if (rand() < 0.1) {
      headers["origin"] = rand() < 0.5 ? "http://localhost:3000" : "https://evil.example";
    }
    if (rand() < 0.05) headers["x-weird"] = "\t value \t";
    const hasBody = method !== "GET" && method !== "HEAD";
    return {
      i,
      method,
      path: ROUTES[Math.floor(rand() * ROUTES.length)]!,
      headers,
      body: hasBody ? body(rand) : undefined,
    };
  });
  const failures: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const req = requests[next++]!;
      const res = await fetch(`${p.url}${req.path}`, {
        method: req.method,
        headers: req.headers,
        body: req.body ?? null,
      });
      const text = await res.text();
      const where = `#${req.i} ${req.method} ${req.path} ${
        JSON.stringify(req.body ?? "").slice(0, 120)
      }`;
      if (res.status >= 500) failures.push(`${where} → ${res.status} ${text.slice(0, 200)}`);
      const jsonError = res.status >= 400 && req.method !== "HEAD" &&
        !(res.status === 403 && text === "");
      if (jsonError) {
        try {
          JSON.parse(text);
        } catch {
          failures.push(`${where} → ${res.status} non-JSON body ${text.slice(0, 80)}`);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  assert.deepEqual(failures.slice(0, 10), [], `seed ${seed}: ${failures.length} failures`);
  const alive = await fetch(`${p.url}/api/version`);
  assert.equal(alive.status, 200);
  await alive.body?.cancel();
  assert.equal(p.upstream.openStreams, 0);
});
