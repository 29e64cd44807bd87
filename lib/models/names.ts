/**
 * Model names as Ollama clients write them: `name:tag` (`:latest` when no tag is given), and the
 * Chutes pools (`a,b`, `…:latency`, `…:throughput`) that pass upstream untouched; and the digest
 * Ollama shows for a model, here the SHA-256 of its id.
 */

/** `Qwen/Qwen3-32B` → `Qwen/Qwen3-32B:latest`; names that already carry a tag stay as they are. */
export function tagged(id: string): string {
  return id.includes(":") ? id : `${id}:latest`;
}

/** `name:latest` → `name`; other tags stay. */
export function untagged(name: string): string {
  return name.endsWith(":latest") ? name.slice(0, -":latest".length) : name;
}

/** A Chutes model pool (`a,b`, `…:latency`, `…:throughput`), passed upstream untouched. */
export function isPool(name: string): boolean {
  return name.includes(",") || /:(latency|throughput)$/.test(name);
}

/** The hex SHA-256 of `text` (a model's digest is that of its upstream id). */
export async function sha256Hex(text: string): Promise<string> {
  const hash = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
