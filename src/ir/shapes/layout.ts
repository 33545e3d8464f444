// Shape rules of the ops that move or make tensors without computing on them: Reshape,
// Transpose, (Un)Squeeze, Concat, Gather, Slice, Split, Pad, Tile, Expand, Resize, and the
// shape builders ConstantOfShape and Range. Shape operands are read through the known
// values of their inputs (ctx.value), so a target computed from Shape arithmetic counts.
import type { Dim } from '../graph.js';
import { broadcast } from './compute.js';
import { axesOf, norm, type RuleContext, type ValueShape } from './context.js';
import { addDims, divDims, mulDims, productDims, subDims } from './symbolic.js';

export function shapeOfShape(ctx: RuleContext): Dim[] {
  const x = ctx.dims(0);
  if (!x) return [null];
  const rank = x.length;
  return [Math.max(0, norm(ctx.node.getInt('end', rank), rank, true) - norm(ctx.node.getInt('start', 0), rank, true))];
}

export function reshape(ctx: RuleContext): Dim[] | undefined {
  const x = ctx.dims(0);
  const target = ctx.value(1);
  if (!target) {
    const len = ctx.dims(1)?.[0];
    if (typeof len === 'number') return Array.from({ length: len }, () => null);
    return ctx.why(`target shape ${ctx.source(1)} has no known length`);
  }
  const allowZero = ctx.node.getInt('allowzero', 0) === 1;
  const out: Dim[] = target.map((d, i) => (d === 0 && !allowZero ? (x ? x[i] ?? null : null) : d));
  const inferIndex = out.indexOf(-1);
  if (inferIndex >= 0) {
    const total = x ? productDims(x) : null;
    const rest = productDims(out.filter((_, i) => i !== inferIndex));
    out[inferIndex] = total !== null && rest !== null && rest !== 0 ? divDims(total, rest) : null;
  }
  return out;
}

export function flatten(ctx: RuleContext): Dim[] | undefined {
  const x = ctx.dims(0);
  if (!x) return undefined;
  const axis = norm(ctx.node.getInt('axis', 1), x.length);
  return [productDims(x.slice(0, axis)), productDims(x.slice(axis))];
}

export function transpose(ctx: RuleContext): Dim[] | undefined {
  const x = ctx.dims(0);
  if (!x) return undefined;
  const perm = ctx.node.getInts('perm') ?? x.map((_, i) => x.length - 1 - i);
  return perm.map((p) => x[p] ?? null);
}

export function squeeze(ctx: RuleContext): Dim[] | undefined {
  const x = ctx.dims(0);
  if (!x) return undefined;
  const axes = axesOf(ctx, 1);
  if (!axes) {
    if (ctx.node.inputs[1]) return ctx.why(`axes ${ctx.source(1)} are not known`);
    if (x.some((d) => typeof d !== 'number')) return ctx.why('Squeeze without axes on dims not known to be 1 or not');
    return x.filter((d) => d !== 1);
  }
  const drop = new Set(axes.map((a) => norm(a, x.length)));
  return x.filter((_, i) => !drop.has(i));
}

export function unsqueeze(ctx: RuleContext): Dim[] | undefined {
  const x = ctx.dims(0);
  if (!x) return undefined;
  const axes = axesOf(ctx, 1);
  if (!axes) return ctx.why(`axes ${ctx.source(1)} are not known`);
  const rank = x.length + axes.length;
  const at = new Set(axes.map((a) => norm(a, rank)));
  const out: Dim[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) out.push(at.has(i) ? 1 : x[k++]!);
  return out;
}

export function concat(ctx: RuleContext): Dim[] | undefined {
  const all = ctx.ins.map((s) => s?.dims);
  const known = all.filter((d): d is Dim[] => d !== undefined);
  if (known.length === 0) return undefined;
  const rank = known[0]!.length;
  const axis = norm(ctx.node.getInt('axis', 0), rank);
  // Off the axis every input has the same size: take it from whichever input knows it.
  const out = known[0]!.map((_, i) => known.map((d) => d[i] ?? null).find((d) => d !== null) ?? null);
  out[axis] = all.some((d) => !d) ? null : all.reduce<Dim>((sum, d) => (sum === null ? null : addDims(sum, d![axis] ?? null)), 0);
  return out;
}

