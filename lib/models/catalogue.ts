/**
 * Model knowledge in one place: the live upstream catalogue (cached for `catalogue_ttl_seconds`,
 * refreshed in the background once stale, refreshed early when a name is not found, and kept
 * fresh while idle by lib/models/freshness.ts), the include/exclude filters, the aliases (from
 * `config.json`, and the local ones made with `/api/copy`, kept in an `AliasStore`), and name
 * resolution for every route. When the upstream listing fails the last good list is kept; before
 * any success the configured `models`, `default_model` and alias targets are listed, unknown
 * names pass through, and a name not found lists again (waiting a few seconds), so a proxy
 * started before the network recovers as soon as the upstream answers. Per request the work is
 * a map lookup: views are built once per refresh or alias change.
 */
import { type AliasStore, memoryAliasStore } from "./aliases_file.ts";
import type { Config } from "../config/config.ts";
import { atMost } from "../base/clock.ts";
import type { Logger } from "../base/log.ts";
import { type ModelFacts, modelFacts } from "./views.ts";
import type { UpstreamModel } from "../upstream/wire.ts";
import { globsToRegExps, wanted } from "./listing.ts";
import { LocalAliases } from "./local_aliases.ts";
import { isPool, sha256Hex, tagged, untagged } from "./names.ts";

export { isPool, tagged, untagged }; // where the doors have always found them

/** On-demand listings (a name not found before any list, a stale `/readyz`): 4 a second at most. */
const RETRY_GAP_MS = 250;
const RETRY_WAIT_MS = 5000; // how long a name not found waits for one before passing through

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
  /** Local aliases (`/api/copy`); in memory only when absent. */
  aliasStore?: AliasStore;
}

/** Where an alias comes from: `config.json` (read-only here) or `/api/copy` (deletable). */
export type AliasKind = "config" | "local";

/** The live model catalogue. */
export class Catalogue {
  readonly #d: CatalogueDeps;
  readonly #include: RegExp[];
  readonly #exclude: RegExp[];
  readonly #startedAt: string;
  /** The aliases made with `/api/copy`. */
  readonly #local: LocalAliases;
  #models: ModelFacts[] = [];
  #byKey = new Map<string, ModelFacts>();
  /** The upstream list the views were last built from, kept for rebuilds on alias changes. */
  #upstream: UpstreamModel[] = [];
  readonly #digests = new Map<string, string>();
  #fetchedAt = -Infinity;
  #lastSuccessAt = 0;
  #live = false;
  #lastError: string | undefined;
  #refreshing: Promise<boolean> | undefined;

  constructor(deps: CatalogueDeps) {
    this.#d = deps;
    this.#include = globsToRegExps(deps.config.include);
    this.#exclude = globsToRegExps(deps.config.exclude);
    this.#startedAt = new Date(deps.now()).toISOString();
    this.#local = new LocalAliases(deps.aliasStore ?? memoryAliasStore());
  }

  /** Wall-clock time of the last successful listing (0: never). */
  get lastSuccessAt(): number {
    return this.#lastSuccessAt;
  }

  /** True once the upstream listing has succeeded at least once. */
  get live(): boolean {
    return this.#live;
  }

  /** Milliseconds since the last successful listing (Infinity: never), by the catalogue's clock. */
  get ageMs(): number {
    return this.#lastSuccessAt === 0 ? Infinity : this.#d.now() - this.#lastSuccessAt;
  }

  /** Why the latest listing failed; undefined once one succeeds. */
  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** The listed ids for an upstream list (the configured ones while it is empty). */
  #ids(upstream: UpstreamModel[]): string[] {
    const ids = upstream.length > 0
      ? upstream.map((m) => m.id).filter((id) => wanted(id, this.#include, this.#exclude))
      : [
        ...this.#d.config.models,
        ...(this.#d.config.default_model ? [this.#d.config.default_model] : []),
      ];
    return [...new Set(ids)];
  }

  /** Name → upstream id for every listed entry: config aliases, local aliases, then models. */
  #entries(upstream: UpstreamModel[]): [string, string][] {
    return [
      ...Object.entries(this.#d.config.aliases).map((
        [alias, target],
      ): [string, string] => [tagged(alias), target]),
      ...this.#local.entries(),
      ...this.#ids(upstream).map((id): [string, string] => [tagged(id), id]),
    ];
  }

  async #hash(ids: Iterable<string>): Promise<void> {
    for (const id of ids) {
      if (!this.#digests.has(id)) this.#digests.set(id, await sha256Hex(id));
    }
  }

