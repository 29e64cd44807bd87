/**
 * Images: Ollama sends raw base64 without a MIME type; OpenAI-compatible servers want a data URL.
 * The MIME type is sniffed from the first bytes (PNG, JPEG, GIF, WebP, BMP, AVIF/HEIC), with
 * `image/jpeg` as Ollama's own fallback. Data URLs from lenient clients keep their own type.
 */

const SIGNATURES: { mime: string; test: (b: Uint8Array) => boolean }[] = [
  {
    mime: "image/png",
    test: (b) => b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47,
  },
  { mime: "image/jpeg", test: (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { mime: "image/gif", test: (b) => ascii(b, 0, 4) === "GIF8" },
  { mime: "image/webp", test: (b) => ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 12) === "WEBP" },
  { mime: "image/bmp", test: (b) => b[0] === 0x42 && b[1] === 0x4d },
  {
    mime: "image/avif",
    test: (b) => ascii(b, 4, 8) === "ftyp" && ascii(b, 8, 12).startsWith("avi"),
  },
  {
    mime: "image/heic",
    test: (b) => ascii(b, 4, 8) === "ftyp" && ascii(b, 8, 12).startsWith("hei"),
  },
];

function ascii(bytes: Uint8Array, from: number, to: number): string {
  return String.fromCharCode(...bytes.subarray(from, to));
}

/** Decodes just enough leading base64 (16 bytes) to recognise a file signature. */
function headBytes(base64: string): Uint8Array {
  const head = base64.replace(/\s+/g, "").slice(0, 24).replace(/-/g, "+").replace(/_/g, "/");
  try {
    return Uint8Array.from(atob(head), (c) => c.charCodeAt(0));
  } catch {
    return new Uint8Array();
  }
}

/** Guesses an image's MIME type from its base64 content; `image/jpeg` when unknown. */
export function sniffImageMime(base64: string): string {
  const bytes = headBytes(base64);
  return SIGNATURES.find((s) => s.test(bytes))?.mime ?? "image/jpeg";
}

/** Turns an Ollama image (raw base64, or already a data URL) into a data URL. */
export function toDataUrl(image: string): string {
  if (image.startsWith("data:")) return image;
  const clean = image.replace(/\s+/g, "");
  return `data:${sniffImageMime(clean)};base64,${clean}`;
}
