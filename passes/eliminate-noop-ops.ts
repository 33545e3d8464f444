// Ops that provably return their input unchanged: Transpose by the identity permutation,
// Reshape/Expand to the input's own static shape, Cast to the input's type, Pad by zeros,
// Slice over the whole range, Concat of one input, Squeeze/Unsqueeze of no axes.
import type { Graph, Node } from '../src/ir/graph.js';
import { bypassNode } from '../src/ir/mutate.js';
import { inferShapes, type ShapeMap } from '../src/ir/shapes.js';
import { PassReport, type Pass } from '../src/pass/pass.js';

export const eliminateNoopOps: Pass = {
  name: 'eliminate-noop-ops',
  description: 'remove Transpose/Reshape/Cast/Pad/Slice/Expand/Concat that return their input unchanged',
  run(graph: Graph) {
    const report = new PassReport();
    const shapes = inferShapes(graph);
    for (const node of [...graph.nodes]) {
      if (!node.isOnnx() || !node.inputs[0]) continue;
      const reason = isNoop(node, graph, shapes);
      if (reason !== true) continue;
      if (bypassNode(graph, node, node.inputs[0])) report.count('removed');
      else report.skip(`${node.describe()}: connects a graph input or output directly`);
    }
    return report.result();
  },
};

function staticDims(shapes: ShapeMap, name: string): number[] | undefined {
  const dims = shapes.get(name)?.dims;
  return dims && dims.every((d): d is number => typeof d === 'number') ? dims : undefined;
}

function constInts(graph: Graph, name: string | undefined): number[] | undefined {
  return name ? graph.findInitializer(name)?.toNumbers() : undefined;
}

function isNoop(node: Node, graph: Graph, shapes: ShapeMap): boolean {
  const x = node.inputs[0]!;
  switch (node.opType) {
    case 'Transpose': {
      const perm = node.getInts('perm');
      return !!perm && perm.every((p, i) => p === i);
    }
    case 'Cast': {
      const from = shapes.get(x)?.elemType;
      return from !== undefined && from === node.getInt('to');
    }
    case 'Reshape': case 'Expand': {
      const inDims = staticDims(shapes, x);
      const outDims = staticDims(shapes, node.outputs[0]!);
      return !!inDims && !!outDims && inDims.length === outDims.length && inDims.every((d, i) => d === outDims[i]);
    }
    case 'Pad': {
      const pads = node.getInts('pads') ?? constInts(graph, node.inputs[1]);
      return !!pads && pads.every((p) => p === 0);
    }
    case 'Slice': return isFullSlice(node, graph, shapes);
    case 'Concat': case 'Sum': case 'Max': case 'Min': case 'Mean':
      return node.inputs.length === 1;
    case 'Squeeze': case 'Unsqueeze': {
      const axes = node.getInts('axes') ?? constInts(graph, node.inputs[1]);
      return node.opType === 'Unsqueeze' ? !!axes && axes.length === 0 : false;
    }
    default: return false;
  }
}

function isFullSlice(node: Node, graph: Graph, shapes: ShapeMap): boolean {
  const dims = staticDims(shapes, node.inputs[0]!);
  if (!dims) return false;
  const opsetAttrs = node.getInts('starts') !== undefined;
  const starts = opsetAttrs ? node.getInts('starts') : constInts(graph, node.inputs[1]);
  const ends = opsetAttrs ? node.getInts('ends') : constInts(graph, node.inputs[2]);
  const axes = (opsetAttrs ? node.getInts('axes') : node.inputs[3] ? constInts(graph, node.inputs[3]) : undefined) ?? starts?.map((_, i) => i);
  const steps = opsetAttrs ? undefined : node.inputs[4] ? constInts(graph, node.inputs[4]) : undefined;
  if (!starts || !ends || !axes || (node.inputs[3] && !axes) || (node.inputs[4] && !steps)) return false;
  return axes.every((a, i) => {
    const size = dims[a < 0 ? a + dims.length : a];
    if (size === undefined) return false;
    const step = steps?.[i] ?? 1;
    return step === 1 && starts[i] === 0 && ends[i]! >= size;
  });
}
