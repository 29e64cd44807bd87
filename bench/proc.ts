/**
 * Process figures from Linux `/proc`: CPU time (user + system, all threads) from
 * `/proc/<pid>/stat`, and resident memory (current `VmRSS`, peak `VmHWM`) from
 * `/proc/<pid>/status`. Linux only; the benchmark reports `null` where `/proc` is missing.
 * Deno lets only `--allow-all` read `/proc/<pid>/…` directly, so the files are read through
 * `cat` (`--allow-run=cat`); a spawn costs about a millisecond and happens only at the ends of
 * a measured window, never inside it.
 */

const decoder = new TextDecoder();

/** The text of a `/proc` file, or `null` when it cannot be read (process gone, not Linux). */
function readProc(path: string): string | null {
  try {
    const out = new Deno.Command("cat", { args: [path], stdout: "piped", stderr: "null" })
      .outputSync();
    return out.success ? decoder.decode(out.stdout) : null;
  } catch {
    return null;
  }
}

/** Clock ticks per second for `/proc/<pid>/stat` (`getconf CLK_TCK`, 100 on Linux). */
export const CLOCK_TICKS_PER_SECOND = 100;

/** CPU time of `pid` (all threads, user + system) in microseconds, or `null` if unreadable. */
export function cpuMicros(pid: number): number | null {
  const stat = readProc(`/proc/${pid}/stat`);
  if (stat === null) return null;
  // The command name (field 2) is in parentheses and may hold spaces: count from the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // After the name: field 3 is state (index 0 here), utime is field 14, stime field 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return ((utime + stime) * 1e6) / CLOCK_TICKS_PER_SECOND;
}

/** Resident memory of `pid` in MB: current (`VmRSS`) and peak (`VmHWM`), or `null`. */
export function memoryMB(pid: number): { rss: number; peak: number } | null {
  const status = readProc(`/proc/${pid}/status`);
  if (status === null) return null;
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1]);
  const rss = kb("VmRSS");
  const peak = kb("VmHWM");
  if (!Number.isFinite(rss) || !Number.isFinite(peak)) return null;
  return { rss: rss / 1024, peak: peak / 1024 };
}
