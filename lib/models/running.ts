/**
 * `/api/ps`: the models used recently, in Ollama's shape. Nothing is loaded locally, so a model
 * counts as "running" from its last request until its `keep_alive` (default 5 minutes) runs out;
 * a negative keep_alive keeps it listed, and `keep_alive: 0` removes it (Ollama's unload).
 */
import { type ModelFacts, tagsEntry } from "./views.ts";

const DEFAULT_KEEP_ALIVE_S = 300;
const FOREVER_MS = 100 * 365 * 24 * 3600 * 1000;

/** Tracks recently used models. */
export class RunningModels {
  readonly #now: () => number;
  readonly #entries = new Map<string, { facts: ModelFacts; expiresAt: number }>();

  constructor(now: () => number) {
    this.#now = now;
  }

  /** Records a use of `facts` with the request's keep_alive in seconds. */
  touch(facts: ModelFacts, keepAliveSeconds: number | undefined): void {
    const keep = keepAliveSeconds ?? DEFAULT_KEEP_ALIVE_S;
    if (keep === 0) {
      this.#entries.delete(facts.name);
      return;
    }
    const expiresAt = this.#now() + (keep < 0 ? FOREVER_MS : keep * 1000);
    this.#entries.set(facts.name, { facts, expiresAt });
  }

  /** The `/api/ps` body: unexpired models, latest expiry first. */
  body(): { models: Record<string, unknown>[] } {
    const now = this.#now();
    const live = [...this.#entries.values()].filter((e) => e.expiresAt > now);
    live.sort((a, b) => b.expiresAt - a.expiresAt);
    return {
      models: live.map(({ facts, expiresAt }) => {
        const { name, model, size, digest, details } = tagsEntry(facts);
        return {
          name,
          model,
          size,
          digest,
          details,
          expires_at: new Date(expiresAt).toISOString(),
          size_vram: size,
          context_length: facts.contextLength ?? 0,
        };
      }),
    };
  }
}
