// float16 weights and compute. Every float32 value becomes float16, except around ops on the
// block list (unsafe or unsupported in fp16), which keep float32 behind Casts. With keepIoTypes
// the model's inputs and outputs stay float32. One Cast per value and direction, shared by
// all its readers: the fewest Casts the split allows. Subgraph bodies (If branches, Loop and
// Scan bodies) are converted too, each keeping float32 at its own boundary (formal inputs and
// outputs), so the node holding it keeps its types; a body reads an outer value in whatever
// type the outer graph gave it, and a weight it captures gets a float16 copy of its own.
import { Node, attr, type Graph, type Model } from '../ir/graph.js';
import { DataType } from '../ir/dtype.js';
import { float32ToFloat16 } from '../ir/float-formats.js';
import { NameAllocator, addInitializer, dropValueInfoWhere, insertNodes, renameOutput, replaceAllUses, replaceInitializer, setInputs } from '../ir/mutate.js';
import { inferShapes, inferShapesWithDiagnostics, type ShapeInference } from '../ir/shapes.js';
import { Tensor } from '../ir/tensor.js';
import type { LeftInFloat, QuantizeOptions } from './options.js';
import { shareIdenticalInitializers } from './subgraphs.js';

/** Kept in float32 by default: onnxconverter-common's list (ML ops, index-producing and
 * range-sensitive ops) plus recurrent ops, whose state accumulates error in fp16. */
export const DEFAULT_FP16_BLOCK_OPS = [
  'ArrayFeatureExtractor', 'Binarizer', 'CastMap', 'CategoryMapper', 'DictVectorizer', 'FeatureVectorizer', 'Imputer',
  'LabelEncoder', 'LinearClassifier', 'LinearRegressor', 'Normalizer', 'OneHotEncoder', 'RandomUniformLike', 'SVMClassifier',
  'SVMRegressor', 'Scaler', 'TreeEnsembleClassifier', 'TreeEnsembleRegressor', 'ZipMap', 'NonMaxSuppression', 'TopK',
  'RoiAlign', 'Resize', 'Range', 'CumSum', 'Min', 'Max', 'Upsample', 'LSTM', 'GRU', 'RNN',
  'QuantizeLinear', 'DequantizeLinear', 'DynamicQuantizeLinear', 'QLinearConv', 'QLinearMatMul', 'ConvInteger', 'MatMulInteger',
  // float32 only in the ONNX schema (IsInf until opset 20), a function expanded with float32
  // constants (MeanVarianceNormalization), or no float16 kernel on onnxruntime's CPU provider.
  'Celu', 'IsInf', 'MeanVarianceNormalization', 'EyeLike', 'ScatterND', 'ScatterElements',
];

const FP16_MAX = 65504;

interface Conversion {
  block: Set<string>;
  exclude: Set<string>;
  names: NameAllocator;
  left: LeftInFloat[];
  counts: Record<string, number>;
  /** Element types of each body's values, inferred on the model as it came (bodies are not run). */
  bodyTypes: Map<Graph, Map<string, number>>;
  /** float16 copies of outer weights, per body: identical ones are shared afterwards. */
  copies: { body: Graph; names: string[] }[];
}

/** `types`: element types of the main graph's values (observed where possible). */
export function convertToFp16(model: Model, o: QuantizeOptions, left: LeftInFloat[], types: Map<string, number>): Record<string, number> {
  const memo = new Map<Graph, ShapeInference>();
  // Bodies are inferred before anything changes: their types are those of the float model.
  const bodyTypes = new Map([...model.graph.descendants()].map((body) => [body, typesOf(inferShapesWithDiagnostics(body, undefined, memo).shapes, body)]));
  const c: Conversion = {
    block: new Set(o.fp16BlockOps ?? DEFAULT_FP16_BLOCK_OPS),
    exclude: new Set(o.excludeNodes ?? []),
    names: new NameAllocator(model.graph),
    left,
    counts: {},
    bodyTypes,
    copies: [],
  };
  convertGraph(model.graph, types, new Set(), o.keepIoTypes ?? true, c, undefined);
  shareIdenticalInitializers(model.graph, c.copies);
  return c.counts;
}

/**
 * Converts one graph. `outerHalf`: outer values this graph reads by name that are float16
 * now. `where` names the body (undefined for the main graph).
 */
