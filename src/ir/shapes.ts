// Shape inference for the common operators, static and symbolic. Seeds from graph
// inputs, initializers and existing value_info; an op it does not know gives its
// outputs no shape (never a guessed one), so a pass that needs a shape leaves the
// graph alone.
import { DataType } from './dtype.js';
import type { Dim, Graph, Node } from './graph.js';
import { elemTypeOf, shapeOf, tensorType } from './graph.js';
import type { Tensor } from './tensor.js';

export interface ValueShape {
  elemType?: number;
  /** undefined when the rank is unknown. */
  dims?: Dim[];
}

export type ShapeMap = Map<string, ValueShape>;

/** Infers shapes of every value in `graph` (outer-scope values seen through `outer`). */
export function inferShapes(graph: Graph, outer?: ShapeMap): ShapeMap {
  // A subgraph reads values of its enclosing graphs: start from what is known there.
  const shapes: ShapeMap = new Map(outer ?? (graph.parent ? inferShapes(graph.parent) : undefined));
  for (const v of [...graph.inputs, ...graph.valueInfo, ...graph.outputs]) {
    const dims = shapeOf(v);
    const elemType = elemTypeOf(v);
    if (dims || elemType) shapes.set(v.name, { elemType, dims });
  }
  for (const [name, t] of graph.initializers) {
    if (!graph.inputs.some((i) => i.name === name)) shapes.set(name, { elemType: t.dataType, dims: [...t.dims] });
  }
  const constants = (name: string) => graph.findInitializer(name) ?? constantNodeValue(graph, name);
  for (const node of graph.nodes) {
    const ins = node.inputs.map((i) => (i ? shapes.get(i) : undefined));
    let outs: (ValueShape | undefined)[] = [];
    try {
      outs = inferNode(node, ins, constants);
    } catch {
      outs = [];
    }
    node.outputs.forEach((o, k) => {
      const inferred = outs[k];
      if (!o || !inferred) return;
      const known = shapes.get(o);
      // Keep a declared shape when inference has less to say.
      if (known?.dims && !inferred.dims) shapes.set(o, { elemType: inferred.elemType ?? known.elemType, dims: known.dims });
      else shapes.set(o, { elemType: inferred.elemType ?? known?.elemType, dims: inferred.dims ?? known?.dims });
    });
  }
  return shapes;
}

/** Writes inferred shapes of intermediate values back as value_info. Returns how many were added. */
export function writeValueInfo(graph: Graph, shapes: ShapeMap): number {
  const declared = new Set([...graph.inputs, ...graph.outputs, ...graph.valueInfo].map((v) => v.name));
  let added = 0;
  for (const node of graph.nodes) {
    for (const o of node.outputs) {
      const s = shapes.get(o);
      if (!o || declared.has(o) || !s?.elemType || !s.dims) continue;
      graph.valueInfo.push({ name: o, type: tensorType(s.elemType, s.dims) });
      declared.add(o);
      added++;
    }
  }
  return added;
}

function constantNodeValue(graph: Graph, name: string): Tensor | undefined {
  const node = graph.producers().get(name);
  if (node && node.isOnnx('Constant')) return node.getTensor('value');
  return undefined;
}

type Constants = (name: string) => Tensor | undefined;

const UNARY_SAME = new Set([
  'Relu', 'LeakyRelu', 'PRelu', 'Sigmoid', 'Tanh', 'Exp', 'Log', 'Abs', 'Neg', 'Sqrt', 'Reciprocal', 'Floor', 'Ceil',
  'Round', 'Erf', 'Sin', 'Cos', 'Softmax', 'LogSoftmax', 'HardSigmoid', 'HardSwish', 'Elu', 'Selu', 'Softplus', 'Softsign',
  'Clip', 'Identity', 'Dropout', 'BatchNormalization', 'InstanceNormalization', 'LayerNormalization', 'LRN', 'Gelu',
  'Mish', 'Sign', 'IsNaN', 'Celu', 'ThresholdedRelu', 'Hardmax', 'QuantizeLinear', 'DequantizeLinear', 'CumSum',
]);
const BROADCAST = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'Where', 'Mod', 'BitShift']);
const BOOL_OUT = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'Not', 'IsNaN', 'IsInf']);

