// Shape rules of the compute ops: broadcasting elementwise ops, convolution and pooling,
// matrix products, reductions and recurrent layers.
import type { Dim } from '../graph.js';
import { axesOf, norm, type RuleContext, type ValueShape } from './context.js';
import { sameDim } from './symbolic.js';

/**
 * Numpy broadcasting. A number other than 1 wins (a valid model has the other side 1 or
 * equal); equal symbolic dims stay; anything else is unknown.
 */
export function broadcast(shapes: Dim[][]): Dim[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const sizes = shapes.map((s) => s[s.length - rank + i]).filter((d): d is Dim => d !== undefined && d !== 1);
    const fixed = sizes.find((d) => typeof d === 'number');
    if (fixed !== undefined) out.push(fixed);
    else if (sizes.length === 0) out.push(1);
    else out.push(sizes.every((d) => sameDim(d, sizes[0])) ? sizes[0]! : null);
  }
  return out;
}

export function convLike(ctx: RuleContext): Dim[] | undefined {
  const { node } = ctx;
  const x = ctx.dims(0);
  const w = ctx.dims(node.opType === 'QLinearConv' ? 3 : 1);
  if (!x) return undefined;
  const spatial = x.length - 2;
  const isConv = node.opType.includes('Conv');
  const kernel = node.getInts('kernel_shape') ?? (w ? w.slice(2).map((d) => (typeof d === 'number' ? d : NaN)) : undefined);
  if (!kernel || kernel.some((k) => Number.isNaN(k))) return ctx.why('kernel size unknown (no kernel_shape and weights of unknown shape)');
  const strides = node.getInts('strides') ?? kernel.map(() => 1);
  const dilations = node.getInts('dilations') ?? kernel.map(() => 1);
  const pads = node.getInts('pads') ?? kernel.map(() => 0).concat(kernel.map(() => 0));
  const autoPad = node.getString('auto_pad', 'NOTSET');
  const ceil = node.getInt('ceil_mode', 0) === 1;
  const channels: Dim = isConv ? (w ? w[0]! : null) : x[1]!;
  const out: Dim[] = [x[0]!, channels];
  for (let i = 0; i < spatial; i++) {
    const size = x[2 + i];
    if (typeof size !== 'number') { out.push(null); continue; }
    const k = (kernel[i]! - 1) * dilations[i]! + 1;
    // onnxruntime's pools part from the spec under auto_pad with dilations (SAME pads as if
    // undilated: k3 d2 on 8 gives 6) or ceil_mode (VALID rounds up): not worked out here.
    if (!isConv && autoPad !== 'NOTSET' && (ceil || dilations[i]! > 1)) out.push(null);
    else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') out.push(Math.ceil(size / strides[i]!));
    else if (autoPad === 'VALID') out.push(Math.ceil((size - k + 1) / strides[i]!));
    else {
      const span = size + pads[i]! + pads[i + spatial]! - k;
      let n = (ceil ? Math.ceil(span / strides[i]!) : Math.floor(span / strides[i]!)) + 1;
      // ceil_mode: a last window that would start past the input and its leading pad is
      // dropped (onnxruntime and PyTorch: 4 wide, k 2, s 2, pads [0, 1] gives 2, not 3).
      if (ceil && (n - 1) * strides[i]! >= size + pads[i]!) n--;
      out.push(n);
    }
  }
  return out;
}

