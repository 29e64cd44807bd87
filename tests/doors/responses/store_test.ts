/**
 * The `previous_response_id` store: entries expire after their TTL, belong to one owner, are
 * evicted least recently used first by count and by size, and a conversation larger than the
 * whole budget is not kept; output items come back as the input items a client would replay.
 */
import assert from "node:assert/strict";
import { ResponseStore, toInputItems } from "../../../lib/doors/responses/store.ts";
import type { InputItem } from "../../../lib/doors/responses/types.ts";

const item = (text: string): InputItem => ({ type: "message", role: "user", content: text });

Deno.test("responses store: kept per owner until the TTL passes", () => {
  let now = 0;
  const store = new ResponseStore({ maxEntries: 10, maxBytes: 1 << 20, ttlMs: 1000 }, () => now);
  assert.ok(store.put("resp_a", "alice", [item("hi")]));
  assert.deepEqual(store.get("resp_a", "alice"), [item("hi")]);
  assert.equal(store.get("resp_a", "bob"), undefined);
  now = 999;
  assert.ok(store.get("resp_a", "alice"));
  now = 1000;
  assert.equal(store.get("resp_a", "alice"), undefined);
  assert.deepEqual(store.size, { entries: 0, bytes: 0 });
});

Deno.test("responses store: least recently used goes first, by count and by size", () => {
  const store = new ResponseStore({ maxEntries: 2, maxBytes: 200, ttlMs: 60_000 }, () => 0);
  store.put("a", "o", [item("1")]);
  store.put("b", "o", [item("2")]);
  store.get("a", "o"); // a is now the most recently used
  store.put("c", "o", [item("3")]);
  assert.ok(store.get("a", "o"));
  assert.equal(store.get("b", "o"), undefined);
  assert.ok(store.get("c", "o"));
  const big = [item("x".repeat(120))];
  store.put("d", "o", big);
  assert.ok(store.size.bytes <= 200);
  assert.ok(store.get("d", "o"));
  assert.equal(store.size.entries, 1);
  assert.equal(store.put("e", "o", [item("y".repeat(300))]), false);
  assert.equal(store.get("e", "o"), undefined);
});

Deno.test("responses store: output items become replayable input items", () => {
  assert.deepEqual(
    toInputItems([
      { id: "rs", type: "reasoning", summary: [{ type: "summary_text", text: "hm" }] },
      {
        id: "m",
        type: "message",
        status: "completed",
        role: "assistant",
        content: [{ type: "output_text", text: "Hi", annotations: [], logprobs: [] }],
      },
      {
        id: "f",
        type: "function_call",
        status: "completed",
        call_id: "c",
        name: "find",
        namespace: "crm",
        arguments: "{}",
      },
      {
        id: "p",
        type: "custom_tool_call",
        status: "completed",
        call_id: "d",
        name: "apply_patch",
        input: "P",
      },
    ]),
    [
      { type: "reasoning", text: "hm" },
      { type: "message", role: "assistant", content: "Hi" },
      { type: "function_call", call_id: "c", name: "find", namespace: "crm", arguments: "{}" },
      { type: "custom_tool_call", call_id: "d", name: "apply_patch", input: "P" },
    ],
  );
});
