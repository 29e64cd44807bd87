/**
 * Usage that survives restarts: requests, errors, tokens in and out and the estimated cost per
 * hour, model, door and access-key name (never a key), in an SQLite file (`node:sqlite`, built
 * into Deno) in the state directory, in WAL mode, one upsert per finished request. Hours older
 * than the retention (`usage_retention_days`) are deleted at start and then hourly. A file that
 * cannot be opened, is corrupt or stops accepting writes is reported (log and status page) and
 * usage is kept in memory from then on: the proxy keeps serving. `/metrics` stays process-local.
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { Logger } from "../base/log.ts";

/** One finished request, as the store counts it. */
export interface UsageEvent {
  at: number;
  model: string;
  door: string;
  keyName: string;
  failed: boolean;
  tokensIn: number;
  tokensOut: number;
  /** Estimated USD, or null when the model has no price. */
  costUsd: number | null;
}

/** Totals of one period, with the same totals split by model, door and key. */
export interface UsagePeriod {
  requests: number;
  errors: number;
  tokens_in: number;
  tokens_out: number;
  cost_usd: number;
  by_model: ({ model: string } & Totals)[];
  by_door: ({ door: string } & Totals)[];
  by_key: ({ key_name: string } & Totals)[];
}

interface Totals {
  requests: number;
  errors: number;
  tokens_in: number;
  tokens_out: number;
  cost_usd: number;
}

