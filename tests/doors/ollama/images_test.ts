/**
 * Tests for image handling (`lib/doors/ollama/images.ts`): MIME sniffing from real file signatures built
 * here byte by byte, the `image/jpeg` fallback, and data URLs.
 */
import assert from "node:assert/strict";
import { sniffImageMime, toDataUrl } from "../../../lib/doors/ollama/images.ts";

/** Base64 of the given bytes, padded with a few arbitrary body bytes. */
function b64(...bytes: number[]): string {
  const body = [...bytes, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77];
  return btoa(String.fromCharCode(...body));
}

const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));
const le32 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >> 24) & 0xff];

const PNG = b64(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, ...ascii("IHDR"));
const JPEG = b64(0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, ...ascii("JFIF"), 0);
const GIF87 = b64(...ascii("GIF87a"), 1, 0, 1, 0);
const GIF89 = b64(...ascii("GIF89a"), 1, 0, 1, 0);
const WEBP = b64(...ascii("RIFF"), ...le32(1234), ...ascii("WEBPVP8 "));
const BMP = b64(...ascii("BM"), ...le32(70), 0, 0, 0, 0);
const AVIF = b64(0, 0, 0, 0x20, ...ascii("ftypavif"), 0, 0, 0, 0);
const HEIC = b64(0, 0, 0, 0x18, ...ascii("ftypheic"), 0, 0, 0, 0);
const WAV = b64(...ascii("RIFF"), ...le32(1234), ...ascii("WAVEfmt "));
const TEXT = btoa("hello, this is not an image");

Deno.test("sniffImageMime recognises signatures", async (t) => {
  const cases: [string, string, string][] = [
    ["PNG", PNG, "image/png"],
    ["JPEG", JPEG, "image/jpeg"],
    ["GIF87a", GIF87, "image/gif"],
    ["GIF89a", GIF89, "image/gif"],
    ["WebP", WEBP, "image/webp"],
    ["BMP", BMP, "image/bmp"],
    ["AVIF", AVIF, "image/avif"],
    ["HEIC", HEIC, "image/heic"],
    ["RIFF but not WebP → fallback", WAV, "image/jpeg"],
    ["unknown bytes → image/jpeg", TEXT, "image/jpeg"],
    ["empty → image/jpeg", "", "image/jpeg"],
    ["not base64 → image/jpeg", "!!!", "image/jpeg"],
    ["PNG with line breaks", PNG.replace(/(.{4})/g, "$1\n"), "image/png"],
    ["PNG without padding", PNG.replace(/=+$/, ""), "image/png"],
  ];
  for (const [name, data, want] of cases) {
    await t.step(name, () => assert.equal(sniffImageMime(data), want));
  }
});

Deno.test("sniffImageMime reads URL-safe base64", () => {
  // 0xfb 0xff 0xbf encodes to "-_-_" in URL-safe base64: a JPEG-looking head needs it.
  const urlSafe = btoa(String.fromCharCode(0xff, 0xd8, 0xff, 0xfb, 0xff, 0xbf))
    .replace(/\+/g, "-").replace(/\//g, "_");
  assert.match(urlSafe, /[-_]/);
  assert.equal(sniffImageMime(urlSafe), "image/jpeg");
  const png = btoa(String.fromCharCode(0x89, 0x50, 0x4e, 0x47, 0xfb, 0xff))
    .replace(/\+/g, "-").replace(/\//g, "_");
  assert.match(png, /[-_]/);
  assert.equal(sniffImageMime(png), "image/png");
});

Deno.test("toDataUrl builds a data URL with the sniffed type", async (t) => {
  const cases: [string, string, string][] = [
    ["PNG", PNG, `data:image/png;base64,${PNG}`],
    ["GIF", GIF89, `data:image/gif;base64,${GIF89}`],
    ["WebP", WEBP, `data:image/webp;base64,${WEBP}`],
    ["unknown", TEXT, `data:image/jpeg;base64,${TEXT}`],
    [
      "whitespace is removed",
      ` ${PNG.slice(0, 8)}\n${PNG.slice(8)}\r\n`,
      `data:image/png;base64,${PNG}`,
    ],
  ];
  for (const [name, image, want] of cases) {
    await t.step(name, () => assert.equal(toDataUrl(image), want));
  }
});

Deno.test("a data URL from the client is kept as it is", () => {
  const url = `data:image/webp;base64,${PNG}`;
  assert.equal(toDataUrl(url), url);
});
