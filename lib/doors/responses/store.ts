/**
 * The memory behind `previous_response_id`: each stored response keeps the whole conversation it
 * ended (the earlier items, its input, its output as input items), so a follow-up that names it
 * is expanded without walking a chain. Entries belong to the credentials that made them (a hash
 * of `Authorization` / `x-api-key`), live 30 minutes, and the store holds at most 1024 of them
 * and 64 MiB of items, dropping the least recently used first — like Ollama's newer server. A
 * conversation larger than the whole budget is simply not kept.
 */
import type { InputItem, OutputItem } from "./types.ts";

/** The store's limits. */
export interface StoreLimits {
  maxEntries: number;
  /** Approximate: the JSON length of the kept items. */
  maxBytes: number;
  ttlMs: number;
}

/** Ollama's limits (B.7). */
export const DEFAULT_STORE_LIMITS: StoreLimits = {
  maxEntries: 1024,
  maxBytes: 64 << 20,
  ttlMs: 30 * 60_000,
};

interface Entry {
  items: readonly InputItem[];
  bytes: number;
  expires: number;
}

/** A response's output as the input items a client would replay. */
export function toInputItems(output: readonly OutputItem[]): InputItem[] {
  return output.map((item): InputItem => {
    switch (item.type) {
      case "message":
        return {
          type: "message",
          role: "assistant",
          content: item.content.map((p) => p.text).join(""),
        };
      case "reasoning":
        return { type: "reasoning", text: item.summary.map((s) => s.text).join("\n") };
      case "function_call": {
        const { call_id, name, namespace, arguments: args } = item;
        return {
          type: "function_call",
          call_id,
          name,
          ...(namespace ? { namespace } : {}),
          arguments: args,
        };
      }
      case "custom_tool_call": {
        const { call_id, name, namespace, input } = item;
        return {
          type: "custom_tool_call",
          call_id,
          name,
          ...(namespace ? { namespace } : {}),
          input,
        };
      }
    }
  });
}

/** A hash of the request's credentials, so one key cannot continue another key's responses. */
export async function ownerOf(request: Request): Promise<string> {
  const credential = request.headers.get("authorization") ?? request.headers.get("x-api-key") ?? "";
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(credential));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Bounded, expiring memory of finished responses. */
export class ResponseStore {
  readonly #entries = new Map<string, Entry>();
  readonly #limits: StoreLimits;
  readonly #now: () => number;
  #bytes = 0;

  constructor(limits: StoreLimits = DEFAULT_STORE_LIMITS, now: () => number = Date.now) {
    this.#limits = limits;
    this.#now = now;
  }

  /** How many responses are kept, and their approximate size. */
  get size(): { entries: number; bytes: number } {
    return { entries: this.#entries.size, bytes: this.#bytes };
  }

  /** Keeps the conversation that response `id` ended; false when it is too large to keep. */
  put(id: string, owner: string, items: readonly InputItem[]): boolean {
    const bytes = JSON.stringify(items).length;
    if (bytes > this.#limits.maxBytes) return false;
    const key = `${owner}:${id}`;
    this.#delete(key);
    this.#entries.set(key, { items, bytes, expires: this.#now() + this.#limits.ttlMs });
    this.#bytes += bytes;
    const now = this.#now();
    for (const [oldest, entry] of this.#entries) {
      const over = this.#entries.size > this.#limits.maxEntries ||
        this.#bytes > this.#limits.maxBytes;
      if (!over && entry.expires > now) break;
      this.#delete(oldest);
    }
    return true;
  }

  /** The conversation response `id` ended, when it is kept for this owner and not expired. */
  get(id: string, owner: string): readonly InputItem[] | undefined {
    const key = `${owner}:${id}`;
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expires <= this.#now()) {
      this.#delete(key);
      return undefined;
    }
    // Most recently used last: eviction takes the first entries.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.items;
  }

  #delete(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#bytes -= entry.bytes;
    this.#entries.delete(key);
  }
}
