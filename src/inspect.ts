// `onnxpress inspect`: what a model is made of. Counts cover the main graph and every
// subgraph (If/Loop/Scan bodies) unless a field says otherwise.
import type { Dim, Graph, Model, ValueInfo } from './ir/graph.js';
import { elemTypeOf, shapeOf } from './ir/graph.js';
import { dataTypeName } from './ir/dtype.js';
import { inferShapes, nodeMacs, type ShapeMap } from './ir/shapes.js';
import { formatBytes } from './format.js';

export interface ValueSummary {
  name: string;
  dtype: string;
  /** numbers, symbolic names, or null for an unknown dim; null for unknown rank. */
  shape: Dim[] | null;
}

export interface InspectReport {
  file?: string;
  irVersion: number;
  opsets: Record<string, number>;
  producer: { name?: string; version?: string };
  inputs: ValueSummary[];
  outputs: ValueSummary[];
  nodeCount: number;
  opTypes: Record<string, number>;
  /** Elements of all initializers and Constant-node tensors. */
  parameters: number;
  /** Bytes of initializers and Constant tensors, by dtype name. */
  weightBytes: Record<string, number>;
  /** Size of the .onnx file (external data files excluded). */
  fileBytes: number;
  externalFiles: string[];
  externalBytes: number;
  subgraphCount: number;
  functionCount: number;
  /** Estimated multiply-accumulates of Conv/ConvTranspose/MatMul/Gemm whose shapes are known. */
  macs: number;
  /** Nodes of those op types whose shapes were not known, so their MACs are not counted. */
  macsUnknownNodes: number;
}

const MAC_OPS = new Set(['Conv', 'ConvTranspose', 'MatMul', 'Gemm', 'ConvInteger', 'MatMulInteger', 'QLinearConv']);

export function inspectModel(model: Model): InspectReport {
  const opTypes: Record<string, number> = {};
  let nodeCount = 0;
  let subgraphCount = 0;
  for (const g of model.graphs()) {
    if (g !== model.graph) subgraphCount++;
    for (const n of g.nodes) {
      nodeCount++;
      const key = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : n.opType;
      opTypes[key] = (opTypes[key] ?? 0) + 1;
    }
  }
  let parameters = 0;
  const weightBytes: Record<string, number> = {};
  for (const t of model.tensors()) {
    parameters += t.elementCount;
    const key = dataTypeName(t.dataType);
    weightBytes[key] = (weightBytes[key] ?? 0) + t.byteLength;
  }
  const { macs, unknown } = countMacs(model.graph, undefined);
  return {
    file: model.source?.file,
    irVersion: model.irVersion,
    opsets: Object.fromEntries(model.opsetImport.map((o) => [o.domain || 'ai.onnx', o.version])),
    producer: { name: model.producerName, version: model.producerVersion },
    inputs: model.graph.inputs.filter((i) => !model.graph.initializers.has(i.name)).map(valueSummary),
    outputs: model.graph.outputs.map(valueSummary),
    nodeCount,
    opTypes: Object.fromEntries(Object.entries(opTypes).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))),
    parameters,
    weightBytes,
    fileBytes: model.source?.fileBytes ?? 0,
    externalFiles: model.source?.externalFiles ?? [],
    externalBytes: model.source?.externalBytes ?? 0,
    subgraphCount,
    functionCount: model.functions.length,
    macs,
    macsUnknownNodes: unknown,
  };
}

function countMacs(graph: Graph, outer: ShapeMap | undefined): { macs: number; unknown: number } {
  const shapes = inferShapes(graph, outer);
  let macs = 0;
  let unknown = 0;
  for (const n of graph.nodes) {
    if (MAC_OPS.has(n.opType)) {
      const m = nodeMacs(n, shapes);
      if (m === undefined) unknown++;
      else macs += m;
    }
    for (const sub of n.subgraphs()) {
      const inner = countMacs(sub, shapes);
      macs += inner.macs;
      unknown += inner.unknown;
    }
  }
  return { macs, unknown };
}

function valueSummary(v: ValueInfo): ValueSummary {
  const elem = elemTypeOf(v);
  return { name: v.name, dtype: elem !== undefined ? dataTypeName(elem) : 'unknown', shape: shapeOf(v) ?? null };
}

export function formatShape(shape: Dim[] | null): string {
  if (!shape) return '?';
  return '[' + shape.map((d) => (d === null ? '?' : String(d))).join(', ') + ']';
}

/** A human-readable table of the report, for terminals. */
export function renderInspect(r: InspectReport): string {
  const lines: string[] = [];
  const kv = (k: string, v: string) => lines.push(`${k.padEnd(16)}${v}`);
  if (r.file) kv('file', r.file);
  kv('ir version', String(r.irVersion));
  kv('opsets', Object.entries(r.opsets).map(([d, v]) => `${d} ${v}`).join(', '));
  kv('producer', [r.producer.name, r.producer.version].filter(Boolean).join(' ') || '-');
  kv('file size', `${formatBytes(r.fileBytes)}${r.externalFiles.length ? ` + ${formatBytes(r.externalBytes)} external (${r.externalFiles.join(', ')})` : ''}`);
  kv('nodes', `${r.nodeCount}${r.subgraphCount ? ` (incl. ${r.subgraphCount} subgraphs)` : ''}`);
  kv('parameters', r.parameters.toLocaleString('en-US'));
  kv('weights', Object.entries(r.weightBytes).map(([t, b]) => `${t} ${formatBytes(b)}`).join(', ') || '-');
  kv('MACs', `${r.macs.toLocaleString('en-US')}${r.macsUnknownNodes ? ` (+${r.macsUnknownNodes} nodes of unknown shape)` : ''}`);
  lines.push('', 'inputs');
  for (const i of r.inputs) lines.push(`  ${i.name}  ${i.dtype} ${formatShape(i.shape)}`);
  lines.push('outputs');
  for (const o of r.outputs) lines.push(`  ${o.name}  ${o.dtype} ${formatShape(o.shape)}`);
  lines.push('', 'op types');
  for (const [op, n] of Object.entries(r.opTypes)) lines.push(`  ${op.padEnd(28)}${String(n).padStart(6)}`);
  return lines.join('\n');
}

// Moved to format.ts; re-exported so branches written before the move still build. Import from format.ts.
export { formatBytes } from './format.js';
