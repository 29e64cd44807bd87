/**
 * Tests for the conversation policy (`lib/core/policy.ts`): the default system prompt and history
 * trimming that keeps system messages and never leaves an orphaned tool result.
 */
import assert from "node:assert/strict";
import { applyDefaultSystemPrompt, trimHistory } from "../../lib/core/policy.ts";
import { textStream } from "../_fake_upstream.ts";
import { post, startProxy } from "../_helpers.ts";
import type { OllamaMessage } from "../../lib/doors/ollama/types.ts";

const sys = (content: string): OllamaMessage => ({ role: "system", content });
const user = (content: string): OllamaMessage => ({ role: "user", content });
const assistant = (content: string): OllamaMessage => ({ role: "assistant", content });
const call = (...names: string[]): OllamaMessage => ({
  role: "assistant",
  content: "",
  tool_calls: names.map((name) => ({ name, arguments: {} })),
});
const result = (tool_name: string, content: string): OllamaMessage => ({
  role: "tool",
  content,
  tool_name,
});

Deno.test("the default system prompt is added only when there is no system message", async (t) => {
  const cases: {
    name: string;
    messages: OllamaMessage[];
    prompt: string | null;
    want: OllamaMessage[];
  }[] = [
    {
      name: "no system message: prepended",
      messages: [user("hi")],
      prompt: "Be brief.",
      want: [sys("Be brief."), user("hi")],
    },
    {
      name: "empty conversation: prepended",
      messages: [],
      prompt: "Be brief.",
      want: [sys("Be brief.")],
    },
    {
      name: "client system message wins",
      messages: [sys("Be verbose."), user("hi")],
      prompt: "Be brief.",
      want: [sys("Be verbose."), user("hi")],
    },
    {
      name: "a later system message also counts",
      messages: [user("hi"), sys("Now be terse.")],
      prompt: "Be brief.",
      want: [user("hi"), sys("Now be terse.")],
    },
    { name: "no prompt configured", messages: [user("hi")], prompt: null, want: [user("hi")] },
    { name: "empty prompt configured", messages: [user("hi")], prompt: "", want: [user("hi")] },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      const input = structuredClone(c.messages);
      assert.deepEqual(applyDefaultSystemPrompt(input, c.prompt), c.want);
      assert.deepEqual(input, c.messages, "input is not mutated");
    });
  }
});

Deno.test("trimHistory keeps system messages and the last N others", async (t) => {
  const s = sys("S");
  const u1 = user("u1"), a1 = assistant("a1"), u2 = user("u2"), a2 = assistant("a2");
  const u3 = user("u3");
  const all = [s, u1, a1, u2, a2, u3];
  const cases: { max: number; messages: OllamaMessage[]; want: OllamaMessage[] }[] = [
    { max: -1, messages: all, want: all },
    { max: 1, messages: all, want: [s, u3] },
    { max: 2, messages: all, want: [s, a2, u3] },
    { max: 4, messages: all, want: [s, a1, u2, a2, u3] },
    { max: 5, messages: all, want: all },
    { max: 10, messages: all, want: all },
    { max: 1, messages: [u1, s, a1, sys("S2"), u2], want: [s, sys("S2"), u2] },
    { max: 2, messages: [], want: [] },
  ];
  for (const c of cases) {
    await t.step(`max ${c.max} of ${c.messages.length}`, () => {
      assert.deepEqual(trimHistory(c.messages, c.max), c.want);
    });
  }
});

Deno.test("-1 keeps a long history whole", () => {
  const long = Array.from({ length: 500 }, (_, i) => user(`m${i}`));
  assert.equal(trimHistory(long, -1).length, 500);
});

Deno.test("a tool result whose assistant call was trimmed away is dropped", async (t) => {
  const s = sys("S");
  const u1 = user("weather?");
  const c1 = call("get_weather");
  const r1 = result("get_weather", "sunny");
  const a1 = assistant("It is sunny.");
  const u2 = user("thanks");
  const c2 = call("a", "b");
  const ra = result("a", "A");
  const rb = result("b", "B");
  const cases: { name: string; messages: OllamaMessage[]; max: number; want: OllamaMessage[] }[] = [
    {
      name: "window starts at the tool result",
      messages: [s, u1, c1, r1, a1, u2],
      max: 3,
      want: [s, a1, u2],
    },
    {
      name: "window starts at the call: result kept",
      messages: [s, u1, c1, r1, a1, u2],
      max: 4,
      want: [s, c1, r1, a1, u2],
    },
    {
      name: "two leading results of a cut call are both dropped",
      messages: [u1, c2, ra, rb, a1],
      max: 3,
      want: [a1],
    },
    {
      name: "the second result of a cut call is dropped",
      messages: [u1, c2, ra, rb, a1],
      max: 2,
      want: [a1],
    },
    {
      name: "a later tool result in the window is kept",
      messages: [u1, a1, u2, c1, r1],
      max: 3,
      want: [u2, c1, r1],
    },
    {
      name: "no trimming: a leading tool result is left alone",
      messages: [r1, u2],
      max: -1,
      want: [r1, u2],
    },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      assert.deepEqual(trimHistory(c.messages, c.max), c.want);
    });
  }
});

Deno.test("every door's chat gets the default system prompt and the history limit upstream", async (t) => {
  await using p = startProxy({
    config: { default_system_prompt: "DEF", max_history_messages: 2 },
  });
  const CHAT = "/v1/chat/completions";
  const model = "Qwen/Qwen3-32B-TEE";
  const history = [user("u1"), assistant("a1"), user("u2")];
  const cases: { name: string; path: string; body: Record<string, unknown>; want: unknown[] }[] = [
    {
      name: "/api/chat: no system message: default added, history trimmed",
      path: "/api/chat",
      body: { model, messages: history, stream: false },
      want: [{ role: "system", content: "DEF" }, assistant("a1"), user("u2")],
    },
    {
      name: "/api/chat: client system message: no default",
      path: "/api/chat",
      body: { model, messages: [sys("MINE"), user("u1")], stream: false },
      want: [sys("MINE"), user("u1")],
    },
    {
      name: "/api/generate: default system prompt when no system",
      path: "/api/generate",
      body: { model, prompt: "hi", stream: false },
      want: [{ role: "system", content: "DEF" }, user("hi")],
    },
    {
      name: "/api/generate: the client's system replaces the default",
      path: "/api/generate",
      body: { model, prompt: "hi", system: "S", stream: false },
      want: [sys("S"), user("hi")],
    },
    {
      name: "/v1/chat/completions: default added, history trimmed",
      path: CHAT,
      body: { model, messages: history },
      want: [{ role: "system", content: "DEF" }, assistant("a1"), user("u2")],
    },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      p.upstream.enqueue(CHAT, { pieces: textStream(["ok"]) });
      const res = await post(p, c.path, c.body);
      assert.equal(res.status, 200);
      await res.body?.cancel();
      assert.deepEqual(p.upstream.calls(CHAT).at(-1)!.body!.messages, c.want);
    });
  }
});
