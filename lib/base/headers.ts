/**
 * Header values built from client text (the option names in `X-Proxy-Ignored-Options`): only
 * printable Latin-1 survives (anything else becomes `?`, so `Headers` never throws and no line
 * break can start a header of its own), and the value is bounded.
 */

/** Joins notes into one safe header value. */
export function noteHeader(notes: readonly string[]): string {
  const text = notes.join(", ").replace(/[^\x20-\x7e\xa0-\xff]/g, "?");
  return text.length > 2000 ? `${text.slice(0, 2000)}...` : text;
}
