import { ConfigError } from "../config/values.ts";
/**
 * Where the aliases made with `/api/copy` live between runs: a small JSON file holding one object
 * of alias → Chutes model id, the same shape as the `aliases` key of `config.json`. It is read
 * once at start-up (a missing file means no aliases; a malformed one stops the start with an error
 * naming the file) and rewritten whole on every change, through a temporary file and a rename so
 * a crash never leaves half a file. Tests and embedders without a file use `memoryAliasStore`.
 */

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

async function writeAtomically(path: string, text: string): Promise<void> {
  const temp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    await Deno.writeTextFile(temp, text);
    await Deno.rename(temp, path);
  } catch (err) {
    await Deno.remove(temp).catch(() => {});
    throw err;
  }
}

/** Reads the aliases file at `path` (absent → no aliases) and returns a store that rewrites it. */
export async function openAliasFile(path: string): Promise<AliasStore> {
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
    save: (aliases) => writeAtomically(path, `${JSON.stringify(aliases, null, 2)}\n`),
  };
}
