/**
 * Where the aliases made with `/api/copy` live between runs: a small JSON file holding one object
 * of alias → Chutes model id, the same shape as the `aliases` key of `config.json`. It is read
 * once at start-up (a missing file means no aliases; a malformed one stops the start with an error
 * naming the file) and rewritten whole on every change, through a temporary file and a rename so
 * a crash never leaves half a file. The temporary file is fsynced before the rename and the
 * directory after it, so an alias `/api/copy` acknowledged survives a power cut (a rename alone
 * may reach the disk before the data it names). Tests and embedders without a file use
 * `memoryAliasStore`.
 */
import { dirname } from "node:path";
import { ConfigError } from "../config/values.ts";

/** The aliases found at start-up and the way to keep a changed set. */
export interface AliasStore {
  /** Where the aliases are kept, for messages (`memory` when nowhere). */
  readonly where: string;
  readonly initial: Readonly<Record<string, string>>;
  save(aliases: Readonly<Record<string, string>>): Promise<void>;
}

/** Aliases kept in memory only (tests, or a caller that persists them itself). */
export function memoryAliasStore(initial: Record<string, string> = {}): AliasStore {
  return { where: "memory", initial, save: () => Promise.resolve() };
}

function checkAliases(value: unknown, path: string): Record<string, string> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ConfigError(`aliases file ${path}: expected a JSON object of alias → model id`);
  }
  for (const [alias, target] of Object.entries(value)) {
    if (alias.trim() === "" || typeof target !== "string" || target.trim() === "") {
      throw new ConfigError(
        `aliases file ${path}: alias ${JSON.stringify(alias)} must map to a model id, got ${
          JSON.stringify(target)
        }`,
      );
    }
  }
  return value as Record<string, string>;
}

/** The file operations a save makes; a test passes its own to watch their order. */
export interface Disk {
  create(path: string): Promise<Deno.FsFile>;
  /** Opens a directory to fsync it; fails where directories cannot be opened (Windows). */
  openDir(path: string): Promise<Deno.FsFile>;
  rename(from: string, to: string): Promise<void>;
  remove(path: string): Promise<void>;
}

/** The real file system. */
export const DENO_DISK: Disk = {
  create: (path) => Deno.open(path, { write: true, create: true, truncate: true }),
  openDir: (path) => Deno.open(path, { read: true }),
  rename: Deno.rename,
  remove: (path) => Deno.remove(path),
};

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.length;) done += await file.write(bytes.subarray(done));
}

async function writeDurably(path: string, text: string, disk: Disk): Promise<void> {
  const temp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    const file = await disk.create(temp);
    try {
      await writeAll(file, new TextEncoder().encode(text));
      await file.sync();
    } finally {
      file.close();
    }
    await disk.rename(temp, path);
  } catch (err) {
    await disk.remove(temp).catch(() => {});
    throw err;
  }
  let dir: Deno.FsFile;
  try {
    dir = await disk.openDir(dirname(path));
  } catch {
    return; // Windows: a directory cannot be opened, and NTFS journals the rename itself
  }
  try {
    await dir.sync();
  } finally {
    dir.close();
  }
}

/** Reads the aliases file at `path` (absent → no aliases) and returns a store that rewrites it. */
export async function openAliasFile(path: string, disk: Disk = DENO_DISK): Promise<AliasStore> {
  let text: string | undefined;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) {
      throw new ConfigError(`aliases file ${path}: cannot read it (${(err as Error).message})`);
    }
  }
  let initial: Record<string, string> = {};
  if (text !== undefined && text.trim() !== "") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new ConfigError(`aliases file ${path}: not valid JSON (${(err as Error).message})`);
    }
    initial = checkAliases(parsed, path);
  }
  return {
    where: path,
    initial,
    save: (aliases) => writeDurably(path, `${JSON.stringify(aliases, null, 2)}\n`, disk),
  };
}