function inferNode(node: Node, ins: (ValueShape | undefined)[], constants: Constants): (ValueShape | undefined)[] {
  if (node.domain && node.domain !== 'ai.onnx') return [];
  const op = node.opType;
  const x = ins[0];
  const elem = x?.elemType;
  if (UNARY_SAME.has(op)) {
    const out: ValueShape = { elemType: op === 'QuantizeLinear' ? ins[2]?.elemType ?? DataType.UINT8 : op === 'DequantizeLinear' ? ins[1]?.elemType : elem, dims: x?.dims };
    return op === 'Dropout' ? [out, { elemType: DataType.BOOL, dims: x?.dims }] : [out];
  }
  if (BROADCAST.has(op)) {
    const operands = op === 'Where' ? ins : ins;
    if (operands.some((s) => !s?.dims)) return [{ elemType: BOOL_OUT.has(op) ? DataType.BOOL : op === 'Where' ? ins[1]?.elemType : elem }];
    const dims = broadcast(operands.map((s) => s!.dims!));
    return [{ elemType: BOOL_OUT.has(op) ? DataType.BOOL : op === 'Where' ? ins[1]?.elemType : elem, dims }];
  }
  switch (op) {
    case 'Not': return [{ elemType: DataType.BOOL, dims: x?.dims }];
    case 'Cast': return [{ elemType: node.getInt('to'), dims: x?.dims }];
    case 'CastLike': return [{ elemType: ins[1]?.elemType, dims: x?.dims }];
    case 'Shape': return [{ elemType: DataType.INT64, dims: x?.dims ? [shapeLength(node, x.dims.length)] : [null] }];
    case 'Size': return [{ elemType: DataType.INT64, dims: [] }];
    case 'Conv': case 'ConvInteger': case 'MaxPool': case 'AveragePool': case 'LpPool': case 'QLinearConv':
      return [{ elemType: op === 'ConvInteger' ? DataType.INT32 : elem, dims: convLike(node, x?.dims, op === 'QLinearConv' ? ins[3]?.dims : ins[1]?.dims) }];
    case 'ConvTranspose': return [{ elemType: elem, dims: convTranspose(node, x?.dims, ins[1]?.dims) }];
    case 'GlobalAveragePool': case 'GlobalMaxPool': case 'GlobalLpPool':
      return [{ elemType: elem, dims: x?.dims ? [x.dims[0]!, x.dims[1]!, ...x.dims.slice(2).map(() => 1)] : undefined }];
    case 'MatMul': case 'MatMulInteger': return [{ elemType: op === 'MatMulInteger' ? DataType.INT32 : elem, dims: matmul(x?.dims, ins[1]?.dims) }];
    case 'Gemm': return [{ elemType: elem, dims: gemm(node, x?.dims, ins[1]?.dims) }];
    case 'Flatten': return [{ elemType: elem, dims: flatten(node, x?.dims) }];
    case 'Reshape': return [{ elemType: elem, dims: reshape(node, x?.dims, constants(node.inputs[1] ?? '')) }];
    case 'Transpose': return [{ elemType: elem, dims: transpose(node, x?.dims) }];
    case 'Squeeze': return [{ elemType: elem, dims: squeeze(node, x?.dims, constants) }];
    case 'Unsqueeze': return [{ elemType: elem, dims: unsqueeze(node, x?.dims, constants) }];
    case 'Concat': return [{ elemType: elem, dims: concat(node, ins) }];
    case 'ReduceMean': case 'ReduceSum': case 'ReduceMax': case 'ReduceMin': case 'ReduceProd': case 'ReduceL2': case 'ReduceL1': case 'ReduceSumSquare': case 'ReduceLogSumExp':
      return [{ elemType: elem, dims: reduce(node, x?.dims, constants) }];
    case 'ArgMax': case 'ArgMin': return [{ elemType: DataType.INT64, dims: argReduce(node, x?.dims) }];
    case 'Gather': return [{ elemType: elem, dims: gather(node, x?.dims, ins[1]?.dims) }];
    case 'Constant': {
      const t = node.getTensor('value');
      return [t ? { elemType: t.dataType, dims: [...t.dims] } : undefined];
    }
    case 'ConstantOfShape': {
      const shape = constants(node.inputs[0] ?? '');
      const value = node.getTensor('value');
      return [{ elemType: value?.dataType ?? DataType.FLOAT, dims: shape ? shape.toNumbers() : undefined }];
    }
    case 'Slice': return [{ elemType: elem, dims: slice(node, x?.dims, constants) }];
    case 'Split': return splitShapes(node, x, constants);
    case 'Pad': return [{ elemType: elem, dims: pad(node, x?.dims, constants) }];
    case 'Tile': {
      const reps = constants(node.inputs[1] ?? '')?.toNumbers();
      return [{ elemType: elem, dims: x?.dims && reps ? x.dims.map((d, i) => (typeof d === 'number' ? d * reps[i]! : null)) : undefined }];
    }
    case 'Expand': {
      const shape = constants(node.inputs[1] ?? '')?.toNumbers();
      return [{ elemType: elem, dims: x?.dims && shape ? broadcast([x.dims, shape]) : undefined }];
    }
    case 'Range': return [{ elemType: elem, dims: [null] }];
    case 'LSTM': case 'GRU': case 'RNN': return recurrent(node, x?.dims, ins[1]?.dims).map((r) => ({ ...r, elemType: elem }));
    case 'Resize': case 'Upsample': case 'GatherElements': case 'ScatterElements': case 'ScatterND': case 'Trilu': case 'ReverseSequence':
      return [{ elemType: elem, dims: op === 'Resize' || op === 'Upsample' ? (x?.dims ? x.dims.map(() => null) : undefined) : x?.dims }];
    case 'TopK': return [{ elemType: elem, dims: x?.dims ? x.dims.map(() => null) : undefined }, { elemType: DataType.INT64, dims: x?.dims ? x.dims.map(() => null) : undefined }];
    case 'NonZero': return [{ elemType: DataType.INT64, dims: x?.dims ? [x.dims.length, null] : undefined }];
    case 'DynamicQuantizeLinear': return [{ elemType: DataType.UINT8, dims: x?.dims }, { elemType: DataType.FLOAT, dims: [] }, { elemType: DataType.UINT8, dims: [] }];
    default: return [];
  }
}

