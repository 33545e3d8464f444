// Raises a model's default-domain opset, rewriting the ops whose form changed on the way
// (attributes that became inputs) and refusing where meaning changed in a way it cannot
// prove harmless. Quantization needs opset 10 (QuantizeLinear) or 13 (per-channel).
import type { Graph, Model, Node } from './graph.js';
import { DataType } from './dtype.js';
import { NameAllocator } from './mutate.js';
import { inferShapes } from './shapes.js';
import { Tensor, type Int64 } from './tensor.js';

export interface UpgradeResult { ok: boolean; from: number; to: number; rewritten: number; reason?: string }

/** How one op changed at one opset version: a reason it cannot be upgraded, and/or a rewrite. */
interface Change {
  version: number;
  /** Why this node cannot be carried across the change (undefined = it can). */
  check?: (node: Node, graph: Graph) => string | undefined;
  rewrite?: (node: Node, graph: Graph, names: NameAllocator) => void;
}

// Attribute ints stay exact (INT64_MAX as a Slice end must not round past the int64 range).
const intsInput = (graph: Graph, names: NameAllocator, base: string, values: Int64[]): string => {
  const name = names.next(base);
  graph.initializers.set(name, Tensor.fromTyped(name, DataType.INT64, [values.length], BigInt64Array.from(values.map((v) => BigInt.asIntN(64, BigInt(v))))));
  return name;
};

/** Attributes that became inputs (in this order), trailing absent ones left out. */
const attrsToInputs = (version: number, attrs: string[]): Change => ({
  version,
  rewrite(node, graph, names) {
    const inputs = attrs.map((a) => {
      const v = node.attr(a)?.ints;
      if (v === undefined) return '';
      node.removeAttr(a);
      return intsInput(graph, names, `${node.name || node.outputs[0]}_${a}`, v);
    });
    while (inputs.length && inputs[inputs.length - 1] === '') inputs.pop();
    node.inputs.push(...inputs);
  },
});

const refuse = (version: number, reason: string): Change => ({ version, check: () => reason });

/** Before 13, Softmax flattened to 2-D at `axis` (default 1); from 13 it works on one axis (default -1). They agree on the last axis. */
const lastAxisOnly: Change = {
  version: 13,
  check(node, graph) {
    const rank = inferShapes(graph).get(node.inputs[0]!)?.dims?.length;
    const axis = node.getInt('axis', 1);
    if (rank === undefined) return `${node.opType} with an input of unknown rank`;
    return (axis < 0 ? axis + rank : axis) === rank - 1 ? undefined : `${node.opType} over axis ${axis} of a rank-${rank} input`;
  },
  rewrite(node) { node.setAttr({ name: 'axis', type: 2, i: -1 }); },
};

const CHANGES: Record<string, Change[]> = {
  Slice: [attrsToInputs(10, ['starts', 'ends', 'axes'])],
  Unsqueeze: [attrsToInputs(13, ['axes'])],
  Squeeze: [attrsToInputs(13, ['axes'])],
  Split: [attrsToInputs(13, ['split'])],
  Softmax: [lastAxisOnly], LogSoftmax: [lastAxisOnly], Hardmax: [lastAxisOnly],
  BatchNormalization: [{ version: 9, check: (n) => (n.getInt('spatial', 1) !== 1 ? 'BatchNormalization with spatial=0' : undefined), rewrite: (n) => n.removeAttr('spatial') }],
  // Inference-time Dropout is the identity whatever its ratio; the attribute just goes.
  Dropout: [{ version: 12, rewrite: (n) => n.removeAttr('ratio') }],
  Pad: [refuse(11, 'Pad (pads became an input at opset 11)')],
  Clip: [refuse(11, 'Clip (min/max became inputs at opset 11)')],
  Upsample: [refuse(10, 'Upsample (deprecated at opset 10)')],
  ReduceMean: [refuse(18, 'ReduceMean (axes became an input at opset 18)')],
  ReduceSum: [refuse(13, 'ReduceSum (axes became an input at opset 13)')],
  TopK: [refuse(10, 'TopK (k became an input at opset 10)')],
  Resize: [refuse(11, 'Resize (inputs changed at opset 11)')],
  Scan: [refuse(9, 'Scan (changed at opset 9)')],
};

export function upgradeOpset(model: Model, target: number): UpgradeResult {
  const from = model.opset('') ?? 1;
  if (from >= target) return { ok: true, from, to: from, rewritten: 0 };
  const inRange = (c: Change) => c.version > from && c.version <= target;
  // Check every node first: nothing changes unless everything can.
  for (const g of model.graphs()) for (const n of g.nodes) {
    if (!n.isOnnx()) continue;
    for (const change of (CHANGES[n.opType] ?? []).filter(inRange)) {
      const reason = change.check?.(n, g);
      if (reason) return { ok: false, from, to: from, rewritten: 0, reason: `${n.describe()}: ${reason}` };
    }
  }
  let rewritten = 0;
  for (const g of model.graphs()) {
    const names = new NameAllocator(g);
    for (const n of g.nodes) {
      if (!n.isOnnx()) continue;
      for (const change of (CHANGES[n.opType] ?? []).filter(inRange)) {
        if (!change.rewrite) continue;
        change.rewrite(n, g, names);
        rewritten++;
      }
    }
  }
  const entry = model.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  if (entry) entry.version = target;
  else model.opsetImport.push({ domain: '', version: target });
  // Opset 10+ models need IR 5 at least for the runtime to accept the pairing.
  model.irVersion = Math.max(model.irVersion, target >= 13 ? 7 : 5);
  return { ok: true, from, to: target, rewritten };
}
