/**
 * `GET /favicon.ico`: a 16×16 icon (a blue disc) built once as an ICO file holding a 32-bit
 * bitmap, so browsers showing the status page get an icon instead of a 404 on every view.
 */

function buildIcon(): Uint8Array {
  const size = 16;
  const pixels = size * size * 4;
  const mask = size * 4; // 1 bit per pixel, rows padded to 32 bits
  const image = 40 + pixels + mask;
  const bytes = new Uint8Array(6 + 16 + image);
  const view = new DataView(bytes.buffer);
  view.setUint16(2, 1, true); // type: icon
  view.setUint16(4, 1, true); // one image
  bytes[6] = size;
  bytes[7] = size;
  view.setUint16(10, 1, true); // planes
  view.setUint16(12, 32, true); // bits per pixel
  view.setUint32(14, image, true);
  view.setUint32(18, 22, true); // offset of the image
  view.setUint32(22, 40, true); // BITMAPINFOHEADER
  view.setInt32(26, size, true);
  view.setInt32(30, size * 2, true); // colour rows + mask rows
  view.setUint16(34, 1, true);
  view.setUint16(36, 32, true);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inside = (x - 7.5) ** 2 + (y - 7.5) ** 2 <= 56;
      const at = 62 + (y * size + x) * 4;
      // BGRA: #3451b2 inside, transparent outside.
      bytes.set(inside ? [0xb2, 0x51, 0x34, 0xff] : [0, 0, 0, 0], at);
    }
  }
  return bytes;
}

/** The icon file's bytes. */
export const FAVICON_ICO: Uint8Array = buildIcon();
