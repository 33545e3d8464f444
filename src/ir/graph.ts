// The in-memory model: a Graph of Nodes wired by value names, with constant Tensors.
// Leaf messages the IR adds nothing to (value types, annotations, device configurations,
// functions) are kept as the decoder gave them, so a round trip drops nothing; their
// shapes are declared in onnx-types.ts.
import { AttrType, type KeptMessage, type TypeInfo } from './onnx-types.js';
import type { Int64, Tensor } from './tensor.js';

export type KeyValue = { key: string; value: string };

export interface ValueInfo {
  name: string;
  type?: TypeInfo;
  docString?: string;
  metadataProps?: KeyValue[];
}

/** A dimension: a size, a symbolic name, or unknown (null). */
export type Dim = number | string | null;

export function elemTypeOf(info: ValueInfo | undefined): number | undefined {
  return info?.type?.tensor_type?.elem_type;
}

/** The tensor shape of a value, or undefined when its rank is unknown. */
export function shapeOf(info: ValueInfo | undefined): Dim[] | undefined {
  const shape = info?.type?.tensor_type?.shape;
  if (!shape) return undefined;
  return (shape.dim ?? []).map((d) => {
    // Decoded messages carry oneof defaults on their prototype: test own fields only.
    if (Object.prototype.hasOwnProperty.call(d, 'dim_value') && d.dim_value != null) return Number(d.dim_value);
    if (Object.prototype.hasOwnProperty.call(d, 'dim_param') && d.dim_param) return d.dim_param;
    return null;
  });
}

export function tensorType(elemType: number, dims: Dim[] | undefined): TypeInfo {
  if (!dims) return { tensor_type: { elem_type: elemType } };
  return {
    tensor_type: {
      elem_type: elemType,
      shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : typeof d === 'string' ? { dim_param: d } : {})) },
    },
  };
}

/** An attribute as the proto has it, with tensors and graphs turned into IR objects. */
export interface Attribute {
  name: string;
  type: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: Tensor;
  g?: Graph;
  floats?: number[];
  ints?: Int64[];
  strings?: Uint8Array[];
  tensors?: Tensor[];
  graphs?: Graph[];
  sparse_tensor?: KeptMessage;
  sparse_tensors?: KeptMessage[];
  tp?: TypeInfo;
  type_protos?: TypeInfo[];
  ref_attr_name?: string;
  doc_string?: string;
}

export interface NodeInit {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attributes?: Attribute[];
}

export class Node {
  opType: string;
  domain?: string;
  name?: string;
  inputs: string[];
  outputs: string[];
  attributes: Attribute[];
  docString?: string;
  overload?: string;
  metadataProps?: KeyValue[];
  deviceConfigurations?: unknown[];

  constructor(init: NodeInit) {
    this.opType = init.opType;
    this.domain = init.domain;
    this.name = init.name;
    this.inputs = init.inputs;
    this.outputs = init.outputs;
    this.attributes = init.attributes ?? [];
  }

  /** 'conv_12' (Conv), for messages. */
  describe(): string {
    return `'${this.name || this.outputs[0] || '?'}' (${this.domain ? this.domain + '.' : ''}${this.opType})`;
  }

  /** True for ops of the default ONNX domain. */
  isOnnx(opType?: string): boolean {
    return (!this.domain || this.domain === 'ai.onnx') && (opType === undefined || this.opType === opType);
  }

  attr(name: string): Attribute | undefined {
    return this.attributes.find((a) => a.name === name);
  }

  getInt(name: string, fallback: number): number;
  getInt(name: string): number | undefined;
  getInt(name: string, fallback?: number): number | undefined {
    const a = this.attr(name);
    return a?.i !== undefined ? Number(a.i) : fallback;
  }

  getInts(name: string): number[] | undefined {
    const a = this.attr(name);
    return a?.ints ? a.ints.map(Number) : undefined;
  }

  getFloat(name: string, fallback: number): number;
  getFloat(name: string): number | undefined;
  getFloat(name: string, fallback?: number): number | undefined {
    return this.attr(name)?.f ?? fallback;
  }

  getFloats(name: string): number[] | undefined {
    return this.attr(name)?.floats;
  }

  getString(name: string, fallback: string): string;
  getString(name: string): string | undefined;
  getString(name: string, fallback?: string): string | undefined {
    const s = this.attr(name)?.s;
    return s ? new TextDecoder().decode(s) : fallback;
  }

  getTensor(name: string): Tensor | undefined {
    return this.attr(name)?.t;
  }

  setAttr(attribute: Attribute): void {
    const i = this.attributes.findIndex((a) => a.name === attribute.name);
    if (i >= 0) this.attributes[i] = attribute;
    else this.attributes.push(attribute);
  }

  removeAttr(name: string): void {
    this.attributes = this.attributes.filter((a) => a.name !== name);
  }

  /** Graphs held by GRAPH/GRAPHS attributes (If/Loop/Scan bodies). */
  subgraphs(): Graph[] {
    const out: Graph[] = [];
    for (const a of this.attributes) {
      if (a.g) out.push(a.g);
      if (a.graphs) out.push(...a.graphs);
    }
    return out;
  }
}

