// Raises a model's default-domain opset by running, for every node, the adapters of its
// op between the model's opset and the target, oldest first. Adapters work on copies and
// stage what they add; nothing is committed unless every node converted.
import type { Graph, Model } from '../../ir/graph.js';
import type { KeptInt64 } from '../../ir/onnx-types.js';
import { Node } from '../../ir/graph.js';
import { NameAllocator, addInitializer, replaceNode, topologicalSort } from '../../ir/mutate.js';
import { OnnxpressError } from '../../errors.js';
import type { Adapter } from './adapter.js';
import { ADAPTERS } from './adapters/index.js';
import { AdaptContext } from './context.js';

/** The newest opset this converter knows every change up to. */
export const MAX_OPSET = 21;

export interface Refusal {
  /** 'conv_12' (Clip), as in messages. */
  node: string;
  reason: string;
}

export interface OpsetConversion {
  from: number;
  to: number;
  /** Nodes rewritten to a newer form (inserted helper nodes not counted). */
  rewritten: number;
  /** Why nodes could not be carried; when not empty the model was left unchanged. */
  refusals: Refusal[];
}

const BY_OP = new Map<string, Adapter[]>();
for (const a of ADAPTERS) BY_OP.set(a.op, [...(BY_OP.get(a.op) ?? []), a].sort((x, y) => x.sinceVersion - y.sinceVersion));

/** Ops with no schema at or after a version, and no adapter that rewrites them away. */
const REMOVED: Record<string, number> = { Upsample: 10, Scatter: 11 };

/** The IR version each opset first appeared with (ONNX's versioning table). */
function irVersionFor(opset: number): number {
  if (opset >= 21) return 10;
  if (opset >= 19) return 9;
  if (opset >= 15) return 8;
  if (opset >= 12) return 7;
  if (opset === 11) return 6;
  if (opset === 10) return 5;
  // IR 4 lets initializers be absent from the graph inputs, which new constants need.
  return 4;
}

interface Planned { graph: Graph; node: Node; replacement: Node[] }

/** Converts in place when every node can be carried; otherwise leaves the model as it was. */
export function tryConvertOpset(model: Model, target: number): OpsetConversion {
  const from = model.opset('') ?? 1;
  if (!Number.isInteger(target) || target < 1 || target > MAX_OPSET) {
    throw new OnnxpressError('BAD_INPUT', `opset ${target}: expected an integer from 1 to ${MAX_OPSET}`);
  }
  if (target < from) throw new OnnxpressError('UNSUPPORTED', `the model is at opset ${from}; lowering the opset (to ${target}) is not supported`);
  const result: OpsetConversion = { from, to: target, rewritten: 0, refusals: [] };
  if (target === from) return result;
  const planned: Planned[] = [];
  const contexts: AdaptContext[] = [];
  const names = new NameAllocator(model.graph);
  for (const graph of model.graphs()) {
    const ctx = new AdaptContext(graph, target, names);
    contexts.push(ctx);
    for (const node of graph.nodes) {
      if (!node.isOnnx()) continue;
      const plan = planNode(node, from, target, ctx);
      if (typeof plan === 'string') result.refusals.push({ node: node.describe(), reason: plan });
      else if (plan) planned.push({ graph, node, replacement: plan });
    }
  }
  const functionImports = functionRefusals(model, target, result.refusals);
  if (result.refusals.length) return result;
  for (const id of functionImports) id.version = target;
  for (const p of planned) replaceNode(p.graph, p.node, p.replacement);
  for (const ctx of contexts) for (const t of ctx.initializers.values()) addInitializer(ctx.graph, t);
  // The output must be valid ONNX, and exporters do write graphs out of order (tf2onnx's Keras MNIST).
  for (const graph of model.graphs()) topologicalSort(graph);
  result.rewritten = planned.length;
  const entry = model.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  if (entry) entry.version = target;
  else model.opsetImport.push({ domain: '', version: target });
  model.irVersion = Math.max(model.irVersion, irVersionFor(target));
  return result;
}

