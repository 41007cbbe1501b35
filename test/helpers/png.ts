// A small PNG decoder for the tests (8-bit RGB/RGBA/grey, non-interlaced: what resvg and Chromium write),
// so the pixels of a rendered chart or screenshot can be checked without another dependency.
import * as zlib from 'zlib';

export interface DecodedPng {
  width: number;
  height: number;
  /** RGBA, 4 bytes per pixel, row-major. */
  rgba: Uint8Array;
}

const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function hasPngSignature(bytes: Buffer): boolean {
  return bytes.length > 8 && bytes.subarray(0, 8).equals(signature);
}

export function decodePng(bytes: Buffer): DecodedPng {
  if (!hasPngSignature(bytes)) throw new Error('not a PNG: bad signature');
  let offset = 8;
  let width = 0;
  let height = 0;
  let colorType = -1;
  const data: Buffer[] = [];
  while (offset < bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString('latin1', offset + 4, offset + 8);
    const body = bytes.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const bitDepth = body[8];
      colorType = body[9];
      if (bitDepth !== 8 || body[12] !== 0 || ![0, 2, 4, 6].includes(colorType)) {
        throw new Error(`unsupported PNG: bit depth ${bitDepth}, colour type ${colorType}, interlace ${body[12]}`);
      }
    } else if (type === 'IDAT') data.push(body);
    else if (type === 'IEND') break;
    offset += 12 + length;
  }
  const channels = { 0: 1, 2: 3, 4: 2, 6: 4 }[colorType as 0 | 2 | 4 | 6];
  const raw = zlib.inflateSync(Buffer.concat(data));
  const stride = width * channels;
  const pixels = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    for (let x = 0; x < stride; x++) {
      const value = raw[y * (stride + 1) + 1 + x];
      const left = x >= channels ? pixels[y * stride + x - channels] : 0;
      const up = y > 0 ? pixels[(y - 1) * stride + x] : 0;
      const upLeft = y > 0 && x >= channels ? pixels[(y - 1) * stride + x - channels] : 0;
      pixels[y * stride + x] = (value + predict(filter, left, up, upLeft)) & 0xff;
    }
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const p = pixels.subarray(i * channels, (i + 1) * channels);
    const [r, g, b] = channels >= 3 ? [p[0], p[1], p[2]] : [p[0], p[0], p[0]];
    rgba.set([r, g, b, channels === 4 ? p[3] : channels === 2 ? p[1] : 255], i * 4);
  }
  return { width, height, rgba };
}

function predict(filter: number, left: number, up: number, upLeft: number): number {
  switch (filter) {
    case 0: return 0;
    case 1: return left;
    case 2: return up;
    case 3: return (left + up) >> 1;
    case 4: {
      const estimate = left + up - upLeft;
      const [dl, du, dul] = [Math.abs(estimate - left), Math.abs(estimate - up), Math.abs(estimate - upLeft)];
      return dl <= du && dl <= dul ? left : du <= dul ? up : upLeft;
    }
    default: throw new Error(`bad PNG filter type ${filter}`);
  }
}

/** Pixels in a rectangle that are not (near) white and not transparent. */
export function countInkPixels(png: DecodedPng, region = { x: 0, y: 0, width: png.width, height: png.height }): number {
  let ink = 0;
  for (let y = region.y; y < region.y + region.height; y++) {
    for (let x = region.x; x < region.x + region.width; x++) {
      const i = (y * png.width + x) * 4;
      if (png.rgba[i + 3] > 0 && (png.rgba[i] < 235 || png.rgba[i + 1] < 235 || png.rgba[i + 2] < 235)) ink++;
    }
  }
  return ink;
}

/** Pixels whose colour is within `tolerance` of the hex colour `#rrggbb`. */
export function countColorPixels(png: DecodedPng, hex: string, tolerance = 40): number {
  const target = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  let count = 0;
  for (let i = 0; i < png.width * png.height; i++) {
    const d = Math.abs(png.rgba[i * 4] - target[0]) + Math.abs(png.rgba[i * 4 + 1] - target[1]) + Math.abs(png.rgba[i * 4 + 2] - target[2]);
    if (png.rgba[i * 4 + 3] > 0 && d <= tolerance) count++;
  }
  return count;
}