function shapeLength(node: Node, rank: number): number {
  const start = norm(node.getInt('start', 0), rank, true);
  const end = norm(node.getInt('end', rank), rank, true);
  return Math.max(0, end - start);
}

function norm(axis: number, rank: number, clamp = false): number {
  let a = axis < 0 ? axis + rank : axis;
  if (clamp) a = Math.min(Math.max(a, 0), rank);
  return a;
}

export function broadcast(shapes: Dim[][]): Dim[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let d: Dim = 1;
    for (const s of shapes) {
      const v = s[s.length - rank + i];
      if (v === undefined || v === 1) continue;
      if (d === 1) d = v;
      else if (d !== v) d = typeof d === 'number' && typeof v === 'number' ? d : typeof d === 'number' ? d : typeof v === 'number' ? v : null;
    }
    out.push(d);
  }
  return out;
}

function convLike(node: Node, x: Dim[] | undefined, w: Dim[] | undefined): Dim[] | undefined {
  if (!x) return undefined;
  const spatial = x.length - 2;
  const isConv = node.opType.includes('Conv');
  const kernel = node.getInts('kernel_shape') ?? (w ? w.slice(2).map((d) => (typeof d === 'number' ? d : NaN)) : undefined);
  if (!kernel || kernel.some((k) => Number.isNaN(k))) return undefined;
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
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') out.push(Math.ceil(size / strides[i]!));
    else if (autoPad === 'VALID') out.push(Math.ceil((size - k + 1) / strides[i]!));
    else {
      const span = size + pads[i]! + pads[i + spatial]! - k;
      out.push((ceil ? Math.ceil(span / strides[i]!) : Math.floor(span / strides[i]!)) + 1);
    }
  }
  return out;
}