export function gather(ctx: RuleContext): Dim[] | undefined {
  const [x, idx] = [ctx.dims(0), ctx.dims(1)];
  if (!x || !idx) return undefined;
  const axis = norm(ctx.node.getInt('axis', 0), x.length);
  return [...x.slice(0, axis), ...idx, ...x.slice(axis + 1)];
}

/** Slice bounds from attributes (opset < 10) or inputs; starts and ends may be symbolic. */
function sliceParams(ctx: RuleContext): { starts: Dim[]; ends: Dim[]; axes?: number[]; steps?: number[] } | undefined {
  const { node } = ctx;
  if (node.getInts('starts')) return { starts: node.getInts('starts')!, ends: node.getInts('ends') ?? [], axes: node.getInts('axes') ?? node.getInts('starts')!.map((_, i) => i), steps: node.getInts('starts')!.map(() => 1) };
  const [starts, ends] = [ctx.value(1), ctx.value(2)];
  if (!starts || !ends) return undefined;
  const axes = node.inputs[3] ? ctx.numbers(3) : starts.map((_, i) => i);
  const steps = node.inputs[4] ? ctx.numbers(4) : starts.map(() => 1);
  return { starts, ends, axes, steps };
}

/** Past this an end index means "to the end" (exporters write INT64_MAX or INT32_MAX). */
const TO_END = 2 ** 31 - 1;

export function slice(ctx: RuleContext): Dim[] | undefined {
  const x = ctx.dims(0);
  if (!x) return undefined;
  const p = sliceParams(ctx);
  if (!p || !p.axes || !p.steps) return x.map(() => null);
  const out = [...x];
  p.axes.forEach((a, i) => {
    const axis = norm(a, x.length);
    out[axis] = slicedLength(x[axis] ?? null, p.starts[i] ?? null, p.ends[i] ?? null, p.steps![i] ?? 1);
  });
  return out;
}

/**
 * The length of size[start:end:step]. Exact for numbers; for symbolic sizes or bounds
 * only the forms exporters write with step 1 ([k:], [:-k], [a:b] with a <= b <= size,
 * which their own arithmetic guarantees) and only as a symbolic length, else unknown.
 */
export function slicedLength(size: Dim, start: Dim, end: Dim, step: number): Dim {
  if (typeof size === 'number' && typeof start === 'number' && typeof end === 'number') {
    const clamp = (v: number) => (v < 0 ? Math.max(v + size, step > 0 ? 0 : -1) : Math.min(v, step > 0 ? size : size - 1));
    return Math.max(0, Math.ceil((clamp(end) - clamp(start)) / step));
  }
  if (step !== 1 || size === null || start === null || end === null) return null;
  const bound = (v: Dim): Dim => (typeof v === 'number' ? (v < 0 ? addDims(size, v) : v >= TO_END ? size : v) : v);
  const length = subDims(bound(end), bound(start));
  // A fixed length from symbolic bounds ([a : a + 3]) would still clamp at a size it
  // cannot compare with: only a symbolic length is given.
  return typeof length === 'number' ? null : length;
}

export function split(ctx: RuleContext): (ValueShape | undefined)[] {
  const { node } = ctx;
  const x = ctx.dims(0);
  const elemType = ctx.ins[0]?.elemType;
  if (!x) return node.outputs.map(() => ({ elemType }));
  const n = node.outputs.length;
  const axis = norm(node.getInt('axis', 0), x.length);
  const sizesGiven = node.getInts('split') !== undefined || Boolean(node.inputs[1]);
  const sizes: Dim[] | undefined = node.getInts('split') ?? (node.inputs[1] ? ctx.value(1) : undefined);
  const total = x[axis] ?? null;
  return node.outputs.map((_, i) => {
    const out = [...x];
    out[axis] = sizesGiven ? sizes?.[i] ?? null : total === null ? null : evenShare(total, n);
    return { elemType, dims: out };
  });
}

