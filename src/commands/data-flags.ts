// Flags shared by commands that read samples (eval, compress, gate): folder, count, dims, images.
import type { Command } from 'commander';
import { openSession } from '../runtime/ort.js';
import { generateSamples, loadLabels, loadSamples, parseDimOverrides, type Sample } from '../runtime/samples.js';
import { parseNumber } from './parse.js';
import { badInput } from '../errors.js';
import type { ImageOptions } from '../runtime/data/images.js';
import type { Model } from '../ir/graph.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface DataFlags { data?: string; labels?: string; samples?: string; seed?: string; dim?: string[]; mean?: string; std?: string; scale?: string; layout?: string }

export function addDataFlags(cmd: Command, defaultSamples: string): Command {
  cmd
    .option('--data <dir>', 'folder of samples (.npy, .pb, PNG/JPEG, JSON; a sub-folder per input for several inputs)')
    .option('--labels <file>', "class per sample (JSON array or {file: label}, or CSV 'file,label'); default DATA/labels.json when present")
    .option('--samples <n>', 'samples to use at most', defaultSamples)
    .option('--seed <s>', 'seed for generated inputs when there is no --data', '1')
    .option('--dim <name=size...>', 'sizes for symbolic dims, e.g. batch=1');
  return addImageFlags(cmd);
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

export interface LoadedData { samples: Sample[]; labels?: number[]; generated: boolean }

export async function readData(model: string | Model, f: DataFlags): Promise<LoadedData> {
  const session = await openSession(model);
  const specs = session.inputs;
  await session.release();
  const limit = parseNumber('--samples', f.samples ?? '100', { min: 1 });
  const dimOverrides = parseDimOverrides(f.dim);
  if (!f.data) return { samples: generateSamples(specs, limit, parseNumber('--seed', f.seed ?? '1'), { dimOverrides }), generated: true };
  const loaded = loadSamples(f.data, specs, { limit, dimOverrides, image: imageOptionsOf(f) });
  const labelsFile = f.labels ?? (existsSync(join(f.data, 'labels.json')) ? join(f.data, 'labels.json') : undefined);
  let labels: number[] | undefined;
  if (labelsFile) {
    // labels.json written beside the samples lists them in file order, from the first file.
    labels = loadLabels(labelsFile, loaded.ids);
  }
  return { samples: loaded.samples, labels, generated: false };
}
