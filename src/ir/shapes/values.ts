// Partial values: the elements of small tensors (shape vectors, indices, scalars) followed
// through the ops exporters compute shapes with, like onnx's data propagation and
// onnxruntime's symbolic_shape_infer. An element is a number, a symbolic dim ("batch",
// "past + seq") or null when not known; a Reshape or Expand whose target is such a value
// gets an output shape.
import { DataType } from '../dtype.js';
import type { Dim } from '../graph.js';
import type { Tensor } from '../tensor.js';
import { MAX_VALUE_LENGTH, norm, type RuleContext, type ValueShape } from './context.js';
import { addDims, divDims, mulDims, nonNegative, productDims, sameDim, subDims } from './symbolic.js';

const NO_VALUE_TYPES = new Set<number>([DataType.STRING, DataType.COMPLEX64, DataType.COMPLEX128, DataType.UNDEFINED]);
const FLOAT_TYPES = new Set<number>([DataType.FLOAT, DataType.DOUBLE, DataType.FLOAT16, DataType.BFLOAT16]);

/** The elements of a constant small enough to be a shape operand, else undefined. */
export function tensorValue(t: Tensor): Dim[] | undefined {
  if (t.dims.length > 1 || t.elementCount > MAX_VALUE_LENGTH || NO_VALUE_TYPES.has(t.dataType)) return undefined;
  try {
    return t.toNumbers();
  } catch {
    return undefined;
  }
}

type ValueRule = (ctx: RuleContext, length: number, out: ValueShape) => Dim[] | undefined;

/** The known elements of output 0, when it is a small tensor an op here computes. */
export function inferValue(ctx: RuleContext, out: ValueShape): Dim[] | undefined {
  const dims = out.dims;
  if (!dims || dims.length > 1) return undefined;
  const length = dims.length === 0 ? 1 : dims[0];
  if (typeof length !== 'number' || length > MAX_VALUE_LENGTH) return undefined;
  const rule = ctx.node.isOnnx() ? VALUE_RULES[ctx.node.opType] : undefined;
  const v = rule?.(ctx, length, out);
  return v && v.length === length && v.some((d) => d !== null) ? v : undefined;
}

const passThrough: ValueRule = (ctx) => ctx.value(0);

