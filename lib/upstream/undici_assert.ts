/**
 * A cheaper `assert` for undici, installed before undici loads (lib/upstream/undici.ts imports
 * this module first). undici checks its own invariants with `node:assert` about seven times per
 * network read; under Deno 2.9 each call of `node:assert` costs about 0.25 µs against 0.002 µs
 * for a plain test, which made it the largest single cost per streamed token after the garbage
 * collector (7 % of the proxy's busy time in bench profile (a)). The replacement throws the same
 * `AssertionError` when a check fails and is handed only to modules loaded from undici's own
 * package, through the CommonJS loader's `Module._load`; should a Deno release stop calling that
 * hook, undici simply keeps the real `node:assert`.
 */
import nodeAssert from "node:assert";
import Module from "node:module";

type Load = (request: string, parent?: { filename?: string }, isMain?: boolean) => unknown;

/** `assert(value, message)` with `node:assert`'s failure, without its cost when it holds. */
function check(value: unknown, message?: string | Error): asserts value {
  if (!value) nodeAssert(value, message);
}

const fast = Object.assign(check, nodeAssert, { ok: check });

const loader = Module as unknown as { _load?: Load };
const load = loader._load;
if (typeof load === "function") {
  loader._load = function (request, parent, isMain) {
    if (
      (request === "node:assert" || request === "assert") &&
      /[\\/]undici[\\/]/.test(parent?.filename ?? "")
    ) return fast;
    return load.call(this, request, parent, isMain);
  };
}
