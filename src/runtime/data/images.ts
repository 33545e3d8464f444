// PNG and JPEG files as model inputs: decode, resize (bilinear), scale, normalize, lay out.
import { readFileSync } from 'node:fs';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { badInput } from '../../errors.js';
import type { HostTensor } from '../ort.js';

export interface ImageOptions {
  /** Multiply 0..255 pixel values by this first (default 1/255). */
  scale?: number;
  /** Per-channel mean and std applied after scaling: (x*scale - mean) / std. */
  mean?: number[];
  std?: number[];
  layout?: 'NCHW' | 'NHWC';
  channels?: 'rgb' | 'bgr' | 'gray';
}

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'];

interface Rgba { width: number; height: number; data: Uint8Array }

function decode(file: string): Rgba {
  const bytes = readFileSync(file);
  try {
    if (file.toLowerCase().endsWith('.png')) {
      const png = PNG.sync.read(bytes);
      return { width: png.width, height: png.height, data: png.data };
    }
    const img = jpeg.decode(bytes, { useTArray: true, maxMemoryUsageInMB: 512 });
    return { width: img.width, height: img.height, data: img.data };
  } catch (err) {
    throw badInput(`${file}: cannot decode image (${(err as Error).message.split('\n')[0]})`);
  }
}

/** Reads an image as a float32 tensor shaped for an input of dims [1,C,H,W] or [1,H,W,C]. */
export function readImage(file: string, dims: number[], options: ImageOptions = {}): HostTensor {
  return readImageAt(file, dims, options).tensor;
}

export interface ImageRead {
  tensor: HostTensor;
  /** The size fed to the model, and the file's own. */
  width: number;
  height: number;
  sourceWidth: number;
  sourceHeight: number;
  /** Height or width came from the image, not from the dims asked for. */
  sizeFromImage: boolean;
}

/**
 * Like readImage, but H and W may be left undefined: both free keep the image's own size;
 * one free follows the other with the image's aspect ratio (PaddleOCR's "height 48").
 */
export function readImageAt(file: string, dims: (number | undefined)[], options: ImageOptions = {}): ImageRead {
  const layout = options.layout ?? (dims[1] !== 1 && dims[1] !== 3 && (dims[3] === 1 || dims[3] === 3) ? 'NHWC' : 'NCHW');
  const [wantH, wantW, c] = layout === 'NCHW' ? [dims[2], dims[3], dims[1]] : [dims[1], dims[2], dims[3]];
  const shown = `[${dims.map((d) => d ?? '?').join(', ')}]`;
  if (dims.length !== 4 || (c !== undefined && c !== 1 && c !== 3)) throw badInput(`${file}: the input expects ${shown}, which is not an image layout (1 or 3 channels)`);
  if (c === undefined) throw badInput(`${file}: the input ${shown} leaves the channel count free; give the input's shape`);
  if ((wantH !== undefined && wantH <= 0) || (wantW !== undefined && wantW <= 0)) throw badInput(`${file}: the input expects ${shown}, which is not an image size`);
  const img = decode(file);
  const h = wantH ?? (wantW === undefined ? img.height : Math.max(1, Math.round((wantW * img.height) / img.width)));
  const w = wantW ?? (wantH === undefined ? img.width : Math.max(1, Math.round((wantH * img.width) / img.height)));
  const channels = options.channels ?? (c === 1 ? 'gray' : 'rgb');
  const scale = options.scale ?? 1 / 255;
  const mean = options.mean ?? [0];
  const std = options.std ?? [1];
  const out = new Float32Array(h * w * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const px = sample(img, ((x + 0.5) * img.width) / w - 0.5, ((y + 0.5) * img.height) / h - 0.5);
      for (let k = 0; k < c; k++) {
        let v: number;
        if (channels === 'gray') v = 0.299 * px[0] + 0.587 * px[1] + 0.114 * px[2];
        else v = px[channels === 'bgr' ? 2 - k : k];
        v = (v * scale - mean[k % mean.length]!) / std[k % std.length]!;
        out[layout === 'NCHW' ? k * h * w + y * w + x : (y * w + x) * c + k] = v;
      }
    }
  }
  const tensor: HostTensor = { type: 'float32', dims: layout === 'NCHW' ? [1, c, h, w] : [1, h, w, c], data: out };
  return { tensor, width: w, height: h, sourceWidth: img.width, sourceHeight: img.height, sizeFromImage: wantH === undefined || wantW === undefined };
}

function sample(img: Rgba, fx: number, fy: number): [number, number, number] {
  const x0 = Math.max(0, Math.min(img.width - 1, Math.floor(fx)));
  const y0 = Math.max(0, Math.min(img.height - 1, Math.floor(fy)));
  const x1 = Math.min(img.width - 1, x0 + 1);
  const y1 = Math.min(img.height - 1, y0 + 1);
  const ax = Math.max(0, Math.min(1, fx - x0));
  const ay = Math.max(0, Math.min(1, fy - y0));
  const at = (x: number, y: number, k: number) => img.data[(y * img.width + x) * 4 + k]!;
  const px: [number, number, number] = [0, 0, 0];
  for (let k = 0; k < 3; k++) {
    const top = at(x0, y0, k) * (1 - ax) + at(x1, y0, k) * ax;
    const bottom = at(x0, y1, k) * (1 - ax) + at(x1, y1, k) * ax;
    px[k] = top * (1 - ay) + bottom * ay;
  }
  return px;
}
