/**
 * Inline `<think>…</think>` reasoning is split into thinking and content, whatever the deltas'
 * boundaries, and only when the content starts with the tag; end to end it reaches the client
 * as `message.thinking`.
 */
import assert from "node:assert/strict";
import { ThinkTagSplitter } from "../../lib/core/think_tags.ts";
import { chunk, sse, usage } from "../_fake_upstream.ts";
import { post, startProxy } from "../_helpers.ts";

function run(pieces: string[]): { thinking: string; content: string } {
  const splitter = new ThinkTagSplitter();
  let thinking = "";
  let content = "";
  for (const piece of [...pieces.map((p) => splitter.push(p)), splitter.flush()]) {
    thinking += piece.thinking;
    content += piece.content;
  }
  return { thinking, content };
}

const CASES: [string, { thinking: string; content: string }][] = [
  ["<think>I need to add.</think>The answer is 4.", {
    thinking: "I need to add.",
    content: "The answer is 4.",
  }],
  ["\n <think>\nhmm\n</think>\n\nYes.", { thinking: "hmm\n", content: "Yes." }],
  ["<think></think>Only content", { thinking: "", content: "Only content" }],
  ["Plain answer with <think> later</think>", {
    thinking: "",
    content: "Plain answer with <think> later</think>",
  }],
  ["<thinking> is not the tag", { thinking: "", content: "<thinking> is not the tag" }],
  ["<think>never closed", { thinking: "never closed", content: "" }],
  ["  ", { thinking: "", content: "  " }],
  ["<thi", { thinking: "", content: "<thi" }],
];

Deno.test("ThinkTagSplitter gives the same split at every delta boundary", async (t) => {
  for (const [text, expected] of CASES) {
    await t.step(JSON.stringify(text), () => {
      assert.deepEqual(run([text]), expected);
      for (let i = 1; i < text.length; i++) {
        assert.deepEqual(run([text.slice(0, i), text.slice(i)]), expected, `split at ${i}`);
      }
      assert.deepEqual(run([...text]), expected, "one character at a time");
    });
  }
});

Deno.test("inline <think> from the upstream reaches an Ollama client as message.thinking", async () => {
  await using p = startProxy();
  p.upstream.enqueue("/v1/chat/completions", {
    pieces: sse([
      chunk({ role: "assistant", content: "<thi" }),
      chunk({ content: "nk>Let me think" }),
      chunk({ content: ".</th" }),
      chunk({ content: "ink>\n\nThe answer is 42." }),
      chunk({}, "stop"),
      usage(5, 9),
    ]),
  });
  const res = await post(p, "/api/chat", {
    model: "Qwen/Qwen3-32B-TEE",
    messages: [{ role: "user", content: "?" }],
    stream: false,
  });
  const body = await res.json();
  assert.deepEqual(body.message, {
    role: "assistant",
    content: "The answer is 42.",
    thinking: "Let me think.",
  });
});