const HOUR = 3_600_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS usage_hourly (
  hour INTEGER NOT NULL,
  model TEXT NOT NULL,
  door TEXT NOT NULL,
  key_name TEXT NOT NULL,
  requests INTEGER NOT NULL DEFAULT 0,
  errors INTEGER NOT NULL DEFAULT 0,
  tokens_in INTEGER NOT NULL DEFAULT 0,
  tokens_out INTEGER NOT NULL DEFAULT 0,
  cost_usd REAL NOT NULL DEFAULT 0,
  PRIMARY KEY (hour, model, door, key_name)
) WITHOUT ROWID`;

const UPSERT = `
INSERT INTO usage_hourly (hour, model, door, key_name, requests, errors, tokens_in, tokens_out, cost_usd)
VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?)
ON CONFLICT (hour, model, door, key_name) DO UPDATE SET
  requests = requests + 1, errors = errors + excluded.errors,
  tokens_in = tokens_in + excluded.tokens_in, tokens_out = tokens_out + excluded.tokens_out,
  cost_usd = cost_usd + excluded.cost_usd`;

const TOTALS = "SUM(requests) AS requests, SUM(errors) AS errors, SUM(tokens_in) AS tokens_in, " +
  "SUM(tokens_out) AS tokens_out, SUM(cost_usd) AS cost_usd";

function totals(row: Record<string, unknown> | undefined): Totals {
  const n = (v: unknown) => typeof v === "number" ? v : Number(v ?? 0) || 0;
  return {
    requests: n(row?.requests),
    errors: n(row?.errors),
    tokens_in: n(row?.tokens_in),
    tokens_out: n(row?.tokens_out),
    cost_usd: n(row?.cost_usd),
  };
}

/** The persistent usage counters. */
export class UsageStore {
  #db!: DatabaseSync;
  #upsert!: StatementSync;
  #prunedAt = 0;
  /** Where the counters live: the file, or "memory". */
  where: string;
  /** What went wrong with the file, when something did (shown on the status page). */
  problem: string | null = null;

  private constructor(
    path: string | undefined,
    readonly retentionDays: number,
    readonly now: () => number,
    readonly log: Logger,
  ) {
    this.where = path ?? "memory";
    if (path === undefined) {
      this.#use(new DatabaseSync(":memory:"));
      return;
    }
    try {
      const db = new DatabaseSync(path);
      try {
        db.exec("PRAGMA journal_mode = WAL");
        db.exec("PRAGMA synchronous = NORMAL");
        db.exec("PRAGMA busy_timeout = 1000");
        this.#use(db);
      } catch (err) {
        db.close();
        throw err;
      }
    } catch (err) {
      this.#fail(`cannot open the usage database ${path}: ${(err as Error).message}`);
    }
  }

  /** Counters kept in memory only (tests, demo). */
  static memory(options: { now?: () => number; log: Logger }): UsageStore {
    return new UsageStore(undefined, 90, options.now ?? Date.now, options.log);
  }

  /** Opens (or creates) the database file; never throws: a problem is reported and kept. */
  static open(
    path: string,
    options: { retentionDays: number; now?: () => number; log: Logger },
  ): UsageStore {
    return new UsageStore(path, options.retentionDays, options.now ?? Date.now, options.log);
  }

  #use(db: DatabaseSync): void {
    db.exec(SCHEMA);
    this.#db = db;
    this.#upsert = db.prepare(UPSERT);
    this.#prune();
  }

  #fail(problem: string): void {
    this.problem = `${problem}; usage is counted in memory only until the proxy restarts`;
    this.log.error(this.problem);
    try {
      this.#db?.close();
    } catch {
      // already closed or broken
    }
    this.where = "memory";
    this.#use(new DatabaseSync(":memory:"));
  }

  #prune(): void {
    this.#prunedAt = this.now();
    const oldest = Math.floor(this.now() / HOUR) - this.retentionDays * 24;
    this.#db.prepare("DELETE FROM usage_hourly WHERE hour < ?").run(oldest);
  }

  /** Counts one finished request. */
  add(e: UsageEvent): void {
    const args = [
      Math.floor(e.at / HOUR),
      e.model,
      e.door,
      e.keyName,
      e.failed ? 1 : 0,
      e.tokensIn,
      e.tokensOut,
      e.costUsd ?? 0,
    ] as const;
    try {
      if (this.now() - this.#prunedAt > HOUR) this.#prune();
      this.#upsert.run(...args);
    } catch (err) {
      this.#fail(`cannot write to the usage database ${this.where}: ${(err as Error).message}`);
      try {
        this.#upsert.run(...args);
      } catch {
        // Nothing more to do: the request itself is answered either way.
      }
    }
  }

  /** Totals since `from` (wall-clock ms, rounded down to its hour). */
  since(from: number): UsagePeriod {
    const hour = Math.floor(from / HOUR);
    try {
      const where = "FROM usage_hourly WHERE hour >= ?";
      const group = (col: string) =>
        this.#db.prepare(`SELECT ${col}, ${TOTALS} ${where} GROUP BY ${col} ORDER BY ${col}`)
          .all(hour) as Record<string, unknown>[];
      return {
        ...totals(this.#db.prepare(`SELECT ${TOTALS} ${where}`).get(hour)),
        by_model: group("model").map((r) => ({ model: String(r.model), ...totals(r) })),
        by_door: group("door").map((r) => ({ door: String(r.door), ...totals(r) })),
        by_key: group("key_name").map((r) => ({ key_name: String(r.key_name), ...totals(r) })),
      };
    } catch (err) {
      this.#fail(`cannot read the usage database ${this.where}: ${(err as Error).message}`);
      return this.since(from);
    }
  }

  /** Closes the file (the WAL is checkpointed into it). */
  close(): void {
    try {
      this.#db.close();
    } catch {
      // already closed
    }
  }
}

/** Local midnight today, Monday of this week and the 1st of this month, as wall-clock ms. */
export function periodStarts(now: number): { today: number; week: number; month: number } {
  const d = new Date(now);
  const today = new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const sinceMonday = (d.getDay() + 6) % 7;
  const week = new Date(d.getFullYear(), d.getMonth(), d.getDate() - sinceMonday).getTime();
  const month = new Date(d.getFullYear(), d.getMonth(), 1).getTime();
  return { today, week, month };
}
