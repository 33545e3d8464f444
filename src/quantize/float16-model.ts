// Models that compute in float16 (the *_fp16.onnx files transformers.js loads, the fp16 build
// of @imgly/background-removal's ISNet, this tool's own fp16 mode). int8 needs float32
// activations: onnxruntime's QDQ kernels dequantize to float32, and its quantizer refuses
// such models. So the int8 and int4 modes first decode the whole computation to float32 —
// values, Casts, constants, subgraph interfaces — keep the model's own inputs and outputs
// float16 with a Cast at each, and hand back the decoded weights so those left float return
// to float16 behind a Cast (onnxruntime folds it when the session loads).
import { DataType } from '../ir/dtype.js';
import { attr, elemTypeOf, Node, shapeOf, tensorType, type Graph, type Model, type ValueInfo } from '../ir/graph.js';
import { addInitializer, insertNodes, NameAllocator, removeInitializer, renameOutput, replaceAllUses, replaceInitializer } from '../ir/mutate.js';
import { AttrType } from '../ir/onnx-types.js';
import { Tensor } from '../ir/tensor.js';
import type { WidenedWeight } from './cast-weights.js';

const HALF = new Set<number>([DataType.FLOAT16, DataType.BFLOAT16]);
/** A value declared float16 or bfloat16. */
export const isHalf = (v: ValueInfo) => HALF.has(v.type?.tensor_type?.elem_type ?? 0);
const asFloat = (v: ValueInfo): ValueInfo => ({ ...v, type: tensorType(DataType.FLOAT, shapeOf(v)) });
/** Attributes of ONNX ops holding an element type: Cast's `to`, EyeLike's and the Random ops' `dtype`. */
const TYPE_ATTRIBUTES = new Set(['to', 'dtype']);

/** True when any value, weight, constant or Cast of the model is float16 or bfloat16. */
export function computesInHalf(model: Model): boolean {
  for (const g of model.graphs()) {
    if ([...g.inputs, ...g.outputs, ...g.valueInfo].some(isHalf)) return true;
    if ([...g.initializers.values()].some((t) => HALF.has(t.dataType))) return true;
    for (const n of g.nodes) {
      for (const a of n.isOnnx() ? n.attributes : []) {
        if (TYPE_ATTRIBUTES.has(a.name) && a.type === AttrType.INT && HALF.has(Number(a.i))) return true;
        if (a.type === AttrType.TENSOR && a.t && HALF.has(a.t.dataType)) return true;
      }
    }
  }
  return false;
}

export interface DecodedModel {
  /** The decoded weights, as cast-weights records: restoreCastWeights puts back those still float. */
  weights: WidenedWeight[];
  /** Casts inserted at the main graph's float16 inputs and outputs. */
  boundaryCasts: number;
}

/** Decodes every float16/bfloat16 value, weight and constant of the model to float32, in place. */
export function decodeHalfCompute(model: Model): DecodedModel {
  const out: DecodedModel = { weights: [], boundaryCasts: 0 };
  for (const g of [...model.graphs()]) {
    const names = new NameAllocator(g);
    // The main graph's inputs and outputs stay as declared: castAtBoundary bridges them. An
    // initializer that is also an input (IR < 4) is such an input's default.
    const interfaceNames = new Set(g === model.graph ? [...g.inputs, ...g.outputs].map((v) => v.name) : []);
    const inputs = new Set(g.inputs.map((v) => v.name));
    for (const [name, t] of [...g.initializers]) {
      if (!HALF.has(t.dataType) || inputs.has(name)) continue;
      const stored = names.next(`${name}_${t.dataType === DataType.FLOAT16 ? 'fp16' : 'bf16'}`);
      replaceInitializer(g, Tensor.fromFloat32(name, [...t.dims], t.toFloat32()));
      const cast = new Node({ opType: 'Cast', inputs: [stored], outputs: [name], name: names.next(`${name}_Cast`), attributes: [attr.int('to', DataType.FLOAT)] });
      out.weights.push({ graph: g, cast, source: new Tensor(stored, t.dataType, t.dims, t.data) });
    }
    for (const n of g.nodes) {
      if (!n.isOnnx()) continue;
      for (const a of n.attributes) {
        if (TYPE_ATTRIBUTES.has(a.name) && a.type === AttrType.INT && HALF.has(Number(a.i))) a.i = DataType.FLOAT;
        if (a.type === AttrType.TENSOR && a.t && HALF.has(a.t.dataType)) a.t = Tensor.fromFloat32(a.t.name, [...a.t.dims], a.t.toFloat32());
      }
    }
    g.valueInfo = g.valueInfo.map((v) => (isHalf(v) && !interfaceNames.has(v.name) ? asFloat(v) : v));
    if (g === model.graph) out.boundaryCasts += castAtBoundary(g, names, out.weights);
    else {
      // A body's inputs and outputs follow the op that holds it, which now computes in float32.
      g.inputs = g.inputs.map((v) => (isHalf(v) ? asFloat(v) : v));
      g.outputs = g.outputs.map((v) => (isHalf(v) ? asFloat(v) : v));
    }
  }
  return out;
}

/**
 * The main graph keeps its interface: float16 inputs are cast to float32 where read, float16
 * outputs cast back from a float32 value under a new name (a weight that is an output moves
 * to that name, and its record with it, so it can still go back to float16).
 */
function castAtBoundary(g: Graph, names: NameAllocator, weights: WidenedWeight[]): number {
  const added: Node[] = [];
  for (const input of g.inputs.filter(isHalf)) {
    const decoded = names.next(`${input.name}_float`);
    replaceAllUses(g, input.name, decoded);
    added.push(new Node({ opType: 'Cast', inputs: [input.name], outputs: [decoded], name: names.next(`${input.name}_Cast`), attributes: [attr.int('to', DataType.FLOAT)] }));
  }
  const inputs = new Set(g.inputs.map((i) => i.name));
  for (const output of g.outputs.filter(isHalf)) {
    // An input passed straight through stays float16 as it is.
    if (inputs.has(output.name)) continue;
    const decoded = names.next(`${output.name}_float`);
    // Inside this graph the value is float32 under its new name; only the output keeps the old one.
    const producer = g.nodes.find((n) => n.outputs.includes(output.name));
    if (producer) renameOutput(producer, output.name, decoded);
    const weight = g.initializers.get(output.name);
    if (weight) {
      removeInitializer(g, output.name);
      addInitializer(g, new Tensor(decoded, weight.dataType, weight.dims, weight.data));
      for (const w of weights) if (w.graph === g && w.cast.outputs[0] === output.name) renameOutput(w.cast, output.name, decoded);
    }
    replaceAllUses(g, output.name, decoded);
    added.push(new Node({ opType: 'Cast', inputs: [decoded], outputs: [output.name], name: names.next(`${output.name}_Cast`), attributes: [attr.int('to', elemTypeOf(output)!)] }));
  }
  if (added.length) insertNodes(g, added);
  return added.length;
}