function convTranspose(node: Node, x: Dim[] | undefined, w: Dim[] | undefined): Dim[] | undefined {
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
  if (node.getString('auto_pad', 'NOTSET') !== 'NOTSET') return undefined;
  const out: Dim[] = [x[0]!, channels];
  for (let i = 0; i < spatial; i++) {
    const size = x[2 + i];
    if (typeof size !== 'number') { out.push(null); continue; }
    out.push(strides[i]! * (size - 1) + outPad[i]! + ((kernel[i]! - 1) * dilations[i]! + 1) - pads[i]! - pads[i + spatial]!);
  }
  return out;
}

function matmul(a: Dim[] | undefined, b: Dim[] | undefined): Dim[] | undefined {
  if (!a || !b) return undefined;
  const a2 = a.length === 1 ? [1, a[0]!] : a;
  const b2 = b.length === 1 ? [b[0]!, 1] : b;
  const batch = broadcast([a2.slice(0, -2), b2.slice(0, -2)]);
  const out = [...batch, a2[a2.length - 2]!, b2[b2.length - 1]!];
  if (a.length === 1) out.splice(out.length - 2, 1);
  if (b.length === 1) out.splice(out.length - 1, 1);
  return out;
}

function gemm(node: Node, a: Dim[] | undefined, b: Dim[] | undefined): Dim[] | undefined {
  if (!a || !b || a.length !== 2 || b.length !== 2) return undefined;
  const m = node.getInt('transA', 0) ? a[1]! : a[0]!;
  const n = node.getInt('transB', 0) ? b[0]! : b[1]!;
  return [m, n];
}

function product(dims: Dim[]): Dim {
  let p = 1;
  for (const d of dims) {
    if (typeof d !== 'number') return null;
    p *= d;
  }
  return p;
}

function flatten(node: Node, x: Dim[] | undefined): Dim[] | undefined {
  if (!x) return undefined;
  const axis = norm(node.getInt('axis', 1), x.length);
  return [product(x.slice(0, axis)), product(x.slice(axis))];
}

function reshape(node: Node, x: Dim[] | undefined, shapeTensor: Tensor | undefined): Dim[] | undefined {
  if (!shapeTensor) return undefined;
  const target = shapeTensor.toNumbers();
  const allowZero = node.getInt('allowzero', 0) === 1;
  const out: Dim[] = target.map((d, i) => (d === 0 && !allowZero ? (x ? x[i] ?? null : null) : d === -1 ? -1 : d));
  const inferIndex = out.indexOf(-1);
  if (inferIndex >= 0) {
    const total = x ? product(x) : null;
    const rest = product(out.filter((_, i) => i !== inferIndex));
    out[inferIndex] = typeof total === 'number' && typeof rest === 'number' && rest !== 0 ? total / rest : null;
  }
  return out;
}

function transpose(node: Node, x: Dim[] | undefined): Dim[] | undefined {
  if (!x) return undefined;
  const perm = node.getInts('perm') ?? x.map((_, i) => x.length - 1 - i);
  return perm.map((p) => x[p] ?? null);
}

function axesOf(node: Node, constants: Constants, inputIndex: number): number[] | undefined {
  const fromAttr = node.getInts('axes');
  if (fromAttr) return fromAttr;
  const name = node.inputs[inputIndex];
  if (!name) return undefined;
  return constants(name)?.toNumbers();
}

