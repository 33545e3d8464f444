// float16 weights and compute. Every float32 value of the main graph becomes float16,
// except around ops on the block list (unsafe or unsupported in fp16), which keep float32
// behind Casts. With keepIoTypes the model's inputs and outputs stay float32. One Cast
// per value and direction, shared by all its readers: the fewest Casts the split allows.
import { Node, attr, type Graph, type Model } from '../ir/graph.js';
import { DataType } from '../ir/dtype.js';
import { float32ToFloat16 } from '../ir/float-formats.js';
import { NameAllocator, dropValueInfoWhere, insertNodes, renameOutput, replaceAllUses, replaceInitializer, setInputs } from '../ir/mutate.js';
import { inferShapes } from '../ir/shapes.js';
import { Tensor } from '../ir/tensor.js';
import type { LeftInFloat, QuantizeOptions } from './options.js';

/** Kept in float32 by default: onnxconverter-common's list (ML ops, index-producing and
 * range-sensitive ops) plus recurrent ops, whose state accumulates error in fp16. */
export const DEFAULT_FP16_BLOCK_OPS = [
  'ArrayFeatureExtractor', 'Binarizer', 'CastMap', 'CategoryMapper', 'DictVectorizer', 'FeatureVectorizer', 'Imputer',
  'LabelEncoder', 'LinearClassifier', 'LinearRegressor', 'Normalizer', 'OneHotEncoder', 'RandomUniformLike', 'SVMClassifier',
  'SVMRegressor', 'Scaler', 'TreeEnsembleClassifier', 'TreeEnsembleRegressor', 'ZipMap', 'NonMaxSuppression', 'TopK',
  'RoiAlign', 'Resize', 'Range', 'CumSum', 'Min', 'Max', 'Upsample', 'LSTM', 'GRU', 'RNN',
  'QuantizeLinear', 'DequantizeLinear', 'DynamicQuantizeLinear',
];

const FP16_MAX = 65504;

export function convertToFp16(model: Model, o: QuantizeOptions, left: LeftInFloat[], types: Map<string, number>): Record<string, number> {
  const g = model.graph;
  const block = new Set(o.fp16BlockOps ?? DEFAULT_FP16_BLOCK_OPS);
  const keepIo = o.keepIoTypes ?? true;
  const names = new NameAllocator(g);
  const isFloat = (name: string) => types.get(name) === DataType.FLOAT;
  const blocked = (n: Node) => !n.isOnnx() || block.has(n.opType) || n.subgraphs().length > 0 || (o.excludeNodes ?? []).includes(n.name ?? '');
  // Which float values end up float16: outputs of converted nodes, initializers read by
  // converted nodes, and (without keepIo) the graph inputs.
  const half = new Set<string>();
  for (const n of g.nodes) if (!blocked(n)) for (const out of n.outputs) if (out && isFloat(out)) half.add(out);
  for (const n of g.nodes) if (!blocked(n)) for (const i of n.inputs) if (g.initializers.has(i) && g.initializers.get(i)!.dataType === DataType.FLOAT) half.add(i);
  if (!keepIo) for (const v of g.inputs) if (isFloat(v.name) && !g.initializers.has(v.name)) half.add(v.name);

  const casts = new Map<string, string>();
  const newNodes: Node[] = [];
  const castTo = (value: string, to: number): string => {
    const key = `${value}|${to}`;
    let name = casts.get(key);
    if (!name) {
      name = names.next(`${value}_${to === DataType.FLOAT16 ? 'fp16' : 'fp32'}`);
      newNodes.push(new Node({ opType: 'Cast', inputs: [value], outputs: [name], name: names.next(`${value}_Cast`), attributes: [attr.int('to', to)] }));
      casts.set(key, name);
    }
    return name;
  };
  const counts: Record<string, number> = {};
  for (const n of [...g.nodes]) {
    const isBlocked = blocked(n);
    setInputs(n, n.inputs.map((i) => {
      if (!i || !(isFloat(i) || half.has(i))) return i;
      if (isBlocked && half.has(i)) return castTo(i, DataType.FLOAT);
      if (!isBlocked && !half.has(i)) return castTo(i, DataType.FLOAT16);
      return i;
    }));
    if (isBlocked) {
      if (n.outputs.some(isFloat)) left.push({ node: n.name || n.outputs[0] || '?', opType: n.opType, reason: n.subgraphs().length ? 'holds a subgraph; kept in float32' : n.isOnnx() ? 'on the fp16 block list' : `custom domain ${n.domain}` });
      continue;
    }
    retypeAttributes(n);
    counts[n.opType] = (counts[n.opType] ?? 0) + 1;
  }
  for (const name of half) {
    const t = g.initializers.get(name);
    if (t && t.dataType === DataType.FLOAT) replaceInitializer(g, toHalf(t));
  }
  // Graph outputs: float16 inside, float32 outside with keepIo.
  for (const out of g.outputs) {
    if (!half.has(out.name)) continue;
    if (keepIo) {
      const producer = g.producers().get(out.name);
      if (!producer) continue;
      const inner = names.next(`${out.name}_fp16`);
      renameOutput(producer, out.name, inner);
      // Bodies of (blocked, float32) nodes keep reading the float32 value the Cast restores.
      replaceAllUses(g, out.name, inner, { inSubgraphs: false });
      newNodes.push(new Node({ opType: 'Cast', inputs: [inner], outputs: [out.name], name: names.next(`${out.name}_Cast`), attributes: [attr.int('to', DataType.FLOAT)] }));
    } else if (out.type?.tensor_type) {
      out.type = { ...out.type, tensor_type: { ...out.type.tensor_type, elem_type: DataType.FLOAT16 } };
    }
  }
  if (!keepIo) for (const v of g.inputs) if (half.has(v.name) && v.type?.tensor_type) v.type = { ...v.type, tensor_type: { ...v.type.tensor_type, elem_type: DataType.FLOAT16 } };
  // value_info for retyped values would now lie: drop it; runtimes infer it again.
  dropValueInfoWhere(g, (v) => half.has(v.name));
  insertNodes(g, newNodes);
  counts.Cast = (counts.Cast ?? 0) + newNodes.length;
  return counts;
}

