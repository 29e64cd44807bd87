/**
 * The local token estimate behind `/v1/messages/count_tokens`: what is counted (text,
 * reasoning, tool calls, images, tool declarations), what is not (the billing header, server
 * tools), and the captured Claude Code request.
 */
import assert from "node:assert/strict";
import { estimateInputTokens } from "../../../lib/doors/anthropic/count_tokens.ts";
import { parseMessagesRequest } from "../../../lib/doors/anthropic/parse.ts";
import { toChatPlan } from "../../../lib/doors/anthropic/to_upstream.ts";

const count = (body: Record<string, unknown>) =>
  estimateInputTokens(toChatPlan(parseMessagesRequest({ model: "m", ...body }, true)).plan.body);

Deno.test("count_tokens: four characters a token plus four per message, at least 1", () => {
  assert.equal(count({ messages: [{ role: "user", content: [] }] }), 1);
  assert.equal(count({ messages: [{ role: "user", content: "" }] }), 4);
  assert.equal(count({ messages: [{ role: "user", content: "x".repeat(40) }] }), 4 + 10);
  assert.equal(
    count({ system: "y".repeat(8), messages: [{ role: "user", content: "x".repeat(40) }] }),
    (4 + 2) + (4 + 10),
  );
});

Deno.test("count_tokens: reasoning, tool calls, images and tools count; billing header and server tools do not", () => {
  const base = { messages: [{ role: "user", content: "hi" }] };
  const withCall = count({
    messages: [
      { role: "user", content: "hi" },
      {
        role: "assistant",
        content: [{ type: "thinking", thinking: "t".repeat(400) }, {
          type: "tool_use",
          id: "a",
          name: "f",
          input: {},
        }],
      },
    ],
  });
  assert.ok(withCall > count(base) + 100, "reasoning and the call are counted");
  const image = count({
    messages: [{
      role: "user",
      content: [{
        type: "image",
        source: { type: "base64", media_type: "image/png", data: "AA==" },
      }],
    }],
  });
  assert.equal(image, 4 + 768);
  const tools = [{ name: "Read", description: "d".repeat(400), input_schema: { type: "object" } }];
  assert.ok(count({ ...base, tools }) > count(base) + 100);
  assert.equal(
    count({ ...base, tools: [{ type: "web_search_20250305", name: "web_search" }] }),
    count(base),
  );
  assert.equal(
    count({
      ...base,
      system: [{ type: "text", text: "x-anthropic-billing-header: cc_version=1;" }],
    }),
    count(base),
  );
});

Deno.test("count_tokens: the captured Claude Code request", async () => {
  const capture = JSON.parse(
    await Deno.readTextFile(
      new URL("../../fixtures/anthropic/claude-code-count-tokens.request.json", import.meta.url),
    ),
  );
  const body = toChatPlan(parseMessagesRequest(capture.body, true)).plan.body;
  const tools = JSON.stringify(body.tools).length;
  assert.equal(estimateInputTokens(body), 4 + 1 + Math.ceil(tools / 4));
});