export function convTranspose(ctx: RuleContext): Dim[] | undefined {
  const { node } = ctx;
  const [x, w] = [ctx.dims(0), ctx.dims(1)];
  if (!x || !w) return undefined;
  const outputShape = node.getInts('output_shape');
  const group = node.getInt('group', 1);
  const channels = typeof w[1] === 'number' ? w[1] * group : null;
  if (outputShape) return [x[0]!, channels, ...outputShape];
  const spatial = x.length - 2;
  const kernel = node.getInts('kernel_shape') ?? w.slice(2).map((d) => Number(d));
  const strides = node.getInts('strides') ?? kernel.map(() => 1);
  const dilations = node.getInts('dilations') ?? kernel.map(() => 1);
  const pads = node.getInts('pads') ?? kernel.map(() => 0).concat(kernel.map(() => 0));
  const outPad = node.getInts('output_padding') ?? kernel.map(() => 0);
  if (node.getString('auto_pad', 'NOTSET') !== 'NOTSET') return [x[0]!, channels, ...x.slice(2).map(() => null)];
  const out: Dim[] = [x[0]!, channels];
  for (let i = 0; i < spatial; i++) {
    const size = x[2 + i];
    if (typeof size !== 'number') { out.push(null); continue; }
    out.push(strides[i]! * (size - 1) + outPad[i]! + ((kernel[i]! - 1) * dilations[i]! + 1) - pads[i]! - pads[i + spatial]!);
  }
  return out;
}

export function matmul(a: Dim[] | undefined, b: Dim[] | undefined): Dim[] | undefined {
  if (!a || !b) return undefined;
  const a2 = a.length === 1 ? [1, a[0]!] : a;
  const b2 = b.length === 1 ? [b[0]!, 1] : b;
  const batch = broadcast([a2.slice(0, -2), b2.slice(0, -2)]);
  const out = [...batch, a2[a2.length - 2]!, b2[b2.length - 1]!];
  if (a.length === 1) out.splice(out.length - 2, 1);
  if (b.length === 1) out.splice(out.length - 1, 1);
  return out;
}

export function gemm(ctx: RuleContext): Dim[] | undefined {
  const [a, b] = [ctx.dims(0), ctx.dims(1)];
  if (!a || !b) return undefined;
  if (a.length !== 2 || b.length !== 2) return ctx.why(`Gemm operands of rank ${a.length} and ${b.length} (must be 2)`);
  const m = ctx.node.getInt('transA', 0) ? a[1]! : a[0]!;
  const n = ctx.node.getInt('transB', 0) ? b[0]! : b[1]!;
  return [m, n];
}

export function reduce(ctx: RuleContext): Dim[] | undefined {
  const x = ctx.dims(0);
  if (!x) return undefined;
  const keep = ctx.node.getInt('keepdims', 1) === 1;
  const axes = axesOf(ctx, 1);
  if (!axes && ctx.node.inputs[1]) return keep ? x.map(() => null) : ctx.why(`reduction axes ${ctx.source(1)} are not known`);
  if (axes && axes.length === 0 && ctx.node.getInt('noop_with_empty_axes', 0) === 1) return x;
  const set = new Set((axes && axes.length ? axes : x.map((_, i) => i)).map((a) => norm(a, x.length)));
  return keep ? x.map((d, i) => (set.has(i) ? 1 : d)) : x.filter((_, i) => !set.has(i));
}

export function argReduce(ctx: RuleContext): Dim[] | undefined {
  const x = ctx.dims(0);
  if (!x) return undefined;
  const axis = norm(ctx.node.getInt('axis', 0), x.length);
  return ctx.node.getInt('keepdims', 1) ? x.map((d, i) => (i === axis ? 1 : d)) : x.filter((_, i) => i !== axis);
}

export function recurrent(ctx: RuleContext): ValueShape[] {
  const { node } = ctx;
  const x = ctx.dims(0);
  const elemType = ctx.ins[0]?.elemType;
  const hidden = node.getInt('hidden_size');
  const dirs = node.getString('direction', 'forward') === 'bidirectional' ? 2 : 1;
  const layout = node.getInt('layout', 0);
  if (!x || hidden === undefined) return node.outputs.map(() => ({ elemType }));
  const [seq, batch] = layout ? [x[1]!, x[0]!] : [x[0]!, x[1]!];
  const y: Dim[] = layout ? [batch, seq, dirs, hidden] : [seq, dirs, batch, hidden];
  const h: Dim[] = layout ? [batch, dirs, hidden] : [dirs, batch, hidden];
  return [{ elemType, dims: y }, { elemType, dims: h }, { elemType, dims: h }];
}