export const attr = {
  int: (name: string, i: Int64): Attribute => ({ name, type: AttrType.INT, i }),
  ints: (name: string, ints: Int64[]): Attribute => ({ name, type: AttrType.INTS, ints }),
  float: (name: string, f: number): Attribute => ({ name, type: AttrType.FLOAT, f }),
  floats: (name: string, floats: number[]): Attribute => ({ name, type: AttrType.FLOATS, floats }),
  string: (name: string, s: string): Attribute => ({ name, type: AttrType.STRING, s: new TextEncoder().encode(s) }),
  tensor: (name: string, t: Tensor): Attribute => ({ name, type: AttrType.TENSOR, t }),
};

export class Graph {
  name?: string;
  docString?: string;
  nodes: Node[] = [];
  inputs: ValueInfo[] = [];
  outputs: ValueInfo[] = [];
  valueInfo: ValueInfo[] = [];
  /** Ordered as in the file; keyed by name. */
  initializers = new Map<string, Tensor>();
  sparseInitializers: KeptMessage[] = [];
  quantizationAnnotation: unknown[] = [];
  metadataProps?: KeyValue[];
  /** The graph whose node holds this one as an attribute; undefined for the main graph. */
  parent?: Graph;

  constructor(name?: string) {
    this.name = name;
  }

  /** Every graph nested in this one's nodes, depth first, this one excluded. */
  *descendants(): Generator<Graph> {
    for (const node of this.nodes) {
      for (const g of node.subgraphs()) {
        yield g;
        yield* g.descendants();
      }
    }
  }

  /** The node producing each value of this graph (not of its subgraphs). */
  producers(): Map<string, Node> {
    const map = new Map<string, Node>();
    for (const node of this.nodes) for (const o of node.outputs) if (o) map.set(o, node);
    return map;
  }

  /**
   * The nodes reading each value, counting a read from inside a subgraph as a read by
   * the node that holds the subgraph (the subgraph captures the value).
   */
  consumers(): Map<string, Node[]> {
    const map = new Map<string, Node[]>();
    const add = (name: string, node: Node) => {
      if (!name) return;
      const list = map.get(name);
      if (list) { if (!list.includes(node)) list.push(node); } else map.set(name, [node]);
    };
    for (const node of this.nodes) {
      for (const i of node.inputs) add(i, node);
      for (const g of node.subgraphs()) for (const name of g.capturedNames()) add(name, node);
    }
    return map;
  }

  /** Names this graph (and its subgraphs) read but do not define: values from outer scopes. */
  capturedNames(): Set<string> {
    const defined = new Set<string>([...this.inputs.map((v) => v.name), ...this.initializers.keys()]);
    for (const n of this.nodes) for (const o of n.outputs) defined.add(o);
    const captured = new Set<string>();
    for (const n of this.nodes) {
      for (const i of n.inputs) if (i && !defined.has(i)) captured.add(i);
      for (const g of n.subgraphs()) for (const c of g.capturedNames()) if (!defined.has(c)) captured.add(c);
    }
    for (const o of this.outputs) if (!defined.has(o.name)) captured.add(o.name);
    return captured;
  }

  outputNames(): Set<string> {
    return new Set(this.outputs.map((o) => o.name));
  }

  /** Value info for a name from inputs, outputs or value_info. */
  valueInfoOf(name: string): ValueInfo | undefined {
    return this.inputs.find((v) => v.name === name) ?? this.valueInfo.find((v) => v.name === name) ?? this.outputs.find((v) => v.name === name);
  }

  /** An initializer of this graph or an enclosing one. */
  findInitializer(name: string): Tensor | undefined {
    for (let g: Graph | undefined = this; g; g = g.parent) {
      // An input of the same name overrides the initializer's value (a default), and a body
      // input (a Loop's carried value) shadows an outer initializer of that name.
      if (g.inputs.some((i) => i.name === name)) return undefined;
      const t = g.initializers.get(name);
      if (t) return t;
    }
    return undefined;
  }
}

export interface ModelSource {
  file: string;
  fileBytes: number;
  /** External data files, relative to the model's folder. */
  externalFiles: string[];
  externalBytes: number;
}

export interface OpsetId {
  domain: string;
  version: number;
  /** The file left the domain field out (meaning ai.onnx); kept for a lossless round trip. */
  omitDomain?: boolean;
}

export class Model {
  irVersion: number = 10;
  opsetImport: OpsetId[] = [];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: Int64;
  docString?: string;
  graph: Graph;
  metadataProps: KeyValue[] = [];
  trainingInfo: unknown[] = [];
  functions: KeptMessage[] = [];
  configuration: unknown[] = [];
  /** Where the model was read from, when it came from a file. */
  source?: ModelSource;

  constructor(graph: Graph) {
    this.graph = graph;
  }

  /** The opset version imported for a domain ('' = ai.onnx), or undefined. */
  opset(domain = ''): number | undefined {
    const want = domain === 'ai.onnx' ? '' : domain;
    return this.opsetImport.find((o) => (o.domain === 'ai.onnx' ? '' : o.domain) === want)?.version;
  }

  /** The main graph and every subgraph in it, main graph first. */
  *graphs(): Generator<Graph> {
    yield this.graph;
    yield* this.graph.descendants();
  }

  /** Every initializer and attribute tensor of every graph. */
  *tensors(): Generator<Tensor> {
    for (const g of this.graphs()) {
      yield* g.initializers.values();
      for (const n of g.nodes) for (const a of n.attributes) {
        if (a.t) yield a.t;
        if (a.tensors) yield* a.tensors;
      }
    }
  }
}
