/**
 * Starting and stopping the benchmark's processes: each runs `deno` under `sh` so its file
 * descriptor limit is raised to the hard limit first (1,000 streams through a proxy hold
 * 2,000 sockets), then `exec`s, so the pid we hold is the Deno process `/proc` is read for.
 * Every wait here is bounded in time.
 */

/** A started server process. */
export interface Server {
  name: string;
  pid: number;
  port: number;
  /** Milliseconds from spawn to the first answered `GET /`. */
  startupMs: number;
  child: Deno.ChildProcess;
  /** The last few KB of its stderr, for failure reports. */
  stderrTail(): string;
}

const RAISE_FD_LIMIT = 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"';

/** Picks a free 127.0.0.1 port (the OS's choice, released at once). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** The environment children get: only what Deno needs to find its cache, plus `extra`. */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1" };
  for (const key of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME"]) {
    const value = Deno.env.get(key);
    if (value !== undefined) env[key] = value;
  }
  return { ...env, ...extra };
}

/** Spawns `deno <args>` with a raised fd limit; stdout is discarded, stderr kept. */
export function spawnDeno(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; stdout?: "piped" | "null" } = {},
): { child: Deno.ChildProcess; stderrTail: () => string } {
  const child = new Deno.Command("sh", {
    args: ["-c", RAISE_FD_LIMIT, "sh", Deno.execPath(), ...args],
    env: childEnv(options.env),
    clearEnv: true,
    ...(options.cwd ? { cwd: options.cwd } : {}),
    stdin: "null",
    stdout: options.stdout ?? "null",
    stderr: "piped",
  }).spawn();
  let tail = "";
  const decoder = new TextDecoder();
  void child.stderr.pipeTo(
    new WritableStream({
      write(bytes) {
        tail = (tail + decoder.decode(bytes, { stream: true })).slice(-4096);
      },
    }),
  ).catch(() => {});
  return { child, stderrTail: () => tail };
}

/** Polls `GET http://127.0.0.1:<port>/` until it answers 200; resolves with the time taken. */
export async function waitReady(port: number, since: number, timeoutMs = 15_000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`);
      await res.body?.cancel();
      if (res.ok) return performance.now() - since;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`no answer on port ${port} within ${timeoutMs} ms`);
}

/** Starts a server process listening on `port` and waits until it answers. */
export async function startServer(
  name: string,
  port: number,
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<Server> {
  const since = performance.now();
  const { child, stderrTail } = spawnDeno(args, options);
  try {
    const startupMs = await waitReady(port, since);
    return { name, pid: child.pid, port, startupMs, child, stderrTail };
  } catch (err) {
    await stopServer({ child });
    throw new Error(`${name} did not start: ${(err as Error).message}\n${stderrTail()}`);
  }
}

/** SIGTERM, then SIGKILL if the process has not exited within `graceMs`. */
export async function stopServer(
  server: { child: Deno.ChildProcess },
  graceMs = 10_000,
): Promise<void> {
  try {
    server.child.kill("SIGTERM");
  } catch { /* already gone */ }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const killed = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      try {
        server.child.kill("SIGKILL");
      } catch { /* already gone */ }
      resolve();
    }, graceMs);
  });
  await Promise.race([server.child.status.then(() => {}), killed]);
  clearTimeout(timer);
  await server.child.status;
}