function convertGraph(g: Graph, types: Map<string, number>, outerHalf: Set<string>, keepIo: boolean, c: Conversion, where: string | undefined): void {
  const isFloat = (name: string) => types.get(name) === DataType.FLOAT;
  // A node whose value types inference could not give stays as it is: converting it could
  // feed a float32 reader float16 (or the reverse) unseen.
  const typed = (n: Node) => [...n.inputs, ...n.outputs].every((v) => !v || types.has(v));
  // Strings made from float16 values print differently (0.1 -> 0.0999755859375), and parsed
  // ones overflow it: a node touching strings keeps float32.
  const strings = (n: Node) => [...n.inputs, ...n.outputs].some((v) => v && types.get(v) === DataType.STRING) || (n.opType === 'Cast' && n.getInt('to') === DataType.STRING);
  const blocked = (n: Node) => !n.isOnnx() || c.block.has(n.opType) || n.subgraphs().length > 0 || c.exclude.has(n.name ?? '') || !typed(n) || strings(n);
  const whyBlocked = (n: Node) => !n.isOnnx() ? `custom domain ${n.domain}` : c.block.has(n.opType) ? 'on the fp16 block list'
    : c.exclude.has(n.name ?? '') ? 'excluded' : strings(n) ? 'reads or makes strings; kept in float32' : 'value types unknown (shape inference could not give them); kept in float32';
  // An outer initializer, unless an input on the way shadows it (a default the caller may
  // override, or a body's carried value of that name): no copy of it then.
  const outerWeight = (name: string) => (g.initializers.has(name) ? undefined : g.findInitializer(name));
  // Which float values end up float16: outer values the outer graph made float16, outputs of
  // converted nodes, initializers read by converted nodes, and (without keepIo) the graph inputs.
  const half = new Set(outerHalf);
  for (const n of g.nodes) if (!blocked(n)) for (const out of n.outputs) if (out && isFloat(out)) half.add(out);
  // An initializer that is also a graph input is a default the caller may override in float32.
  const inputs = new Set(g.inputs.map((v) => v.name));
  for (const n of g.nodes) if (!blocked(n)) for (const i of n.inputs) if (!inputs.has(i) && g.initializers.get(i)?.dataType === DataType.FLOAT) half.add(i);
  if (!keepIo) for (const v of g.inputs) if (isFloat(v.name) && !g.initializers.has(v.name)) half.add(v.name);

  const casts = new Map<string, string>();
  const newNodes: Node[] = [];
  const castTo = (value: string, to: number): string => {
    const key = `${value}|${to}`;
    let name = casts.get(key);
    if (!name) {
      name = c.names.next(`${value}_${to === DataType.FLOAT16 ? 'fp16' : 'fp32'}`);
      newNodes.push(new Node({ opType: 'Cast', inputs: [value], outputs: [name], name: c.names.next(`${value}_Cast`), attributes: [attr.int('to', to)] }));
      casts.set(key, name);
    }
    return name;
  };
  // A weight of an enclosing graph read here: a float16 copy in this body, not a Cast every run.
  const copies = new Map<string, string>();
  const halfCopy = (name: string): string | undefined => {
    const t = outerWeight(name);
    if (!t || t.dataType !== DataType.FLOAT || outerHalf.has(name)) return undefined;
    let copy = copies.get(name);
    if (!copy) { copy = c.names.next(`${name}_fp16`); addInitializer(g, toHalf(t, copy)); copies.set(name, copy); }
    return copy;
  };
  for (const n of [...g.nodes]) {
    const isBlocked = blocked(n);
    const first = n.inputs[0] ?? '';
    setInputs(n, n.inputs.map((i) => {
      if (!i || !(isFloat(i) || half.has(i))) return i;
      if (isBlocked && half.has(i)) return castTo(i, DataType.FLOAT);
      if (!isBlocked && !half.has(i)) return halfCopy(i) ?? castTo(i, DataType.FLOAT16);
      return i;
    }));
    if (isBlocked) {
      // A node holding bodies is not itself float: its bodies are converted below.
      if (n.subgraphs().length === 0 && n.outputs.some(isFloat)) c.left.push({ node: n.name || n.outputs[0] || '?', opType: n.opType, reason: `${whyBlocked(n)}${where ? ` (${where})` : ''}` });
      continue;
    }
    // Counted when it computes in float (an int64 Neg or a Loop's bool Identity is not converted).
    if ([...n.inputs, ...n.outputs].some((v) => v && (isFloat(v) || half.has(v)))) c.counts[n.opType] = (c.counts[n.opType] ?? 0) + 1;
    // A float32 -> float32 Cast would become a float16 -> float16 one: some onnxruntime
    // releases mistype such a Cast when they fold Cast chains, so it becomes what it is.
    if (n.opType === 'Cast' && n.getInt('to') === DataType.FLOAT && (isFloat(first) || half.has(first))) { n.opType = 'Identity'; n.attributes = []; continue; }
    retypeAttributes(n);
  }
  if (copies.size) c.copies.push({ body: g, names: [...copies.values()] });
  for (const name of half) {
    const t = g.initializers.get(name);
    if (t && t.dataType === DataType.FLOAT) replaceInitializer(g, toHalf(t));
  }
  // Graph outputs: float16 inside, float32 outside with keepIo. Bodies below read the float32 one.
  const restored = new Set<string>();
  for (const out of g.outputs) {
    if (!half.has(out.name)) continue;
    if (keepIo) {
      restored.add(out.name);
      const producer = g.producers().get(out.name);
      if (!producer) continue;
      const inner = c.names.next(`${out.name}_fp16`);
      renameOutput(producer, out.name, inner);
      replaceAllUses(g, out.name, inner, { inSubgraphs: false });
      newNodes.push(new Node({ opType: 'Cast', inputs: [inner], outputs: [out.name], name: c.names.next(`${out.name}_Cast`), attributes: [attr.int('to', DataType.FLOAT)] }));
    } else if (out.type?.tensor_type) {
      out.type = { ...out.type, tensor_type: { ...out.type.tensor_type, elem_type: DataType.FLOAT16 } };
    }
  }
  if (!keepIo) for (const v of g.inputs) if (half.has(v.name) && v.type?.tensor_type) v.type = { ...v.type, tensor_type: { ...v.type.tensor_type, elem_type: DataType.FLOAT16 } };
  // value_info for retyped values would now lie: drop it; runtimes infer it again.
  dropValueInfoWhere(g, (v) => half.has(v.name));
  insertNodes(g, newNodes);
  if (newNodes.length) c.counts.Cast = (c.counts.Cast ?? 0) + newNodes.length;
  const visible = new Set([...half].filter((v) => !restored.has(v)));
  for (const n of g.nodes) {
    for (const a of n.attributes) {
      if (!a.g) continue;
      convertGraph(a.g, c.bodyTypes.get(a.g) ?? new Map(), visible, true, c, `${n.opType} '${n.name || n.outputs[0] || '?'}' ${a.name}${where ? ` in ${where}` : ''}`);
    }
  }
}

