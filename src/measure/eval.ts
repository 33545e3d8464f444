// Accuracy of a candidate model against its reference on the same inputs: per-output
// error metrics, classifier agreement, task accuracy with labels, and (per-tensor) the
// nodes where the error enters.
import type { Model } from '../ir/graph.js';
import { OnnxpressError } from '../errors.js';
import { cloneModel } from '../onnx/clone.js';
import { loadModel } from '../onnx/load.js';
import { openSession, type HostTensor } from '../runtime/ort.js';
import type { Sample } from '../runtime/samples.js';
import { inferShapes } from '../ir/shapes.js';
import { exposeAsOutputs } from '../ir/mutate.js';
import { DataType } from '../ir/dtype.js';
import { float16DataToFloat32 } from '../ir/float-formats.js';
import { Progress } from './progress.js';
import { compareClasses, compareSlices, type ClassComparison, type SliceFigures } from './classes.js';

export interface OutputMetrics { maxAbs: number; meanAbs: number; rel: number; cosine: number; snrDb: number; top1Agreement?: number; top5Agreement?: number }

export interface TensorError { tensor: string; node: string; opType: string; rel: number; cosine: number; added: number }

export interface EvalReport {
  samples: number;
  outputs: Record<string, OutputMetrics>;
  accuracy?: { reference: number; candidate: number; delta: number };
  /** Per-class recall, precision and F1 of both models (with labels). */
  classes?: ClassComparison;
  /** Top-1 per slice (with labels and slices), the most hurt first. */
  slices?: SliceFigures[];
  perTensor?: TensorError[];
}

export interface EvalOptions {
  samples: Sample[];
  /** Class per sample: accuracy of the first output's argmax. */
  labels?: number[];
  /** Slice name per sample (undefined: in no slice); needs labels. */
  slices?: (string | undefined)[];
  /** Where the labels came from, and the id of each sample, for messages. */
  labelsSource?: { file: string; ids: string[] };
  perTensor?: boolean;
  quiet?: boolean;
}

type Source = string | Model;

/** The values as numbers: float16 outputs decoded (other types come as they are). */
export function valuesOf(t: HostTensor): Float32Array {
  return t.type === 'float16' ? float16DataToFloat32(t.data) : t.data as Float32Array;
}