/** Converts in place, or throws naming every node that cannot be carried. */
export function convertOpset(model: Model, target: number): OpsetConversion {
  const result = tryConvertOpset(model, target);
  if (result.refusals.length) throw new OnnxpressError('UNSUPPORTED', refusalMessage(result));
  return result;
}

export function refusalMessage(r: OpsetConversion): string {
  return `cannot convert opset ${r.from} to ${r.to}: ${describeRefusals(r.refusals)}`;
}

/** The first few refusals on one line. */
export function describeRefusals(refusals: Refusal[]): string {
  const shown = refusals.slice(0, 3).map((x) => `${x.node}: ${x.reason}`).join('; ');
  return refusals.length > 3 ? `${shown} (and ${refusals.length - 3} more)` : shown;
}

/**
 * Model-local functions import their own opsets and stay in proto form: they are raised
 * with the model when none of their ops changed on the way, and refused otherwise.
 * Returns the function imports to raise.
 */
type KeptOpsetImport = { domain?: string; version?: KeptInt64 };

function functionRefusals(model: Model, target: number, refusals: Refusal[]): KeptOpsetImport[] {
  const imports: KeptOpsetImport[] = [];
  // The IR keeps functions as opaque decoded messages; these are the fields of FunctionProto read here.
  type KeptFunction = { name?: string; opset_import?: KeptOpsetImport[]; node?: { domain?: string; op_type?: string }[] };
  for (const f of model.functions as KeptFunction[]) {
    const id = f.opset_import?.find((o) => !o.domain || o.domain === 'ai.onnx');
    const version = id?.version === undefined ? target : Number(id.version) /* Number() reads a Long through its decimal string */;
    if (!id || version >= target) continue;
    const changed = (f.node ?? []).find((n) => (!n.domain || n.domain === 'ai.onnx') && BY_OP.get(n.op_type ?? '')?.some((a) => a.sinceVersion > version && a.sinceVersion <= target));
    if (changed) refusals.push({ node: `function '${f.name}'`, reason: `its ${changed.op_type} changed after opset ${version}, and model-local functions are not rewritten` });
    else imports.push(id);
  }
  return imports;
}

/** The nodes replacing `node`, undefined when nothing changes, or a refusal. */
function planNode(node: Node, from: number, target: number, ctx: AdaptContext): Node[] | string | undefined {
  const work = copyNode(node);
  ctx.before = [];
  ctx.after = [];
  let version = from;
  let changed = false;
  for (;;) {
    const next = BY_OP.get(work.opType)?.find((a) => a.sinceVersion > version && a.sinceVersion <= target);
    if (!next) break;
    const refusal = next.adapt(work, ctx);
    if (typeof refusal === 'string') return refusal;
    version = next.sinceVersion;
    changed = true;
  }
  const removedAt = REMOVED[work.opType];
  if (removedAt !== undefined && removedAt <= target) return `${work.opType} does not exist at opset ${target}`;
  if (!changed || (sameNode(node, work) && !ctx.before.length && !ctx.after.length)) return undefined;
  return [...ctx.before, work, ...ctx.after];
}

function copyNode(node: Node): Node {
  const copy = new Node({ opType: node.opType, domain: node.domain, name: node.name, inputs: [...node.inputs], outputs: [...node.outputs], attributes: [...node.attributes] });
  copy.docString = node.docString;
  copy.overload = node.overload;
  copy.metadataProps = node.metadataProps;
  copy.deviceConfigurations = node.deviceConfigurations;
  return copy;
}

function sameNode(a: Node, b: Node): boolean {
  return a.opType === b.opType && a.inputs.join('\0') === b.inputs.join('\0') && a.outputs.join('\0') === b.outputs.join('\0')
    && a.attributes.length === b.attributes.length && a.attributes.every((x, i) => x === b.attributes[i]);
}
