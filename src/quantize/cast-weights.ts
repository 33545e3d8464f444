// Weights stored in float16 (or bfloat16, double) and cast to float32 where they are read:
// what converters write to halve a file while computing in float32 (onnxconverter-common's
// keep-io mixed precision, a float16 model decoded by float16-model.ts). The quantizers look
// for float32 constants, so the int8 and int4 modes first make each such Cast a float32
// weight (its values decoded exactly), and afterwards put back every float16 or bfloat16
// weight that stayed float in its stored type, behind its Cast: the file never grows by it.
// Doubles are not put back: float32 is what the model computed with, in half the bytes.
import { DataType } from '../ir/dtype.js';
import { attr, Node, type Graph, type Model } from '../ir/graph.js';
import { addInitializer, insertNodes, NameAllocator, removeInitializer, removeNodes, setInput } from '../ir/mutate.js';
import { Tensor } from '../ir/tensor.js';
import { WEIGHTED } from './qdq-placement.js';

const STORED_TYPES = new Set<number>([DataType.FLOAT16, DataType.BFLOAT16, DataType.DOUBLE]);

/** One Cast made a float32 weight: enough to put it back. */
export interface WidenedWeight {
  graph: Graph;
  /** The Cast as it was (its output is the float32 weight's name). */
  cast: Node;
  /** The stored tensor the Cast read; several records may share one. */
  source: Tensor;
}

/** Names this graph's nodes, its bodies and its outputs read. */
const readNames = (g: Graph) => new Set<string>([...g.consumers().keys(), ...g.outputs.map((o) => o.name)]);

const castsToFloat = (n: Node) => n.isOnnx('Cast') && n.getInt('to') === DataType.FLOAT;

/** In every graph: Cast(to float) of a float16/bfloat16/double initializer becomes a float32 initializer named as the Cast's output. */
export function widenCastWeights(model: Model): WidenedWeight[] {
  const widened: WidenedWeight[] = [];
  for (const g of [...model.graphs()]) {
    // An initializer that is also an input (IR < 4) is a default the caller may override.
    const inputs = new Set(g.inputs.map((i) => i.name));
    const outputs = new Set(g.outputs.map((o) => o.name));
    const casts = g.nodes.filter((n) => {
      const t = castsToFloat(n) ? g.initializers.get(n.inputs[0] ?? '') : undefined;
      return t !== undefined && STORED_TYPES.has(t.dataType) && !inputs.has(t.name) && !outputs.has(n.outputs[0]!);
    });
    if (!casts.length) continue;
    // Several Casts may read one source (one per reader): look each up before any is removed.
    const sources = new Map(casts.map((c) => [c, g.initializers.get(c.inputs[0]!)!]));
    removeNodes(g, casts);
    for (const cast of casts) {
      const source = sources.get(cast)!;
      addInitializer(g, Tensor.fromFloat32(cast.outputs[0]!, [...source.dims], source.toFloat32()));
      widened.push({ graph: g, cast, source });
    }
    const read = readNames(g);
    for (const source of new Set(sources.values())) if (!read.has(source.name)) removeInitializer(g, source.name);
  }
  return widened;
}

/**
 * Every widened float16/bfloat16 weight still read goes back to its stored type behind its
 * Cast, with the values it has now (equalization may have rescaled it); those the quantizer
 * replaced stay gone. Records sharing a source share it again where their values still agree.
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
      if (!current || !read.has(name) || w.source.dataType === DataType.DOUBLE) continue;
      const stored = Tensor.fromFloat32As(w.source.name, w.source.dataType, [...current.dims], current.toFloat32());
      removeInitializer(g, name);
      const existing = g.initializers.get(w.source.name);
      let from = w.source.name;
      if (!existing) addInitializer(g, stored);
      else if (existing.contentKey() !== stored.contentKey()) {
        // The source is still there with other values (another reader, another record): these get their own name.
        from = names.next(`${w.source.name}_adjusted`);
        addInitializer(g, new Tensor(from, stored.dataType, stored.dims, stored.data));
      }
      setInput(w.cast, 0, from);
      back.push(w.cast);
      restored++;
    }
    if (back.length) insertNodes(g, back);
  }
  return restored;
}

const FLOAT16_MAX = 65504;

/**
 * halfWeights 'float16': every float32 weight a Conv/ConvTranspose/Gemm/MatMul left in float
 * reads (and nothing else reads) is stored as float16 behind a Cast to float, which
 * onnxruntime folds at load: half the bytes of what stays float, the same kernels. The values
 * round to float16 (about 3 significant digits); one beyond its range stays float32.
 */
export function storeFloatWeightsAsHalf(model: Model): { weights: number; bytesSaved: number } {
  const g = model.graph;
  const readers = g.consumers();
  const outputs = g.outputNames();
  const names = new NameAllocator(g);
  const casts: Node[] = [];
  let bytesSaved = 0;
  for (const [name, t] of [...g.initializers]) {
    if (t.dataType !== DataType.FLOAT || t.elementCount < 16 || outputs.has(name) || g.inputs.some((i) => i.name === name)) continue;
    const by = readers.get(name) ?? [];
    if (!by.length || !by.every((n) => n.isOnnx() && WEIGHTED.has(n.opType) && n.inputs.indexOf(name) === 1 && n.inputs.lastIndexOf(name) === 1)) continue;
    const values = t.toFloat32();
    if (values.some((v) => !(Math.abs(v) <= FLOAT16_MAX))) continue;
    const stored = names.next(`${name}_float16`);
    removeInitializer(g, name);
    addInitializer(g, Tensor.fromFloat32As(stored, DataType.FLOAT16, [...t.dims], values));
    casts.push(new Node({ opType: 'Cast', name: names.next(`${name}_cast`), inputs: [stored], outputs: [name], attributes: [attr.int('to', DataType.FLOAT)] }));
    bytesSaved += t.elementCount * 2;
  }
  if (casts.length) insertNodes(g, casts);
  return { weights: casts.length, bytesSaved };
}
