/**
 * Test helpers for running `main.ts` as a real process: a clean environment (only PATH, HOME,
 * DENO_DIR and what the test adds, so no real token can leak in), a fresh temporary working
 * directory, and a way to wait for a line in the output of a long-running child.
 */

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** The environment the child gets: nothing but PATH, HOME, DENO_DIR and `extra`. */
export function childEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ["PATH", "HOME", "DENO_DIR"]) {
    const value = Deno.env.get(key);
    if (value !== undefined) env[key] = value;
  }
  return { ...env, ...extra };
}

/** `deno run main.ts <args>` in `cwd`, with the permissions `deno task start` grants. */
export function mainCommand(
  cwd: string,
  args: string[],
  env: Record<string, string>,
): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--unstable-no-legacy-abort",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-write",
      MAIN,
      ...args,
    ],
    cwd,
    env: childEnv(env),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/** Runs main.ts to completion in a fresh temporary directory. */
export async function runMain(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const cwd = await Deno.makeTempDir({ prefix: "main_run_" });
  try {
    const out = await mainCommand(cwd, args, env).output();
    const decode = (b: Uint8Array) => new TextDecoder().decode(b);
    return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
}

/** A running main.ts: its output so far, a wait for a pattern in it, and a stop. */
export interface RunningMain {
  output(): string;
  /** Resolves with the first match of `pattern` in stdout + stderr; rejects after `ms`. */
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpExecArray>;
  /** Sends SIGTERM, waits for the exit, removes the working directory. */
  stop(): Promise<Deno.CommandStatus>;
}

/** Starts main.ts in a fresh temporary directory and collects its output. */
export async function spawnMain(
  args: string[],
  env: Record<string, string> = {},
): Promise<RunningMain> {
  const cwd = await Deno.makeTempDir({ prefix: "main_run_" });
  const child = mainCommand(cwd, args, env).spawn();
  let text = "";
  const listeners = new Set<() => void>();
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      for (const listener of listeners) listener();
    }
  };
  let ended = false;
  const readers = Promise.all([collect(child.stdout), collect(child.stderr)]).finally(() => {
    ended = true;
    for (const listener of listeners) listener();
  });
  const waitFor = (pattern: RegExp, ms = 10_000) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`no ${pattern} in the output within ${ms} ms:\n${text}`));
      }, ms);
      function check() {
        const m = pattern.exec(text);
        if (!m && !ended) return;
        clearTimeout(timer);
        listeners.delete(check);
        if (m) resolve(m);
        else reject(new Error(`the process ended without ${pattern} in its output:\n${text}`));
      }
      listeners.add(check);
      check();
    });
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // already exited
    }
    const status = await child.status;
    await readers.catch(() => {});
    await Deno.remove(cwd, { recursive: true });
    return status;
  };
  return { output: () => text, waitFor, stop };
}
