/** Reads a `/v1/responses` SSE body in tests: one event per frame, its type checked. */
import assert from "node:assert/strict";

/** One parsed Responses stream event. */
export type Event = Record<string, unknown> & { type: string; sequence_number: number };

/** The SSE body as events, checking each frame's `event:` line against its `type`. */
export async function events(res: Response): Promise<Event[]> {
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/event-stream");
  const text = await res.text();
  assert.ok(text.endsWith("\n\n"));
  return text.slice(0, -2).split("\n\n").filter((f) => !f.startsWith(":")).map((frame) => {
    const match = /^event: (\S+)\ndata: (.*)$/s.exec(frame);
    assert.ok(match, `one SSE event per frame: ${frame}`);
    const data = JSON.parse(match[2]!) as Event;
    assert.equal(data.type, match[1]);
    return data;
  });
}