export class Accumulator {
  maxAbs = 0; sumAbs = 0; count = 0; dot = 0; refSq = 0; candSq = 0; errSq = 0; rows = 0; top1 = 0; top5 = 0; classifier = true;
  add(ref: HostTensor, cand: HostTensor): void {
    const a = valuesOf(ref);
    const b = valuesOf(cand);
    for (let i = 0; i < a.length; i++) {
      const x = Number(a[i]), y = Number(b[i]);
      const d = Math.abs(x - y);
      if (d > this.maxAbs) this.maxAbs = d;
      this.sumAbs += d; this.dot += x * y; this.refSq += x * x; this.candSq += y * y; this.errSq += d * d;
    }
    this.count += a.length;
    const width = ref.dims[ref.dims.length - 1] ?? 1;
    if (width < 2 || ref.dims.length < 1) { this.classifier = false; return; }
    for (let r = 0; r < a.length / width; r++) {
      const rowA = Array.from(a.subarray(r * width, (r + 1) * width));
      const rowB = Array.from(b.subarray(r * width, (r + 1) * width));
      const refTop = argmax(rowA);
      const candOrder = rowB.map((v, i) => [v, i] as const).sort((p, q) => q[0] - p[0]).map((p) => p[1]);
      if (candOrder[0] === refTop) this.top1++;
      if (candOrder.slice(0, 5).includes(refTop)) this.top5++;
      this.rows++;
    }
  }
  metrics(): OutputMetrics {
    const norm = Math.sqrt(this.refSq);
    const m: OutputMetrics = {
      maxAbs: this.maxAbs,
      meanAbs: this.count ? this.sumAbs / this.count : 0,
      rel: norm ? Math.sqrt(this.errSq) / norm : this.errSq ? Infinity : 0,
      cosine: this.refSq === 0 && this.candSq === 0 ? 1 : this.dot / Math.sqrt(this.refSq * this.candSq),
      snrDb: this.errSq === 0 ? Infinity : 10 * Math.log10(this.refSq / this.errSq),
    };
    if (this.classifier && this.rows) { m.top1Agreement = this.top1 / this.rows; m.top5Agreement = this.top5 / this.rows; }
    return m;
  }
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

export async function evalModels(reference: Source, candidate: Source, options: EvalOptions): Promise<EvalReport> {
  if (!options.samples.length) throw new OnnxpressError('BAD_INPUT', 'no samples to evaluate on');
  if (options.labels && options.labels.length !== options.samples.length) throw new OnnxpressError('BAD_INPUT', `${options.labels.length} labels for ${options.samples.length} samples`);
  if (options.slices && !options.labels) throw new OnnxpressError('BAD_INPUT', 'slices need labels: per-slice accuracy compares predictions with the true class');
  if (options.slices && options.slices.length !== options.samples.length) throw new OnnxpressError('BAD_INPUT', `${options.slices.length} slice entries for ${options.samples.length} samples`);
  const [ref, cand] = [await openSession(reference), await openSession(candidate)];
  const outputs = new Map<string, Accumulator>();
  const refPredicted: number[] = [], candPredicted: number[] = [];
  const progress = new Progress('eval', options.samples.length, options.quiet);
  try {
    for (const name of ref.outputNames) if (!cand.outputNames.includes(name)) throw new OnnxpressError('BAD_INPUT', `candidate has no output '${name}' (it has ${cand.outputNames.join(', ')})`);
    for (const [i, sample] of options.samples.entries()) {
      const [a, b] = [await ref.run(sample), await cand.run(sample)];
      for (const name of ref.outputNames) {
        if (!isNumeric(a[name]!)) continue;
        let acc = outputs.get(name);
        if (!acc) outputs.set(name, (acc = new Accumulator()));
        acc.add(a[name]!, b[name]!);
      }
      if (options.labels) {
        const first = ref.outputNames[0]!;
        // A class the output cannot produce would only lower accuracy silently: the labels are for another model.
        const classes = (a[first]!.data as Float32Array).length;
        if (options.labels[i]! >= classes) {
          const where = options.labelsSource ? `${options.labelsSource.file}: the label of '${options.labelsSource.ids[i]}'` : `the label of sample ${i}`;
          throw new OnnxpressError('BAD_INPUT', `${where} is ${options.labels[i]}, but output '${first}' has ${classes} classes`);
        }
        refPredicted.push(argmax(a[first]!.data as Float32Array));
        candPredicted.push(argmax(b[first]!.data as Float32Array));
      }
      progress.tick(i + 1);
    }
  } finally {
    progress.done();
    await ref.release();
    await cand.release();
  }
  const report: EvalReport = { samples: options.samples.length, outputs: Object.fromEntries([...outputs].map(([k, v]) => [k, v.metrics()])) };
  if (options.labels) {
    const labels = options.labels;
    report.classes = compareClasses(labels, refPredicted, candPredicted);
    const { reference: r, candidate: c } = report.classes;
    report.accuracy = { reference: 100 * r.accuracy, candidate: 100 * c.accuracy, delta: 100 * (c.accuracy - r.accuracy) };
    if (options.slices) {
      const inSlice = options.slices.flatMap((s, i) => (s === undefined ? [] : [i]));
      report.slices = compareSlices(inSlice.map((i) => options.slices![i]!), inSlice.map((i) => labels[i]!), inSlice.map((i) => refPredicted[i]!), inSlice.map((i) => candPredicted[i]!));
    }
  }
  if (options.perTensor) report.perTensor = await perTensorErrors(reference, candidate, options.samples.slice(0, 32));
  return report;
}

function isNumeric(t: HostTensor): boolean {
  return !Array.isArray(t.data) && t.type !== 'bool';
}

/**
 * Runs both models with every float value they share exposed, and ranks nodes of the
 * reference by the error they add: their output's error minus the worst error of their inputs.
 */
export async function perTensorErrors(reference: Source, candidate: Source, samples: Sample[]): Promise<TensorError[]> {
  const refModel = cloneModel(typeof reference === 'string' ? loadModel(reference) : reference);
  const candModel = cloneModel(typeof candidate === 'string' ? loadModel(candidate) : candidate);
  const refShapes = inferShapes(refModel.graph);
  const candValues = new Set(candModel.graph.nodes.flatMap((n) => n.outputs));
  const shared = refModel.graph.nodes.flatMap((n) => n.outputs).filter((o) => o && candValues.has(o) && refShapes.get(o)?.elemType !== DataType.INT64 && refShapes.get(o)?.elemType !== DataType.BOOL);
  for (const m of [refModel, candModel]) exposeAsOutputs(m.graph, shared);
  const [ref, cand] = [await openSession(refModel), await openSession(candModel)];
  const acc = new Map<string, Accumulator>();
  try {
    for (const s of samples) {
      const [a, b] = [await ref.run(s, shared), await cand.run(s, shared)];
      for (const name of shared) {
        if (a[name]?.type !== 'float32' || b[name]?.type !== 'float32' || (a[name]!.data as Float32Array).length !== (b[name]!.data as Float32Array).length) continue;
        let x = acc.get(name);
        if (!x) acc.set(name, (x = new Accumulator()));
        x.add(a[name]!, b[name]!);
      }
    }
  } finally {
    await ref.release();
    await cand.release();
  }
  const rel = (name: string) => acc.get(name)?.metrics().rel ?? 0;
  const out: TensorError[] = [];
  for (const node of refModel.graph.nodes) {
    const o = node.outputs[0];
    if (!o || !acc.has(o)) continue;
    const m = acc.get(o)!.metrics();
    const inputError = Math.max(0, ...node.inputs.filter((i) => acc.has(i)).map(rel));
    out.push({ tensor: o, node: node.name || o, opType: node.opType, rel: m.rel, cosine: m.cosine, added: m.rel - inputError });
  }
  return out.sort((p, q) => q.added - p.added);
}
