// Flags shared by commands that read samples (eval, compress, gate, prune, quantize, bench):
// folder, count, dims and shapes, images; and the line that says what shapes were fed.
import type { Command } from 'commander';
import { loadSlices } from '../runtime/slices.js';
import { openSession } from '../runtime/ort.js';
import { generateSamples, loadLabels, loadSamples, parseDimOverrides, parseShapeOverrides, type InputSpec, type Sample } from '../runtime/samples.js';
import { describeInputShapes, dimsDefaultedToOne, type ShapeOverrides } from '../runtime/input-shapes.js';
import { parseNumber } from './parse.js';
import { badInput } from '../errors.js';
import type { ImageOptions } from '../runtime/data/images.js';
import type { Model } from '../ir/graph.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface DataFlags { data?: string; labels?: string; slices?: string; samples?: string; seed?: string; dim?: string[]; shape?: string[]; mean?: string; std?: string; scale?: string; layout?: string }

export function addDataFlags(cmd: Command, defaultSamples: string): Command {
  cmd
    .option('--data <dir>', 'folder of samples (.npy, .pb, PNG/JPEG, JSON; a sub-folder per input for several inputs)')
    .option('--labels <file>', "class per sample (JSON array or {file: label}, or CSV 'file,label'); default DATA/labels.json when present")
    .option('--slices <file>', "group of each sample ({file: slice} JSON or CSV 'file,slice'): per-slice top-1 (needs labels)")
    .option('--samples <n>', 'samples to use at most', defaultSamples)
    .option('--seed <s>', 'seed for generated inputs when there is no --data', '1')
  return addImageFlags(addShapeFlags(cmd));
}

export type ShapeFlags = Pick<DataFlags, 'dim' | 'shape'>;

export function addShapeFlags(cmd: Command): Command {
  return cmd
    .option('--dim <name=size...>', 'sizes for symbolic dims, e.g. batch=1 (images otherwise keep their own height and width)')
    .option('--shape <name=DxD...>', 'a whole input shape, e.g. input=1x3x224x224');
}

export function shapeOptionsOf(f: ShapeFlags): ShapeOverrides {
  return { dimOverrides: parseDimOverrides(f.dim), shapeOverrides: parseShapeOverrides(f.shape) };
}

/**
 * Says on stderr what the inputs were fed at, so a shape the user did not expect (a 1x1
 * image, a one-step sequence) is seen before the numbers are believed.
 */
export function printInputShapes(specs: InputSpec[], samples: Sample[], how: { origin: string; notes?: string[]; generatedWith?: ShapeOverrides }): void {
  process.stderr.write(`inputs: ${describeInputShapes(specs, samples)}; ${how.origin}${(how.notes ?? []).map((n) => `; ${n}`).join('')}\n`);
  if (!how.generatedWith) return;
  for (const spec of specs) {
    const ones = dimsDefaultedToOne(spec, how.generatedWith);
    if (ones.length) process.stderr.write(`warning: input '${spec.name}': symbolic ${ones.length > 1 ? 'dims' : 'dim'} ${ones.join(', ')} set to 1 for generated inputs; give --dim or --shape, or --data\n`);
  }
}

export type ImageFlags = Pick<DataFlags, 'mean' | 'std' | 'scale' | 'layout'>;

/** How image samples are turned into tensors: scale, then (x - mean) / std, in a layout. */
export function addImageFlags(cmd: Command): Command {
  return cmd
    .option('--mean <list>', 'images: per-channel mean after scaling')
    .option('--std <list>', 'images: per-channel std')
    .option('--scale <s>', 'images: pixel scale (default 1/255)')
    .option('--layout <l>', 'images: NCHW | NHWC');
}

export function imageOptionsOf(f: ImageFlags): ImageOptions {
  const nums = (s?: string) => s?.split(',').map(Number);
  if (f.layout && f.layout !== 'NCHW' && f.layout !== 'NHWC') throw badInput(`--layout '${f.layout}': expected NCHW or NHWC`);
  return { mean: nums(f.mean), std: nums(f.std), scale: f.scale ? parseNumber('--scale', f.scale) : undefined, layout: f.layout as 'NCHW' | 'NHWC' | undefined };
}

export interface LoadedData { samples: Sample[]; labels?: number[]; labelsSource?: { file: string; ids: string[] }; /** Slice of each sample (undefined: none). */ slices?: (string | undefined)[]; generated: boolean }

export async function readData(model: string | Model, f: DataFlags): Promise<LoadedData> {
  const session = await openSession(model);
  const specs = session.inputs;
  await session.release();
  const limit = parseNumber('--samples', f.samples ?? '100', { min: 1 });
  const shapes = shapeOptionsOf(f);
  if (f.slices && !f.data) throw badInput('--slices names samples of a --data folder; generated inputs have none');
  if (!f.data) {
    const seed = parseNumber('--seed', f.seed ?? '1');
    const samples = generateSamples(specs, limit, seed, shapes);
    printInputShapes(specs, samples, { origin: `${samples.length} generated samples (seed ${seed})`, generatedWith: shapes });
    return { samples, generated: true };
  }
  const loaded = loadSamples(f.data, specs, { limit, ...shapes, image: imageOptionsOf(f) });
  const labelsFile = f.labels ?? (existsSync(join(f.data, 'labels.json')) ? join(f.data, 'labels.json') : undefined);
  // labels.json written beside the samples lists them in file order, from the first file.
  const labels = labelsFile ? loadLabels(labelsFile, loaded.ids) : undefined;
  printInputShapes(specs, loaded.samples, { origin: `${loaded.samples.length} samples from ${f.data}${labelsFile ? `, labels from ${labelsFile}` : ''}`, notes: loaded.notes });
  if (f.slices && !labels) throw badInput(`--slices ${f.slices}: per-slice accuracy needs labels (--labels or ${join(f.data, 'labels.json')})`);
  const slices = f.slices ? loadSlices(f.slices, loaded.ids, f.data) : undefined;
  return { samples: loaded.samples, labels, labelsSource: labelsFile ? { file: labelsFile, ids: loaded.ids } : undefined, slices, generated: false };
}
