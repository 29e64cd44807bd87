/**
 * Test helpers: start the real proxy (the same `createApp` as `main.ts`) on 127.0.0.1 port 0
 * against a `FakeUpstream`, with a made-up token and a log sink the test can read.
 */
import type { AliasStore } from "../lib/models/aliases_file.ts";
import { type AppOptions, createApp } from "../lib/app.ts";
import { type Config, validateConfig } from "../lib/config/config.ts";
import type { ServerDeps } from "../lib/server/router.ts";
import { startServer } from "../lib/server/serve.ts";
import { FakeUpstream } from "./_fake_upstream.ts";
import type { Clock } from "../lib/base/clock.ts";
import type { UsageStore } from "../lib/ops/usage_store.ts";

/** A made-up token; tests assert it never shows up in logs or answers. */
export const TEST_TOKEN = "cpk_test_0123456789abcdef.not-a-real-token";

/** A running proxy in front of a fake upstream. */
export interface TestProxy {
  url: string;
  upstream: FakeUpstream;
  deps: ServerDeps;
  logs: string[];
  /** Waits the upstream client asked for between retries (tests do not really wait). */
  waits: number[];
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Builds a validated config pointing at `baseUrl`, with overrides. */
export function testConfig(
  baseUrl: string,
  overrides: Partial<Record<keyof Config, unknown>> = {},
): Config {
  return validateConfig({
    api_token: TEST_TOKEN,
    base_url: baseUrl,
    // The fake upstream plays Chutes' management API at its root, so nothing reaches api.chutes.ai.
    management_base_url: new URL(baseUrl).origin,
    port: 0,
    ...overrides,
  });
}

/** Starts a fake upstream and the proxy in front of it. */
export function startProxy(
  options: {
    config?: Partial<Record<keyof Config, unknown>>;
    clock?: Clock;
    upstream?: FakeUpstream;
    /** Where `/api/copy` aliases persist; in memory when absent, so tests never write files. */
    aliasStore?: AliasStore;
    /** The environment (proxy variables) and the extra certificate authorities. */
    app?: Pick<AppOptions, "env" | "upstreamCa">;
    /** Wall clock in milliseconds (account and utilisation polling, usage hours). */
    wallNow?: () => number;
    /** Where usage persists; in memory when absent. */
    usageStore?: UsageStore;
  } = {},
): TestProxy {
  const upstream = options.upstream ?? FakeUpstream.start();
  const logs: string[] = [];
  const waits: number[] = [];
  const config = testConfig(upstream.url, options.config);
  const app = createApp(config, {
    ...options.app,
    logSink: (_level, line) => logs.push(line),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.aliasStore ? { aliasStore: options.aliasStore } : {}),
    ...(options.wallNow ? { wallNow: options.wallNow } : {}),
    ...(options.usageStore ? { usageStore: options.usageStore } : {}),
    sleep: (ms: number) => {
      waits.push(ms);
      return Promise.resolve();
    },
  });
  const { deps, handler } = app;
  const server = startServer({ host: "127.0.0.1", port: 0, log: deps.log }, handler);
  const close = async () => {
    await server.shutdown();
    await app.close();
    await upstream.close();
  };
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    upstream,
    deps,
    logs,
    waits,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** POSTs JSON to the proxy. */
export function post(
  proxy: TestProxy,
  path: string,
  body: unknown,
  init: RequestInit = {},
): Promise<Response> {
  return fetch(`${proxy.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...init,
  });
}

/** Reads an NDJSON body into parsed lines, asserting there are no blank lines. */
export async function ndjson(res: Response): Promise<Record<string, unknown>[]> {
  const text = await res.text();
  if (!text.endsWith("\n")) {
    throw new Error(`NDJSON body does not end with a newline: ${JSON.stringify(text)}`);
  }
  return text.slice(0, -1).split("\n").map((line) => {
    if (line.trim() === "") throw new Error("blank line in NDJSON body");
    return JSON.parse(line);
  });
}