  async #build(upstream: UpstreamModel[]): Promise<void> {
    await this.#hash(this.#entries(upstream).map(([, id]) => id));
    this.#assemble(upstream);
  }

  /** Builds the views synchronously from the current aliases, so no alias change is lost. */
  #assemble(upstream: UpstreamModel[]): void {
    const byId = new Map(upstream.map((m) => [m.id, m]));
    const models: ModelFacts[] = [];
    const byKey = new Map<string, ModelFacts>();
    for (const [name, id] of this.#entries(upstream)) {
      if (byKey.has(name.toLowerCase())) continue; // an alias shadowing a listed name is skipped
      const f = modelFacts(name, id, byId.get(id), this.#digests.get(id) ?? "", this.#startedAt);
      models.push(f);
      for (const key of [f.name, untagged(f.name)]) {
        if (!byKey.has(key)) byKey.set(key, f);
        if (!byKey.has(key.toLowerCase())) byKey.set(key.toLowerCase(), f);
      }
    }
    this.#upstream = upstream;
    // Newest first, as Ollama sorts /api/tags (and /v1/models, which follows this order).
    models.sort((a, b) => b.modifiedAt.localeCompare(a.modifiedAt));
    this.#models = models;
    this.#byKey = byKey;
  }

  /**
   * Refreshes from the upstream now; on failure keeps what it had and says what that is (`note`
   * is added to the warning, e.g. when the next try is). Concurrent calls share one fetch.
   * Resolves true when the listing succeeded.
   */
  refresh(note = ""): Promise<boolean> {
    this.#refreshing ??= (async () => {
      try {
        const upstream = await this.#d.listModels();
        await this.#build(upstream);
        const level = this.#lastError !== undefined ? "info" : "debug"; // a recovery is news
        this.#d.log[level](`model listing succeeded: ${this.#models.length} models`);
        this.#live = true;
        this.#lastError = undefined;
        this.#lastSuccessAt = this.#d.now();
        return true;
      } catch (err) {
        this.#lastError = (err as Error).message;
        this.#d.log.warn(`model listing failed: ${this.#lastError}; ${this.#keeping()}${note}`);
        if (!this.#live) await this.#build([]);
        return false;
      } finally {
        this.#fetchedAt = this.#d.now();
        this.#refreshing = undefined;
      }
    })();
    return this.#refreshing;
  }

  /** What a failed listing leaves clients, in words for the log. */
  #keeping(): string {
    const kept = `keeping the list of ${this.#upstream.length} models fetched`;
    if (this.#live) return `${kept} ${Math.round(this.ageMs / 1000)} s ago`;
    const configured = this.#ids([]).length;
    return configured > 0
      ? `no model list yet: listing the ${configured} configured models, other names pass through`
      : "no model list yet: model names pass through to the upstream unchecked";
  }

  /** Refreshes a list older than `maxAgeMs` (unless just tried), waiting `waitMs` at most. */
  async refreshIfOlder(maxAgeMs: number, waitMs: number): Promise<void> {
    const tried = this.#d.now() - this.#fetchedAt < RETRY_GAP_MS;
    if (this.ageMs <= maxAgeMs || (tried && !this.#refreshing)) return;
    await atMost(this.refresh(), waitMs);
  }

  async #fresh(): Promise<void> {
    const age = this.#d.now() - this.#fetchedAt;
    if (age === Infinity) await this.refresh();
    else if (age > this.#d.config.catalogue_ttl_seconds * 1000) void this.refresh();
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
    if (isPool(name)) return { upstreamId: name };
    let facts = this.#lookup(name);
    if (!facts && this.#live && this.#d.now() - this.#fetchedAt > 10_000) {
      await this.refresh();
      facts = this.#lookup(name);
    } else if (!facts && !this.#live) {
      // Not listed yet: the upstream may be back (a boot before the network was up).
      await this.refreshIfOlder(-1, RETRY_WAIT_MS);
      facts = this.#lookup(name);
    }
    if (facts) return { upstreamId: facts.upstreamId, facts };
    return this.#live ? undefined : { upstreamId: untagged(name) };
  }

  /** The listed model `name` names, without refreshing (a map lookup, for per-request pricing). */
  peek(name: string): ModelFacts | undefined {
    return this.#lookup(name);
  }

  /** Whether `name` is an alias, and of which kind. */
  aliasKind(name: string): AliasKind | undefined {
    const key = tagged(name).toLowerCase();
    const matches = (alias: string) => tagged(alias).toLowerCase() === key;
    if (Object.keys(this.#d.config.aliases).some(matches)) return "config";
    return this.#local.has(name) ? "local" : undefined;
  }

  /** Adds or replaces the local alias `name` → `upstreamId`, saved before the views change. */
  addAlias(name: string, upstreamId: string): Promise<void> {
    return this.#local.add(name, upstreamId, (ids) => this.#hash(ids), this.#rebuild);
  }

  /** Removes the local alias `name`; false when there is none. */
  removeAlias(name: string): Promise<boolean> {
    return this.#local.remove(name, (ids) => this.#hash(ids), this.#rebuild);
  }

  /** Rebuilds the views from the current aliases (no fetch). */
  #rebuild = (): void => this.#assemble(this.#upstream);

  #lookup(name: string): ModelFacts | undefined {
    return this.#byKey.get(name) ?? this.#byKey.get(untagged(name)) ??
      this.#byKey.get(name.toLowerCase()) ??
      this.#byKey.get(untagged(name).toLowerCase());
  }
}
