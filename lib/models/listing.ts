/**
 * More than one upstream: config `upstreams` adds OpenAI-compatible APIs beside Chutes (the
 * primary, always first). Their model lists are merged into one catalogue — each upstream's
 * `include`/`exclude` patterns choose what it contributes, and the first upstream that lists an
 * id owns it — so every model routes to the upstream that lists it. A listing that fails keeps
 * that upstream's last good list; when every upstream fails, the merge fails.
 */
import type { Logger } from "../base/log.ts";
import type { UpstreamConfig } from "../config/values.ts";
import type { UpstreamModel } from "../upstream/wire.ts";
import type { Upstream } from "../upstream/client.ts";

/** A model entry tagged with the index of the upstream that serves it. */
export type RoutedModel = UpstreamModel & { upstream_index?: number };

/** Compiles glob patterns (`*` wildcards, case-insensitive). */
export function globsToRegExps(globs: readonly string[]): RegExp[] {
  return globs.map((glob) => {
    const body = glob.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(
      ".*",
    );
    return new RegExp(`^${body}$`, "i");
  });
}

/** True when `id` passes the include (empty = all) and exclude patterns. */
export function wanted(
  id: string,
  include: readonly RegExp[],
  exclude: readonly RegExp[],
): boolean {
  if (include.length > 0 && !include.some((r) => r.test(id))) return false;
  return !exclude.some((r) => r.test(id));
}

interface Source {
  upstream: Upstream;
  include: RegExp[];
  exclude: RegExp[];
  lastGood: RoutedModel[] | undefined;
}

/** Lists every upstream and merges the answers; the primary's filters are the catalogue's own. */
export class MergedListing {
  readonly #sources: Source[];
  readonly #log: Logger;

  constructor(
    primary: Upstream,
    extras: { upstream: Upstream; config: UpstreamConfig }[],
    log: Logger,
  ) {
    this.#log = log;
    this.#sources = [
      { upstream: primary, include: [], exclude: [], lastGood: undefined },
      ...extras.map(({ upstream, config }) => ({
        upstream,
        include: globsToRegExps(config.include),
        exclude: globsToRegExps(config.exclude),
        lastGood: undefined,
      })),
    ];
  }

  /** Fetches all lists in parallel and merges them; throws when all fail. */
  async list(): Promise<RoutedModel[]> {
    const results = await Promise.allSettled(this.#sources.map((s) => s.upstream.listModels()));
    const errors: string[] = [];
    results.forEach((result, i) => {
      const source = this.#sources[i]!;
      if (result.status === "fulfilled") {
        source.lastGood = result.value
          .filter((m) => wanted(m.id, source.include, source.exclude))
          .map((m) => ({ ...m, upstream_index: i }));
      } else errors.push(`${source.upstream.baseUrl}: ${(result.reason as Error).message}`);
    });
    // All failing is the catalogue's failure: it keeps its own list and says so (and readiness
    // must not count an old list as a fresh answer).
    if (errors.length === this.#sources.length) throw new Error(errors.join("; "));
    for (const error of errors) {
      this.#log.warn(`model listing failed, keeping the last list of ${error}`);
    }
    const seen = new Set<string>();
    const merged: RoutedModel[] = [];
    for (const source of this.#sources) {
      for (const model of source.lastGood ?? []) {
        if (!seen.has(model.id)) {
          seen.add(model.id);
          merged.push(model);
        }
      }
    }
    return merged;
  }
}