function squeeze(node: Node, x: Dim[] | undefined, constants: Constants): Dim[] | undefined {
  if (!x) return undefined;
  const axes = axesOf(node, constants, 1);
  if (!axes) {
    if (node.inputs[1]) return undefined;
    if (x.some((d) => typeof d !== 'number')) return undefined;
    return x.filter((d) => d !== 1);
  }
  const drop = new Set(axes.map((a) => norm(a, x.length)));
  return x.filter((_, i) => !drop.has(i));
}

function unsqueeze(node: Node, x: Dim[] | undefined, constants: Constants): Dim[] | undefined {
  if (!x) return undefined;
  const axes = axesOf(node, constants, 1);
  if (!axes) return undefined;
  const rank = x.length + axes.length;
  const at = new Set(axes.map((a) => norm(a, rank)));
  const out: Dim[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) out.push(at.has(i) ? 1 : x[k++]!);
  return out;
}

function concat(node: Node, ins: (ValueShape | undefined)[]): Dim[] | undefined {
  if (ins.some((s) => !s?.dims)) return undefined;
  const first = ins[0]!.dims!;
  const axis = norm(node.getInt('axis', 0), first.length);
  const out = [...first];
  out[axis] = product(ins.map((s) => s!.dims![axis]!));
  let sum: Dim = 0;
  for (const s of ins) {
    const d = s!.dims![axis]!;
    sum = typeof sum === 'number' && typeof d === 'number' ? sum + d : null;
  }
  out[axis] = sum;
  return out;
}

function reduce(node: Node, x: Dim[] | undefined, constants: Constants): Dim[] | undefined {
  if (!x) return undefined;
  const keep = node.getInt('keepdims', 1) === 1;
  const axes = axesOf(node, constants, 1);
  if (!axes && node.inputs[1]) return undefined;
  const set = new Set((axes ?? x.map((_, i) => i)).map((a) => norm(a, x.length)));
  if (axes && axes.length === 0 && node.getInt('noop_with_empty_axes', 0) === 1) return x;
  return keep ? x.map((d, i) => (set.has(i) ? 1 : d)) : x.filter((_, i) => !set.has(i));
}

function argReduce(node: Node, x: Dim[] | undefined): Dim[] | undefined {
  if (!x) return undefined;
  const axis = norm(node.getInt('axis', 0), x.length);
  return node.getInt('keepdims', 1) ? x.map((d, i) => (i === axis ? 1 : d)) : x.filter((_, i) => i !== axis);
}

function gather(node: Node, x: Dim[] | undefined, idx: Dim[] | undefined): Dim[] | undefined {
  if (!x || !idx) return undefined;
  const axis = norm(node.getInt('axis', 0), x.length);
  return [...x.slice(0, axis), ...idx, ...x.slice(axis + 1)];
}

/** Symbolic dims (a batch, a sequence length) count as 1: MACs are per sample. */
function perSample(dims: Dim[] | undefined): Dim[] | undefined {
  return dims?.map((d) => (typeof d === 'string' ? 1 : d));
}

/** Multiply-accumulate count of one node per sample, when shapes allow; undefined otherwise. */
export function nodeMacs(node: Node, allShapes: ShapeMap): number | undefined {
  const shapes = { get: (name: string) => { const s = allShapes.get(name); return s && { dims: perSample(s.dims) }; } };
  const out = shapes.get(node.outputs[0] ?? '')?.dims;
  const outCount = out ? product(out) : null;
  switch (node.opType) {
    case 'Conv': case 'ConvInteger': case 'QLinearConv': {
      const w = shapes.get(node.inputs[node.opType === 'QLinearConv' ? 3 : 1] ?? '')?.dims;
      const perOutput = w ? product(w.slice(1)) : null;
      return typeof outCount === 'number' && typeof perOutput === 'number' ? outCount * perOutput : undefined;
    }
    case 'ConvTranspose': {
      const x = shapes.get(node.inputs[0] ?? '')?.dims;
      const w = shapes.get(node.inputs[1] ?? '')?.dims;
      const inCount = x ? product(x) : null;
      const perInput = w ? product(w.slice(1)) : null;
      return typeof inCount === 'number' && typeof perInput === 'number' ? inCount * perInput : undefined;
    }
    case 'MatMul': case 'MatMulInteger': case 'Gemm': {
      const a = shapes.get(node.inputs[0] ?? '')?.dims;
      if (!a || typeof outCount !== 'number') return undefined;
      const k = node.opType === 'Gemm' && node.getInt('transA', 0) ? a[0] : a[a.length - 1];
      return typeof k === 'number' ? outCount * k : undefined;
    }
    default: return undefined;
  }
}

