/**
 * Header values built from client text (the option names in `X-Proxy-Ignored-Options`): a
 * control character is written as `\xHH` (so no line break starts a header of its own and Deno's
 * HTTP/1 writer never sees one), a character beyond Latin-1 as `?` (so `Headers` never throws),
 * and the value is bounded.
 */

// deno-lint-ignore no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f\u0100-\uffff]/g;

/** Writes control characters (tab aside) as `\xHH` and characters beyond Latin-1 as `?`. */
export function safeHeaderValue(value: string): string {
  return value.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code > 0xff ? "?" : `\\x${code.toString(16).padStart(2, "0")}`;
  });
}

/** Joins notes into one safe header value. */
export function noteHeader(notes: readonly string[]): string {
  const text = safeHeaderValue(notes.join(", "));
  return text.length > 2000 ? `${text.slice(0, 2000)}...` : text;
}
