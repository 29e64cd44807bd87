/**
 * Model knowledge in one place: the live upstream catalogue (cached for `catalogue_ttl_seconds`,
 * refreshed in the background once stale, refreshed early when a name is not found), the
 * include/exclude filters, the aliases, and name resolution for every route. When the upstream
 * listing fails the last good list is kept; before any success the configured `models`,
 * `default_model` and alias targets are listed, and unknown names are passed through.
 * Per request the work is a map lookup: views are built once per refresh.
 */
import type { Config } from "./config.ts";
import type { Logger } from "./log.ts";
import { type ModelFacts, modelFacts } from "./model_views.ts";
import type { UpstreamModel } from "./openai_types.ts";

/** How a requested name resolved. `facts` is absent for pass-through names. */
export interface Resolved {
  upstreamId: string;
  facts?: ModelFacts;
}

/** What the catalogue needs from outside. */
export interface CatalogueDeps {
  config: Pick<
    Config,
    "models" | "default_model" | "include" | "exclude" | "aliases" | "catalogue_ttl_seconds"
  >;
  listModels: () => Promise<UpstreamModel[]>;
  /** Wall clock in milliseconds. */
  now: () => number;
  log: Logger;
}

/** `Qwen/Qwen3-32B` → `Qwen/Qwen3-32B:latest`; names that already carry a tag stay as they are. */
export function tagged(id: string): string {
  return id.includes(":") ? id : `${id}:latest`;
}

/** `name:latest` → `name`; other tags stay. */
export function untagged(name: string): string {
  return name.endsWith(":latest") ? name.slice(0, -":latest".length) : name;
}

function globToRegExp(glob: string): RegExp {
  const body = glob.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*");
  return new RegExp(`^${body}$`, "i");
}

async function sha256Hex(text: string): Promise<string> {
  const hash = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The live model catalogue. */
export class Catalogue {
  readonly #d: CatalogueDeps;
  readonly #include: RegExp[];
  readonly #exclude: RegExp[];
  readonly #startedAt: string;
  #models: ModelFacts[] = [];
  #byKey = new Map<string, ModelFacts>();
  #fetchedAt = -Infinity;
  #live = false;
  #refreshing: Promise<void> | undefined;

  constructor(deps: CatalogueDeps) {
    this.#d = deps;
    this.#include = deps.config.include.map(globToRegExp);
    this.#exclude = deps.config.exclude.map(globToRegExp);
    this.#startedAt = new Date(deps.now()).toISOString();
  }

  /** True once the upstream listing has succeeded at least once. */
  get live(): boolean {
    return this.#live;
  }

  #wanted(id: string): boolean {
    if (this.#include.length > 0 && !this.#include.some((r) => r.test(id))) return false;
    return !this.#exclude.some((r) => r.test(id));
  }

  async #build(upstream: UpstreamModel[]): Promise<void> {
    const byId = new Map(upstream.map((m) => [m.id, m]));
    const ids = upstream.length > 0 ? upstream.map((m) => m.id).filter((id) => this.#wanted(id)) : [
      ...this.#d.config.models,
      ...(this.#d.config.default_model ? [this.#d.config.default_model] : []),
    ];
    const entries: [string, string][] = [
      ...Object.entries(this.#d.config.aliases).map((
        [alias, target],
      ): [string, string] => [tagged(alias), target]),
      ...[...new Set(ids)].map((id): [string, string] => [tagged(id), id]),
    ];
    const models = await Promise.all(
      entries.map(async ([name, id]) =>
        modelFacts(name, id, byId.get(id), await sha256Hex(id), this.#startedAt)
      ),
    );
    const byKey = new Map<string, ModelFacts>();
    for (const f of models) {
      for (const key of [f.name, untagged(f.name)]) {
        if (!byKey.has(key)) byKey.set(key, f);
        if (!byKey.has(key.toLowerCase())) byKey.set(key.toLowerCase(), f);
      }
    }
    this.#models = models;
    this.#byKey = byKey;
  }

  /** Refreshes from the upstream now; on failure keeps what it had. Concurrent calls share one fetch. */
  refresh(): Promise<void> {
    this.#refreshing ??= (async () => {
      try {
        const upstream = await this.#d.listModels();
        await this.#build(upstream);
        this.#live = true;
        this.#d.log.debug(`catalogue: ${this.#models.length} models`);
      } catch (err) {
        this.#d.log.warn(
          `model listing failed, serving the last known list: ${(err as Error).message}`,
        );
        if (!this.#live) await this.#build([]);
      } finally {
        this.#fetchedAt = this.#d.now();
        this.#refreshing = undefined;
      }
    })();
    return this.#refreshing;
  }

  async #fresh(): Promise<void> {
    const age = this.#d.now() - this.#fetchedAt;
    if (age === Infinity) return await this.refresh();
    if (age > this.#d.config.catalogue_ttl_seconds * 1000) void this.refresh();
  }

  /** All listed models, refreshing first if the cache is stale. */
  async list(): Promise<readonly ModelFacts[]> {
    await this.#fresh();
    return this.#models;
  }

  /**
   * Resolves a client's model name. Chutes pools (`a,b`, `:latency`, `:throughput`) and, while
   * the upstream list is unknown, any name pass through untouched. Unknown → `undefined`.
   */
  async resolve(name: string): Promise<Resolved | undefined> {
    await this.#fresh();
    if (name.includes(",") || /:(latency|throughput)$/.test(name)) return { upstreamId: name };
    let facts = this.#lookup(name);
    if (!facts && this.#live && this.#d.now() - this.#fetchedAt > 10_000) {
      await this.refresh();
      facts = this.#lookup(name);
    }
    if (facts) return { upstreamId: facts.upstreamId, facts };
    return this.#live ? undefined : { upstreamId: untagged(name) };
  }

  #lookup(name: string): ModelFacts | undefined {
    return this.#byKey.get(name) ?? this.#byKey.get(untagged(name)) ??
      this.#byKey.get(name.toLowerCase()) ??
      this.#byKey.get(untagged(name).toLowerCase());
  }
}
