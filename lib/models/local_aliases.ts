/**
 * The aliases made with `/api/copy`: tagged name → upstream id, kept in an `AliasStore` (the
 * aliases file, or memory). Changes are applied one at a time to a copy, saved, and only then
 * made current, so a failed save changes nothing and no change is lost to a race. At most
 * `MAX_LOCAL_ALIASES` exist: each change rewrites the whole file, so the work stays bounded.
 */
import { ProxyError } from "../base/errors.ts";
import type { AliasStore } from "./aliases_file.ts";
import { tagged } from "./names.ts";

/** The most aliases `/api/copy` may make. */
export const MAX_LOCAL_ALIASES = 1000;

/** The local aliases and their store. */
export class LocalAliases {
  readonly #store: AliasStore;
  /** Tagged name → upstream id. */
  readonly #current: Map<string, string>;
  #writes: Promise<unknown> = Promise.resolve();

  constructor(store: AliasStore) {
    this.#store = store;
    this.#current = new Map(
      Object.entries(store.initial).map(([alias, id]) => [tagged(alias), id]),
    );
  }

  /** The aliases now, as [tagged name, upstream id]. */
  entries(): IterableIterator<[string, string]> {
    return this.#current.entries();
  }

  /** True when `name` (any case, tagged or not) is a local alias. */
  has(name: string): boolean {
    const key = tagged(name).toLowerCase();
    return [...this.#current.keys()].some((alias) => alias.toLowerCase() === key);
  }

  /**
   * Adds or replaces `name` → `upstreamId`. `prepare` runs with the new ids before the save (the
   * catalogue hashes them), `done` after it (the catalogue rebuilds its views).
   */
  add(
    name: string,
    upstreamId: string,
    prepare: (ids: Iterable<string>) => Promise<void>,
    done: () => void,
  ): Promise<void> {
    return this.#change(
      (local) => {
        const replaced = deleteFrom(local, name);
        if (!replaced && local.size >= MAX_LOCAL_ALIASES) {
          throw new ProxyError(
            400,
            `cannot add ${JSON.stringify(name)}: ${MAX_LOCAL_ALIASES} aliases exist already, the ` +
              "most this proxy keeps; delete some first",
          );
        }
        local.set(tagged(name), upstreamId);
      },
      prepare,
      done,
    );
  }

  /** Removes `name`; false when there is none. */
  async remove(
    name: string,
    prepare: (ids: Iterable<string>) => Promise<void>,
    done: () => void,
  ): Promise<boolean> {
    let removed = false;
    await this.#change(
      (local) => {
        removed = deleteFrom(local, name);
      },
      prepare,
      done,
    );
    return removed;
  }

  #change(
    change: (local: Map<string, string>) => void,
    prepare: (ids: Iterable<string>) => Promise<void>,
    done: () => void,
  ): Promise<void> {
    const run = async () => {
      const next = new Map(this.#current);
      change(next);
      await prepare(next.values());
      try {
        await this.#store.save(Object.fromEntries(next));
      } catch (err) {
        throw new ProxyError(
          500,
          `cannot save the aliases to ${this.#store.where}: ${(err as Error).message}`,
        );
      }
      this.#current.clear();
      for (const [alias, id] of next) this.#current.set(alias, id);
      done();
    };
    const result = this.#writes.then(run, run);
    this.#writes = result.catch(() => {});
    return result;
  }
}

function deleteFrom(local: Map<string, string>, name: string): boolean {
  const key = tagged(name).toLowerCase();
  const existing = [...local.keys()].find((alias) => alias.toLowerCase() === key);
  return existing !== undefined && local.delete(existing);
}
