/**
 * Test helpers for running `main.ts` as a real process: a clean environment (only PATH, HOME,
 * Deno's cache location and what the test adds, so no real token can leak in), the flags of
 * `deno task start`, a fresh temporary working directory the test may fill first, and a way to
 * wait for a line in the output of a long-running child.
 */

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const DENO_JSON = new URL("../deno.json", import.meta.url);

/** The environment the child gets: nothing but PATH, HOME, DENO_DIR, XDG_CACHE_HOME and `extra`. */
export function childEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME"]) {
    const value = Deno.env.get(key);
    if (value !== undefined) env[key] = value;
  }
  return { ...env, ...extra };
}

/** Flags of a deno.json task between its subcommand and the first token after the flags. */
export function taskFlags(task: string): string[] {
  const deno = JSON.parse(Deno.readTextFileSync(DENO_JSON)) as { tasks: Record<string, string> };
  const words = deno.tasks[task]!.split(/\s+/).slice(2); // drop `deno run` / `deno compile`
  return words.slice(0, words.findIndex((w) => !w.startsWith("--") || w === "--output"));
}

/** Where and what to run; by default the repository's main.ts in an empty temporary directory. */
export interface MainOptions {
  /** Fills the fresh working directory (given as the argument) before main.ts starts. */
  prepare?: (cwd: string) => Promise<void>;
  /** The entry file to run, absolute or relative to the working directory. */
  entry?: string;
}

/** `deno run <entry> <args>` in `cwd`, with the flags of `deno task start`. */
export function mainCommand(
  cwd: string,
  args: string[],
  env: Record<string, string>,
  entry = MAIN,
): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ...taskFlags("start"), entry, ...args],
    cwd,
    env: childEnv(env),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/** A fresh temporary working directory, filled by `prepare`; removed again if that fails. */
async function workingDir(prepare: MainOptions["prepare"]): Promise<string> {
  const cwd = await Deno.makeTempDir({ prefix: "main_run_" });
  try {
    await prepare?.(cwd);
  } catch (err) {
    await Deno.remove(cwd, { recursive: true });
    throw err;
  }
  return cwd;
}

/** Runs main.ts to completion in a fresh temporary directory. */
export async function runMain(
  args: string[],
  env: Record<string, string> = {},
  options: MainOptions = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const cwd = await workingDir(options.prepare);
  try {
    const out = await mainCommand(cwd, args, env, options.entry).output();
    const decode = (b: Uint8Array) => new TextDecoder().decode(b);
    return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
}

/** A running main.ts: its output so far, a wait for a pattern in it, and a stop. */
export interface RunningMain {
  /** stdout and stderr so far, interleaved as they arrived. */
  output(): string;
  /** stdout alone so far. */
  stdout(): string;
  /** Resolves with the first match of `pattern` in stdout + stderr; rejects after `ms`. */
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpExecArray>;
  /**
   * Sends `signal` (SIGTERM by default), waits for the exit, removes the working directory.
   * Every call sends its signal; all of them resolve with the same exit status.
   */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/** Starts main.ts in a fresh temporary directory and collects its output. */
export async function spawnMain(
  args: string[],
  env: Record<string, string> = {},
  options: MainOptions = {},
): Promise<RunningMain> {
  const cwd = await workingDir(options.prepare);
  const child = mainCommand(cwd, args, env, options.entry).spawn();
  let text = "";
  let stdout = "";
  const listeners = new Set<() => void>();
  const collect = async (stream: ReadableStream<Uint8Array>, isStdout: boolean) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      if (isStdout) stdout += chunk;
      for (const listener of listeners) listener();
    }
  };
  let ended = false;
  const readers = Promise.all([collect(child.stdout, true), collect(child.stderr, false)])
    .finally(() => {
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
  let stopped: Promise<Deno.CommandStatus> | undefined;
  const stop = (signal: Deno.Signal = "SIGTERM") => {
    try {
      child.kill(signal);
    } catch {
      // already exited
    }
    stopped ??= (async () => {
      const status = await child.status;
      await readers.catch(() => {});
      await Deno.remove(cwd, { recursive: true });
      return status;
    })();
    return stopped;
  };
  return { output: () => text, stdout: () => stdout, waitFor, stop };
}