function evenShare(total: Dim, n: number): Dim {
  if (typeof total === 'number') return total % n === 0 ? total / n : null;
  return divDims(total, n);
}

export function pad(ctx: RuleContext): Dim[] | undefined {
  const x = ctx.dims(0);
  if (!x) return undefined;
  const pads = ctx.node.getInts('pads') ?? ctx.numbers(1);
  if (!pads || ctx.node.inputs[3]) return x.map(() => null);
  const r = x.length;
  return x.map((d, i) => addDims(addDims(d, pads[i]!), pads[i + r]!));
}

export function tile(ctx: RuleContext): Dim[] | undefined {
  const x = ctx.dims(0);
  const reps = ctx.value(1);
  if (!x) return undefined;
  if (!reps) return x.map(() => null);
  return x.map((d, i) => mulDims(d, reps[i] ?? null));
}

export function expand(ctx: RuleContext): Dim[] | undefined {
  const x = ctx.dims(0);
  const shape = ctx.value(1);
  if (!shape) {
    const len = ctx.dims(1)?.[0];
    if (x && typeof len === 'number') return Array.from({ length: Math.max(len, x.length) }, () => null);
    return ctx.why(`target shape ${ctx.source(1)} has no known length`);
  }
  return x ? broadcast([x, shape]) : undefined;
}

export function constantOfShape(ctx: RuleContext): Dim[] | undefined {
  const shape = ctx.value(0);
  if (shape) return shape;
  const len = ctx.dims(0)?.[0];
  if (typeof len === 'number') return Array.from({ length: len }, () => null);
  return ctx.why(`shape ${ctx.source(0)} has no known length`);
}

export function range(ctx: RuleContext): Dim[] {
  const [start, limit, delta] = [ctx.value(0)?.[0] ?? null, ctx.value(1)?.[0] ?? null, ctx.value(2)?.[0] ?? null];
  if (typeof start === 'number' && typeof limit === 'number' && typeof delta === 'number' && delta !== 0) {
    return [Math.max(0, Math.ceil((limit - start) / delta))];
  }
  // range(a, b) of sizes the exporter computed: b - a elements (b >= a by construction).
  if (delta === 1 && start !== null && limit !== null) {
    const n = subDims(limit, start);
    return [typeof n === 'number' ? Math.max(0, n) : n];
  }
  return [null];
}

export function resize(ctx: RuleContext): Dim[] | undefined {
  const { node } = ctx;
  const x = ctx.dims(0);
  if (!x) return undefined;
  const old = node.opType === 'Upsample' || node.inputs.length === 2; // Upsample, Resize-10: (X, scales)
  const sizes = !old && node.inputs[3] ? ctx.value(3) : undefined;
  // Resize-18's not_larger/not_smaller shrink `sizes` to keep the aspect ratio: not worked out here.
  if (sizes && node.getString('keep_aspect_ratio_policy', 'stretch') !== 'stretch') return x.map(() => null);
  if (sizes && sizes.length === x.length && !node.getInts('axes')) return sizes;
  const scales = node.getFloats('scales') ?? (old ? ctx.numbers(1) : node.inputs[2] ? ctx.numbers(2) : undefined);
  // tf_crop_and_resize scales the region of interest, not the input: its size depends on roi.
  if (!scales || scales.length !== x.length || node.getString('coordinate_transformation_mode', '') === 'tf_crop_and_resize') return x.map(() => null);
  return x.map((d, i) => {
    const s = scales[i]!;
    if (typeof d === 'number') return Math.floor(d * s);
    return Number.isInteger(s) ? mulDims(d, s) : null;
  });
}

export function topK(ctx: RuleContext): Dim[] | undefined {
  const x = ctx.dims(0);
  if (!x) return undefined;
  const axis = norm(ctx.node.getInt('axis', -1), x.length);
  const k = ctx.node.getInt('k') ?? ctx.value(1)?.[0] ?? null;
  return x.map((d, i) => (i === axis ? k : d));
}