/** Element types of a graph's values: what inference gave, and its own initializers. */
function typesOf(shapes: ReturnType<typeof inferShapes>, body: Graph): Map<string, number> {
  const types = new Map<string, number>();
  for (const [name, s] of shapes) if (s.elemType !== undefined) types.set(name, s.elemType);
  for (const [name, t] of body.initializers) types.set(name, t.dataType);
  return types;
}

/** Ops whose attributes name an output type: make float32 results float16. */
function retypeAttributes(n: Node): void {
  if (n.opType === 'Cast' && n.getInt('to') === DataType.FLOAT) n.setAttr(attr.int('to', DataType.FLOAT16));
  for (const key of ['dtype']) if (n.getInt(key) === DataType.FLOAT) n.setAttr(attr.int(key, DataType.FLOAT16));
  for (const a of n.attributes) if (a.t && a.t.dataType === DataType.FLOAT) a.t = toHalf(a.t);
  if (n.opType === 'Constant') {
    // value_float / value_floats make float32 outputs: as a float16 tensor instead.
    const a = n.attributes.find((x) => x.name === 'value_float' || x.name === 'value_floats');
    if (a) {
      const values = a.name === 'value_float' ? [a.f ?? 0] : a.floats ?? [];
      n.attributes = [attr.tensor('value', toHalf(Tensor.fromFloat32('', a.name === 'value_float' ? [] : [values.length], Float32Array.from(values))))];
    }
  }
  // ConstantOfShape without a value fills float32 zeros.
  if (n.opType === 'ConstantOfShape' && !n.attributes.some((x) => x.name === 'value')) n.attributes.push(attr.tensor('value', toHalf(Tensor.fromFloat32('', [1], new Float32Array(1)))));
}

/** float32 -> float16 bits, clamped to the fp16 range so no weight becomes infinite. */
export function toHalf(t: Tensor, name = t.name): Tensor {
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
  return Tensor.fromTyped(name, DataType.FLOAT16, t.dims, bits);
}

/** Element types of the main graph's values: declared, inferred, or as onnxruntime reports them. */
export function staticValueTypes(g: Graph): Map<string, number> {
  return typesOf(inferShapes(g), g);
}