function slice(node: Node, x: Dim[] | undefined, constants: Constants): Dim[] | undefined {
  if (!x) return undefined;
  const fromAttrs = node.getInts('starts') !== undefined;
  const starts = fromAttrs ? node.getInts('starts') : constants(node.inputs[1] ?? '')?.toNumbers();
  const ends = fromAttrs ? node.getInts('ends') : constants(node.inputs[2] ?? '')?.toNumbers();
  const axes = (fromAttrs ? node.getInts('axes') : node.inputs[3] ? constants(node.inputs[3])?.toNumbers() : undefined) ?? starts?.map((_, i) => i);
  const steps = fromAttrs || !node.inputs[4] ? starts?.map(() => 1) : constants(node.inputs[4])?.toNumbers();
  if (!starts || !ends || !axes || !steps) return x.map(() => null);
  const out = [...x];
  axes.forEach((a, i) => {
    const axis = norm(a, x.length);
    const size = x[axis];
    if (typeof size !== 'number') { out[axis] = null; return; }
    const step = steps[i]!;
    const clampStart = (v: number) => (v < 0 ? Math.max(v + size, step > 0 ? 0 : -1) : Math.min(v, step > 0 ? size : size - 1));
    const start = clampStart(starts[i]!);
    const end = clampStart(ends[i]!);
    out[axis] = Math.max(0, Math.ceil((end - start) / step));
  });
  return out;
}

function splitShapes(node: Node, x: ValueShape | undefined, constants: Constants): (ValueShape | undefined)[] {
  const dims = x?.dims;
  const n = node.outputs.length;
  if (!dims) return node.outputs.map(() => ({ elemType: x?.elemType }));
  const axis = norm(node.getInt('axis', 0), dims.length);
  const sizes = node.getInts('split') ?? (node.inputs[1] ? constants(node.inputs[1])?.toNumbers() : undefined);
  const total = dims[axis];
  return node.outputs.map((_, i) => {
    const out = [...dims];
    out[axis] = sizes ? sizes[i] ?? null : typeof total === 'number' && total % n === 0 ? total / n : null;
    return { elemType: x.elemType, dims: out };
  });
}

function pad(node: Node, x: Dim[] | undefined, constants: Constants): Dim[] | undefined {
  if (!x) return undefined;
  const pads = node.getInts('pads') ?? constants(node.inputs[1] ?? '')?.toNumbers();
  if (!pads || node.inputs[3]) return x.map(() => null);
  const r = x.length;
  return x.map((d, i) => (typeof d === 'number' ? d + pads[i]! + pads[i + r]! : null));
}

function recurrent(node: Node, x: Dim[] | undefined, w: Dim[] | undefined): ValueShape[] {
  const hidden = node.getInt('hidden_size');
  const dirs = node.getString('direction', 'forward') === 'bidirectional' ? 2 : 1;
  const layout = node.getInt('layout', 0);
  const elemType = undefined as number | undefined;
  void w;
  if (!x || hidden === undefined) return node.outputs.map(() => ({ elemType }));
  const [seq, batch] = layout ? [x[1]!, x[0]!] : [x[0]!, x[1]!];
  const y: Dim[] = layout ? [batch, seq, dirs, hidden] : [seq, dirs, batch, hidden];
  const h: Dim[] = layout ? [batch, dirs, hidden] : [dirs, batch, hidden];
  return [{ dims: y }, { dims: h }, { dims: h }];
}
