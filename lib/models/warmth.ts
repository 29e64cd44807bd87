/**
 * Per-model warmth on Chutes: hot (an active instance serves it), warming (instances exist, none
 * active yet) or cold (none), with the busy ratio, from the public `GET /chutes/utilization`
 * list (agent-doors.md E.3; no token sent), fetched at most once a minute and only while someone
 * looks at the status page. A warm-up (`GET /chutes/warmup/{name}`, with the token) is what
 * `ollama pull` and a load request (empty `messages`) trigger; its latest status line overrides
 * the list for that model. Background warm-ups run one per model at a time and stop when the
 * chute is hot or after the warm-up time-out.
 */
import type { Logger } from "../base/log.ts";
import { type ManagementApi, WarmupError, type WarmupEvent } from "../upstream/management.ts";
import { num } from "./account_shapes.ts";

/** Hot, warming or cold, as Chutes names the states. */
export type WarmthState = "hot" | "warming" | "cold";

/** What is known about one model's warmth. */
export interface ModelWarmth {
  state: WarmthState;
  /** Share of capacity in use now, 0..1, when the list says. */
  busy: number | null;
  /** Active instances, when the list says. */
  instances: number | null;
  /** Wall-clock ms of the observation. */
  at: number;
  source: "utilization" | "warm-up";
}

type Obj = Record<string, unknown>;

/** Reads one `/chutes/utilization` entry into a warmth, or undefined when it has no name. */
export function readUtilisation(entry: unknown, at: number): [string, ModelWarmth] | undefined {
  if (entry === null || typeof entry !== "object") return undefined;
  const e = entry as Obj;
  const name = typeof e.name === "string" && !e.name.startsWith("[") ? e.name : undefined;
  if (!name) return undefined;
  const active = num(e.active_instance_count);
  const total = num(e.total_instance_count) ?? num(e.instance_count);
  const state: WarmthState = (active ?? 0) > 0 ? "hot" : (total ?? 0) > 0 ? "warming" : "cold";
  const busy = num(e.utilization_current) ?? num(e.avg_busy_ratio) ?? num(e.utilization_5m);
  return [name.toLowerCase(), {
    state,
    busy,
    instances: active ?? total,
    at,
    source: "utilization",
  }];
}

function stateOf(status: string): WarmthState {
  return status === "hot" ? "hot" : status === "cold" ? "cold" : "warming";
}

/** Watches warmth and runs warm-ups. */
export class Warmth {
  readonly #api: ManagementApi | undefined;
  readonly #now: () => number;
  readonly #log: Logger;
  readonly #timeoutMs: number;
  #list = new Map<string, ModelWarmth>();
  readonly #warmups = new Map<string, ModelWarmth>();
  readonly #running = new Set<string>();
  #checkedAt: number | null = null;
  #inflight: Promise<void> | undefined;
  /** Why the last utilisation fetch failed, when it did. */
  error: string | null = null;

  constructor(
    options: { api?: ManagementApi; now: () => number; log: Logger; timeoutMs: number },
  ) {
    this.#api = options.api;
    this.#now = options.now;
    this.#log = options.log;
    this.#timeoutMs = options.timeoutMs;
  }

  /** True when warm-ups can run (a management API is configured). */
  get enabled(): boolean {
    return this.#api !== undefined;
  }

  /** Wall-clock ms of the last utilisation list, or null. */
  get listedAt(): number | null {
    return this.#checkedAt;
  }

  /** Fetches the utilisation list unless it was fetched less than a minute ago. */
  refresh(): Promise<void> {
    const api = this.#api;
    if (!api) return Promise.resolve();
    if (this.#inflight) return this.#inflight;
    if (this.#checkedAt !== null && this.#now() - this.#checkedAt < 60_000) {
      return Promise.resolve();
    }
    this.#checkedAt = this.#now();
    this.#inflight = (async () => {
      const answer = await api.get("/chutes/utilization", { auth: false });
      if (!answer.ok) {
        if (this.error !== answer.reason) {
          this.#log.warn(`Chutes utilisation list: ${answer.reason}`);
        }
        this.error = answer.reason;
        return;
      }
      const raw = answer.json as Obj | unknown[];
      const items = Array.isArray(raw) ? raw : raw?.items ?? raw?.data ?? raw?.chutes;
      const list = new Map<string, ModelWarmth>();
      const at = this.#now();
      for (const entry of Array.isArray(items) ? items : []) {
        const read = readUtilisation(entry, at);
        if (read) list.set(...read);
      }
      this.#list = list;
      this.error = null;
    })().finally(() => this.#inflight = undefined);
    return this.#inflight;
  }

  /** `refresh()`, waiting at most `waitMs`. */
  async look(waitMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.refresh(),
      new Promise<void>((resolve) => timer = setTimeout(resolve, waitMs)),
    ]);
    clearTimeout(timer);
  }

  /** The newest observation for an upstream model id. */
  of(upstreamId: string): ModelWarmth | undefined {
    const key = upstreamId.toLowerCase();
    const listed = this.#list.get(key);
    const warmed = this.#warmups.get(key);
    if (!listed) return warmed;
    if (!warmed) return listed;
    return warmed.at >= listed.at ? { ...warmed, busy: listed.busy } : listed;
  }

  /**
   * Follows a warm-up of `upstreamId`, yielding each status line, until the chute is hot, the
   * stream ends, `signal` aborts, or the warm-up time-out passes (then a `WarmupError` that says
   * the chute is still cold). Stream failures are `WarmupError`s with the reason.
   */
  async *warm(upstreamId: string, signal: AbortSignal): AsyncGenerator<WarmupEvent> {
    if (!this.#api) throw new WarmupError("no management API is configured");
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const both = AbortSignal.any([signal, timeout]);
    let last: WarmupEvent | undefined;
    for await (const event of this.#api.warmup(upstreamId, both)) {
      last = event;
      this.#warmups.set(upstreamId.toLowerCase(), {
        state: stateOf(event.status),
        busy: null,
        instances: null,
        at: this.#now(),
        source: "warm-up",
      });
      yield event;
      if (event.status === "hot") return;
    }
    if (timeout.aborted && !signal.aborted) {
      throw new WarmupError(
        `${upstreamId} is still ${last?.status ?? "cold"} on Chutes.ai after ${
          this.#timeoutMs / 1000
        } s (${last?.log || "no instance is running it yet"}); it keeps warming up there: ` +
          "try again in a few minutes",
        undefined,
        true,
      );
    }
    if (!signal.aborted) {
      throw new WarmupError(
        `the warm-up of ${upstreamId} ended before the chute was hot` +
          (last ? ` (last status: ${last.status}${last.log ? `, ${last.log}` : ""})` : ""),
      );
    }
  }

  /** Starts a warm-up in the background (a load request); one per model at a time. */
  warmInBackground(upstreamId: string): void {
    const key = upstreamId.toLowerCase();
    if (!this.#api || this.#running.has(key)) return;
    this.#running.add(key);
    void (async () => {
      try {
        for await (const _ of this.warm(upstreamId, new AbortController().signal)) { /* follow */ }
        this.#log.info(`warm-up of ${upstreamId}: hot`);
      } catch (err) {
        this.#log.warn(`warm-up of ${upstreamId}: ${(err as Error).message}`);
      } finally {
        this.#running.delete(key);
      }
    })();
  }
}
