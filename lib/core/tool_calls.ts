/**
 * Streamed tool-call fragments gathered into calls, for the interpreter (lib/core/interpret.ts).
 * A call is keyed by the upstream's `index`; it starts (`toolCallStart`) once its arguments begin,
 * so a name sent in pieces is whole, and its argument pieces then flow as `toolCallDelta`. A
 * fragment with no index, id or name continues the last call (some upstreams number only the
 * first fragment). A call without an id gets one (`call_…`).
 */
import type { ToolCallDelta } from "../upstream/wire.ts";
import type { AnswerEvents } from "./events.ts";

/** A call being gathered. */
export interface PendingCall {
  /** Position among the answer's calls (order of first appearance). */
  index: number;
  id: string;
  name: string;
  args: string;
  started: boolean;
}

function randomCallId(): string {
  return `call_${crypto.randomUUID().replace(/-/g, "").slice(0, 8)}`;
}

const text = (v: unknown) => typeof v === "string" ? v : "";

/** The calls of one answer. */
export class ToolCallGatherer {
  readonly #out: AnswerEvents;
  /** Calls by the upstream's `index`. */
  readonly #calls = new Map<number, PendingCall>();
  /** The key of the call the last fragment belonged to. */
  #lastKey: number | undefined;

  constructor(out: AnswerEvents) {
    this.#out = out;
  }

  /** Gathers one fragment, telling the events what starts and what flows. */
  gather(d: ToolCallDelta): void {
    const name = text(d.function?.name);
    const id = typeof d.id === "string" && d.id !== "" ? d.id : undefined;
    let key = typeof d.index === "number" ? d.index : undefined;
    if (key === undefined) {
      key = name === "" && id === undefined && this.#lastKey !== undefined
        ? this.#lastKey
        : this.#calls.size;
    }
    this.#lastKey = key;
    let call = this.#calls.get(key);
    if (!call) {
      const index = this.#calls.size;
      call = { index, id: id ?? randomCallId(), name: "", args: "", started: false };
      this.#calls.set(key, call);
    }
    if (name !== "") call.name += name;
    const args = text(d.function?.arguments);
    if (args === "") return;
    call.args += args;
    if (call.started) return this.#out.toolCallDelta(call.index, args);
    if (call.name === "") return;
    call.started = true;
    this.#out.toolCallStart(call.index, call.id, call.name);
    this.#out.toolCallDelta(call.index, call.args);
  }

  /** Every call gathered, in the upstream's index order; the gatherer is empty after. */
  drain(): PendingCall[] {
    const calls = [...this.#calls.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
    this.#calls.clear();
    return calls;
  }
}