/** Ops whose attributes name an output type: make float32 results float16. */
function retypeAttributes(n: Node): void {
  if (n.opType === 'Cast' && n.getInt('to') === DataType.FLOAT) n.setAttr(attr.int('to', DataType.FLOAT16));
  for (const key of ['dtype']) if (n.getInt(key) === DataType.FLOAT) n.setAttr(attr.int(key, DataType.FLOAT16));
  for (const a of n.attributes) if (a.t && a.t.dataType === DataType.FLOAT) a.t = toHalf(a.t);
}

/** float32 -> float16 bits, clamped to the fp16 range so no weight becomes infinite. */
export function toHalf(t: Tensor): Tensor {
  // Read the float32 values in place when they are aligned; only convert what is not float32.
  const src = t.dataType === DataType.FLOAT && t.data.kind === 'raw' ? (t.typedView() as Float32Array) : t.toFloat32();
  const words = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const bits = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const x = words[i]!;
    const exp = (x >>> 23) & 0xff;
    // Normal results (the bulk of weights) inline; subnormals, clamping and NaN take the slow path.
    if (exp > 112 && exp < 142) {
      // Round half to even by adding 0xfff plus the lowest kept bit; a carry moves into the exponent.
      const abs = x & 0x7fffffff;
      bits[i] = ((x >>> 16) & 0x8000) | (((abs + 0xfff + ((abs >>> 13) & 1)) >>> 13) - 0x1c000);
    } else {
      const v = src[i]!;
      bits[i] = float32ToFloat16(v > FP16_MAX ? FP16_MAX : v < -FP16_MAX ? -FP16_MAX : v);
    }
  }
  return Tensor.fromTyped(t.name, DataType.FLOAT16, t.dims, bits);
}

/** Element types of the main graph's values: declared, inferred, or as onnxruntime reports them. */
export function staticValueTypes(g: Graph): Map<string, number> {
  const types = new Map<string, number>();
  for (const [name, s] of inferShapes(g)) if (s.elemType !== undefined) types.set(name, s.elemType);
  for (const [name, t] of g.initializers) types.set(name, t.dataType);
  return types;
}