const VALUE_RULES: Record<string, ValueRule> = {
  Shape(ctx) {
    const x = ctx.dims(0);
    if (!x) return undefined;
    const rank = x.length;
    return x.slice(norm(ctx.node.getInt('start', 0), rank, true), norm(ctx.node.getInt('end', rank), rank, true));
  },
  Size: (ctx) => { const x = ctx.dims(0); return x ? [productDims(x)] : undefined; },
  Identity: passThrough, Reshape: passThrough, Unsqueeze: passThrough, Squeeze: passThrough, Flatten: passThrough,
  Cast(ctx, _len, out) {
    const v = ctx.value(0);
    if (!v) return undefined;
    const to = out.elemType;
    if (to === DataType.BOOL) return v.map((d) => (typeof d === 'number' ? Number(d !== 0) : null));
    if (to !== undefined && !FLOAT_TYPES.has(to)) return v.map((d) => (typeof d === 'number' ? Math.trunc(d) : d));
    return v;
  },
  CastLike: (ctx) => ctx.value(0),
  Expand(ctx, length) {
    const v = ctx.value(0);
    return v && (v.length === length || v.length === 1) ? Array.from({ length }, (_, i) => v[v.length === 1 ? 0 : i]!) : undefined;
  },
  Gather(ctx) {
    const [data, idx] = [ctx.value(0), ctx.numbers(1)];
    if (!data || !idx || (ctx.dims(0)?.length ?? 0) !== 1) return undefined;
    return idx.map((i) => data[norm(i, data.length)] ?? null);
  },
  Concat(ctx) {
    const parts = ctx.node.inputs.map((_, i) => ctx.value(i));
    return parts.every((p) => p) ? parts.flat() as Dim[] : undefined;
  },
  Slice(ctx) {
    const data = ctx.value(0);
    if (!data) return undefined;
    const { node } = ctx;
    const fromAttrs = node.getInts('starts') !== undefined;
    const starts = fromAttrs ? node.getInts('starts') : ctx.numbers(1);
    const ends = fromAttrs ? node.getInts('ends') : ctx.numbers(2);
    const steps = !fromAttrs && node.inputs[4] ? ctx.numbers(4) : [1];
    if (!starts || !ends || !steps || starts.length !== 1) return undefined;
    const n = data.length, step = steps[0]!;
    const clamp = (v: number) => (v < 0 ? Math.max(v + n, step > 0 ? 0 : -1) : Math.min(v, step > 0 ? n : n - 1));
    const out: Dim[] = [];
    for (let i = clamp(starts[0]!); step > 0 ? i < clamp(ends[0]!) : i > clamp(ends[0]!); i += step) out.push(data[i]!);
    return out;
  },
  Add: elementwise(addDims), Sub: elementwise(subDims), Mul: elementwise(mulDims),
  Div: (ctx, length, out) => elementwise(FLOAT_TYPES.has(out.elemType ?? -1) ? realDiv : divDims)(ctx, length, out),
  Mod: elementwise((a, b) => (typeof a === 'number' && typeof b === 'number' && b !== 0 ? a % b : null)),
  Max: elementwise((a, b) => (typeof a === 'number' && typeof b === 'number' ? Math.max(a, b) : sameDim(a, b) ? a : null)),
  Min: elementwise((a, b) => (typeof a === 'number' && typeof b === 'number' ? Math.min(a, b) : sameDim(a, b) ? a : null)),
  Neg: (ctx) => ctx.value(0)?.map((d) => mulDims(d, -1)),
  Floor: roundNumbers(Math.floor), Ceil: roundNumbers(Math.ceil), Round: roundNumbers(Math.round),
  Equal: elementwise(equalDims),
  Less: elementwise((a, b) => (typeof a === 'number' && typeof b === 'number' ? Number(a < b) : null)),
  Greater: elementwise((a, b) => (typeof a === 'number' && typeof b === 'number' ? Number(a > b) : null)),
  Not: (ctx) => ctx.value(0)?.map((d) => (typeof d === 'number' ? Number(d === 0) : null)),
  Where(ctx, length) {
    const [c, x, y] = [ctx.value(0), ctx.value(1), ctx.value(2)];
    if (!c || !x || !y) return undefined;
    return Array.from({ length }, (_, i) => {
      const cond = at(c, i);
      return cond === null || typeof cond !== 'number' ? null : cond ? at(x, i) : at(y, i);
    });
  },
  ConstantOfShape(ctx, length) {
    const fill = ctx.node.getTensor('value');
    const v = fill ? tensorValue(fill)?.[0] ?? null : 0;
    return Array.from({ length }, () => v);
  },
  Range(ctx, length) {
    const [start, , delta] = [ctx.numbers(0)?.[0], ctx.numbers(1), ctx.numbers(2)?.[0]];
    if (start === undefined || delta === undefined) return undefined;
    return Array.from({ length }, (_, i) => start + i * delta);
  },
};

/** Element i of a value broadcast to a longer one (a 1-element value repeats). */
function at(v: Dim[], i: number): Dim {
  return v.length === 1 ? v[0]! : v[i] ?? null;
}

function elementwise(f: (a: Dim, b: Dim) => Dim): ValueRule {
  return (ctx, length) => {
    const [a, b] = [ctx.value(0), ctx.value(1)];
    if (!a || !b) return undefined;
    return Array.from({ length }, (_, i) => {
      const [x, y] = [at(a, i), at(b, i)];
      return x === null || y === null ? null : f(x, y);
    });
  };
}

/**
 * Equal on shape elements. A sum of dims is never negative, so it differs from any
 * negative number: Equal(shape, -1), which exporters write before Expand and Reshape.
 */
function equalDims(a: Dim, b: Dim): Dim {
  if (sameDim(a, b)) return 1;
  if (typeof a === 'number' && typeof b === 'number') return 0;
  const [sym, num] = typeof a === 'number' ? [b, a] : [a, b];
  return typeof num === 'number' && num < 0 && nonNegative(sym) ? 0 : null;
}

function realDiv(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return b === 0 ? null : a / b;
  return divDims(a, b); // symbolic: exact quotients only, never truncated
}

function roundNumbers(f: (x: number) => number): ValueRule {
  // Symbolic dims are integers already: rounding leaves them.
  return (ctx) => ctx.value(0)?.map((d) => (typeof d === 'number' ? f(d) : d));
}
