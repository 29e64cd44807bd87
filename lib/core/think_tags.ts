/**
 * Inline reasoning: some models behind Chutes put their reasoning in the content as
 * `<think>…</think>` instead of `reasoning_content`. When the content *starts* with `<think>`
 * (after whitespace), this splitter routes the text up to `</think>` to thinking and the rest to
 * content, as Ollama's own parsers do (whitespace right after either tag is dropped). A tag split
 * across deltas is held back until it can be recognised; any other content passes straight on.
 */

const OPEN = "<think>";
const CLOSE = "</think>";

/** How much leading whitespace may wait for a possible `<think>`. */
const MAX_LEADING_WHITESPACE = 64;

/** A delta split into its thinking and content parts. */
export interface SplitDelta {
  thinking: string;
  content: string;
}

/** True when `text` ends with a non-empty proper prefix of `tag` (a tag cut by the network). */
function pendingPrefix(text: string, tag: string): number {
  for (let n = Math.min(tag.length - 1, text.length); n > 0; n--) {
    if (text.endsWith(tag.slice(0, n))) return n;
  }
  return 0;
}

/** Splits streamed content into thinking and content. One instance per response. */
export class ThinkTagSplitter {
  #state: "start" | "opened" | "thinking" | "after" | "plain" = "start";
  #held = "";

  /** Feeds one content delta. */
  push(delta: string): SplitDelta {
    if (this.#state === "plain") return { thinking: "", content: delta };
    if (this.#state === "start" && this.#held.trim() === "" && delta.trim() === "") {
      // Leading whitespace only: hold it (bounded, so a model stuck on newlines costs linear
      // time and its text still flows).
      this.#held += delta;
      if (this.#held.length <= MAX_LEADING_WHITESPACE) return { thinking: "", content: "" };
      this.#state = "plain";
      const held = this.#held;
      this.#held = "";
      return { thinking: "", content: held };
    }
    let text = this.#held + delta;
    this.#held = "";
    if (this.#state === "start") {
      const trimmed = text.trimStart();
      if (trimmed.length < OPEN.length && OPEN.startsWith(trimmed)) {
        this.#held = text;
        return { thinking: "", content: "" };
      }
      if (!trimmed.startsWith(OPEN)) {
        this.#state = "plain";
        return { thinking: "", content: text };
      }
      this.#state = "opened";
      text = trimmed.slice(OPEN.length);
    }
    if (this.#state === "opened") {
      // Whitespace right after <think> is dropped, however the deltas fall.
      text = text.trimStart();
      if (text === "") return { thinking: "", content: "" };
      this.#state = "thinking";
    }
    if (this.#state === "after") {
      text = text.trimStart();
      if (text !== "") this.#state = "plain";
      return { thinking: "", content: text };
    }
    const end = text.indexOf(CLOSE);
    if (end >= 0) {
      const after = text.slice(end + CLOSE.length).trimStart();
      this.#state = after === "" ? "after" : "plain";
      return { thinking: text.slice(0, end), content: after };
    }
    const hold = pendingPrefix(text, CLOSE);
    this.#held = text.slice(text.length - hold);
    return { thinking: text.slice(0, text.length - hold), content: "" };
  }

  /** Whatever is still held back when the stream ends. */
  flush(): SplitDelta {
    const held = this.#held;
    this.#held = "";
    return this.#state === "thinking"
      ? { thinking: held, content: "" }
      : { thinking: "", content: held };
  }
}
