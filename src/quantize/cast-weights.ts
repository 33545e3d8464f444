// Weights stored in float16 (or bfloat16, double) and cast to float32 where they are read:
// what converters write to halve a file while computing in float32 (the fp16 build of
// @imgly/background-removal's ISNet, onnxconverter-common's keep-io mixed precision). The
// quantizers look for float32 constants, so the int8 and int4 modes first make each such
// Cast a float32 weight (its values decoded exactly), and afterwards put back in the stored
// type, behind its Cast, every weight that stayed float: a file never grows by it.
import { DataType } from '../ir/dtype.js';
import { float32ToBfloat16, float32ToFloat16 } from '../ir/float-formats.js';
import type { Graph, Model, Node } from '../ir/graph.js';
import { addInitializer, NameAllocator, removeInitializer, removeNodes } from '../ir/mutate.js';
import { Tensor } from '../ir/tensor.js';

const STORED_TYPES = new Set<number>([DataType.FLOAT16, DataType.BFLOAT16, DataType.DOUBLE]);

/** One Cast made a float32 weight: enough to put it back. */
export interface WidenedWeight {
  graph: Graph;
  cast: Node;
  /** The stored tensor the Cast read, and whether anything else read it (then it stayed). */
  source: Tensor;
  sourceKept: boolean;
}

function readNames(g: Graph): Set<string> {
  const names = new Set<string>(g.outputs.map((o) => o.name));
  for (const n of g.nodes) {
    for (const i of n.inputs) if (i) names.add(i);
    for (const sub of n.subgraphs()) for (const c of sub.capturedNames()) names.add(c);
  }
  return names;
}

const castsToFloat = (n: Node) => n.isOnnx('Cast') && n.getInt('to') === DataType.FLOAT;

/** In every graph: Cast(to float) of a float16/bfloat16/double initializer becomes a float32 initializer named as the Cast's output. */
export function widenCastWeights(model: Model): WidenedWeight[] {
  const widened: WidenedWeight[] = [];
  for (const g of [...model.graphs()]) {
    const inputs = new Set(g.inputs.map((i) => i.name));
    const outputs = new Set(g.outputs.map((o) => o.name));
    const casts = g.nodes.filter((n) => {
      const t = castsToFloat(n) ? g.initializers.get(n.inputs[0] ?? '') : undefined;
      return t !== undefined && STORED_TYPES.has(t.dataType) && !inputs.has(t.name) && !outputs.has(n.outputs[0]!);
    });
    if (!casts.length) continue;
    removeNodes(g, casts);
    const read = readNames(g);
    for (const cast of casts) {
      const source = g.initializers.get(cast.inputs[0]!)!;
      addInitializer(g, Tensor.fromFloat32(cast.outputs[0]!, [...source.dims], source.toFloat32()));
      const sourceKept = read.has(source.name);
      if (!sourceKept) removeInitializer(g, source.name);
      widened.push({ graph: g, cast, source, sourceKept });
    }
  }
  return widened;
}

function storedAs(dataType: number, values: Float32Array): ArrayBufferView {
  if (dataType === DataType.DOUBLE) return Float64Array.from(values);
  const convert = dataType === DataType.FLOAT16 ? float32ToFloat16 : float32ToBfloat16;
  return Uint16Array.from(values, convert);
}

/**
 * Every widened weight still read goes back to its stored type behind its Cast, with the
 * values it has now (equalization may have rescaled it); those the quantizer replaced stay
 * gone. Returns how many went back.
 */
export function restoreCastWeights(widened: WidenedWeight[]): number {
  let restored = 0;
  const byGraph = new Map<Graph, WidenedWeight[]>();
  for (const w of widened) byGraph.set(w.graph, [...(byGraph.get(w.graph) ?? []), w]);
  for (const [g, list] of byGraph) {
    const read = readNames(g);
    const names = new NameAllocator(g);
    const back: Node[] = [];
    for (const w of list) {
      const name = w.cast.outputs[0]!;
      const current = g.initializers.get(name);
      if (!current || !read.has(name)) continue;
      const stored = Tensor.fromTyped(w.source.name, w.source.dataType, [...current.dims], storedAs(w.source.dataType, current.toFloat32()));
      removeInitializer(g, name);
      let from = w.source.name;
      if (!w.sourceKept) addInitializer(g, stored);
      else if (stored.contentKey() !== w.source.contentKey()) {
        // Another reader still has the original values: the changed ones get their own name.
        from = names.next(`${w.source.name}_adjusted`);
        addInitializer(g, Tensor.fromTyped(from, stored.dataType, stored.dims, stored.typedView()));
      }
      w.cast.inputs[0] = from;
      back.push(w.cast);
      restored++;
    }
    // Their inputs are initializers: ahead of every node is a valid place.
    g.nodes.unshift(...back);
  }
  return restored;
}
