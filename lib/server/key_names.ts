/**
 * Names for access keys in logs, the status page and the usage store, which must never hold a
 * key: a key is named by `key_names` (name → the start of the key's SHA-256 in hex), else
 * `key-<first 8 hex digits of its SHA-256>`. Only the key that matched the key check gets here
 * (whichever header carried it), so the cache holds at most one entry per configured key.
 */

const encoder = new TextEncoder();

async function sha256Hex(text: string): Promise<string> {
  const hash = await crypto.subtle.digest("SHA-256", encoder.encode(text));
  return [...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The label of a key: its configured name, or `key-` and 8 hex digits of its SHA-256. */
export async function keyLabel(
  key: string,
  names: Readonly<Record<string, string>>,
): Promise<string> {
  const hex = await sha256Hex(key);
  const named = Object.entries(names).find(([, prefix]) => hex.startsWith(prefix));
  return named ? named[0] : `key-${hex.slice(0, 8)}`;
}

/** Labels the configured keys that requests carried. */
export class KeyNames {
  readonly #cache = new Map<string, string>();

  constructor(readonly enabled: boolean, readonly names: Readonly<Record<string, string>>) {}

  /** The label of the key that matched; undefined when keys are off or none was needed. */
  async of(key: string | undefined): Promise<string | undefined> {
    if (!this.enabled || key === undefined) return undefined;
    let label = this.#cache.get(key);
    if (label === undefined) {
      label = await keyLabel(key, this.names);
      if (this.#cache.size < 1000) this.#cache.set(key, label);
    }
    return label;
  }
}
