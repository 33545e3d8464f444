// A Resize whose sizes are read from a tensor's shape at run time, as PyTorch exports
// F.interpolate(x, size=y.shape[2:]): sizes = Concat(Slice(Shape(t), [0], [2]), [H, W]). The
// channel count in sizes is then t's own, so pruning t's channels carries into it, provided
// the Shape feeds nothing else and t's channels are the Resize input's.
import type { Graph, Node } from '../ir/graph.js';

/** The tensor whose shape gives `sizes` its dims up to channel `axis`, when sizes is built as above. */
export function sizesShapeSource(g: Graph, sizes: string, axis: number): string | undefined {
  const producers = g.producers();
  const concat = producers.get(sizes);
  if (!concat || concat.opType !== 'Concat' || concat.getInt('axis', 0) !== 0) return undefined;
  const slice = producers.get(concat.inputs[0] ?? '');
  if (!slice || slice.opType !== 'Slice' || !isHeadSlice(g, slice, axis)) return undefined;
  const shape = producers.get(slice.inputs[0]!);
  if (!shape || shape.opType !== 'Shape' || shape.getInt('start', 0) !== 0 || shape.getInt('end') !== undefined) return undefined;
  return shape.inputs[0];
}

/**
 * The Resize nodes a Shape node's output reaches when every use is such a Slice, inside
 * such a Concat, used only as Resize sizes; undefined when anything else reads it.
 */
export function sizesResizesOf(g: Graph, shape: Node, axis: number): Node[] | undefined {
  const consumers = g.consumers();
  const outputs = g.outputNames();
  const usedOnlyBy = (name: string, ok: (n: Node) => boolean) => {
    const readers = consumers.get(name) ?? [];
    return !outputs.has(name) && readers.length > 0 && readers.every(ok) ? readers : undefined;
  };
  const resizes: Node[] = [];
  const slices = usedOnlyBy(shape.outputs[0]!, (n) => n.opType === 'Slice' && n.inputs[0] === shape.outputs[0] && isHeadSlice(g, n, axis));
  for (const slice of slices ?? []) {
    const concats = usedOnlyBy(slice.outputs[0]!, (n) => n.opType === 'Concat' && n.getInt('axis', 0) === 0 && n.inputs[0] === slice.outputs[0] && n.inputs.filter((i) => i === slice.outputs[0]).length === 1);
    if (!concats) return undefined;
    for (const concat of concats) {
      const sized = usedOnlyBy(concat.outputs[0]!, (n) => n.opType === 'Resize' && n.inputs.indexOf(concat.outputs[0]!) === 3);
      if (!sized) return undefined;
      resizes.push(...sized);
    }
  }
  return slices ? resizes : undefined;
}

/** A Slice of a shape vector keeping its first entries, at least through `axis`. */
function isHeadSlice(g: Graph, slice: Node, axis: number): boolean {
  const values = (name: string | undefined) => (name ? g.findInitializer(name)?.toNumbers() : undefined);
  // Opset 10 moved starts, ends, axes and steps from attributes to inputs.
  const [starts, ends, axes, steps] = slice.inputs.length >= 3
    ? [values(slice.inputs[1]), values(slice.inputs[2]), slice.inputs[3] ? values(slice.inputs[3]) : [0], slice.inputs[4] ? values(slice.inputs[4]) : [1]]
    : [slice.getInts('starts'), slice.getInts('ends'), slice.getInts('axes') ?? [0], [1]];
  return starts?.length === 1 && starts[0] === 0 && ends?.length === 1 && ends[0]! >= axis + 1 && axes?.length === 1 && axes[0] === 0 && steps?.length === 1 && steps[0] === 1;
}
