// Small graphs built in code, one rule each: inputs, seeded float weights, nodes whose
// outputs are named after their op, and If nodes whose bodies capture an outer value.
import { Graph, Model, Node, attr, tensorType, type Attribute, type Dim } from '../../src/ir/graph.js';
import { DataType } from '../../src/ir/dtype.js';
import { AttrType } from '../../src/ir/onnx-types.js';
import { Tensor } from '../../src/ir/tensor.js';
import { seededRandom } from '../../src/runtime/samples.js';

export { attr, AttrType, DataType, Graph, Model, Node, Tensor };
export type { Attribute };

/** An attribute value: integers become INT(S), other numbers FLOAT(S), strings STRING; or a ready Attribute. */
export type AttrValue = number | number[] | string | Attribute;
export type Attrs = Record<string, AttrValue>;

/** A FLOAT attribute even when the value is a whole number (alpha: f(1)). */
export const f = (value: number): Attribute => attr.float('', value);
/** A FLOATS attribute even when every value is whole. */
export const fs = (values: number[]): Attribute => attr.floats('', values);

export interface NodeOptions {
  /** Output names (default: one output named after the op). A number asks for that many. */
  outputs?: string[] | number;
  domain?: string;
  name?: string;
}

export class GraphBuilder {
  readonly graph: Graph;
  private readonly rand: () => number;
  private readonly counts = new Map<string, number>();

  constructor(name = 'g', seed = 7, parent?: Graph) {
    this.graph = new Graph(name);
    this.graph.parent = parent;
    this.rand = seededRandom(seed);
  }

  input(name: string, dims: Dim[] | undefined, elemType: number = DataType.FLOAT): string {
    this.graph.inputs.push({ name, type: tensorType(elemType, dims) });
    return name;
  }

  /** A boolean scalar input named 'cond', for If nodes. */
  cond(): string {
    return this.graph.inputs.some((i) => i.name === 'cond') ? 'cond' : this.input('cond', [], DataType.BOOL);
  }

  /** Declares `name` a graph output (shape left out unless given: the runtime infers it). */
  output(name: string, dims?: Dim[], elemType: number = DataType.FLOAT): string {
    this.graph.outputs.push({ name, type: tensorType(elemType, dims) });
    return name;
  }

  /** Declares the type of an intermediate value, as value_info. */
  valueInfo(name: string, dims: Dim[] | undefined, elemType: number = DataType.FLOAT): string {
    this.graph.valueInfo.push({ name, type: tensorType(elemType, dims) });
    return name;
  }

  /** A FLOAT initializer; values are seeded uniform in [lo, hi) when not given. */
  weight(name: string, dims: number[], values?: number[], [lo, hi] = [-1, 1]): string {
    const count = dims.reduce((a, b) => a * b, 1);
    const data = values ? Float32Array.from(values) : Float32Array.from({ length: count }, () => lo + this.rand() * (hi - lo));
    if (data.length !== count) throw new Error(`weight '${name}': ${data.length} values for dims [${dims}]`);
    this.graph.initializers.set(name, Tensor.fromFloat32(name, dims, data));
    return name;
  }

  scalar(name: string, value: number): string {
    return this.weight(name, [], [value]);
  }

  /** A 1-D INT64 initializer (shapes, axes, pads). */
  int64(name: string, values: number[], dims: number[] = [values.length]): string {
    this.graph.initializers.set(name, Tensor.fromTyped(name, DataType.INT64, dims, BigInt64Array.from(values.map(BigInt))));
    return name;
  }

  /** Adds a node and returns its first output. */
  node(opType: string, inputs: string[], attrs: Attrs = {}, options: NodeOptions = {}): string {
    return this.nodeOutputs(opType, inputs, attrs, options)[0]!;
  }

  nodeOutputs(opType: string, inputs: string[], attrs: Attrs = {}, options: NodeOptions = {}): string[] {
    const base = opType.toLowerCase();
    const fresh = () => {
      const k = (this.counts.get(base) ?? 0) + 1;
      this.counts.set(base, k);
      return k === 1 ? base : `${base}${k}`;
    };
    let outputs: string[];
    if (Array.isArray(options.outputs)) outputs = options.outputs;
    else {
      const first = fresh();
      outputs = [first, ...Array.from({ length: (options.outputs ?? 1) - 1 }, (_, i) => `${first}_out${i + 1}`)];
    }
    const attributes = Object.entries(attrs).map(([name, v]) => toAttribute(name, v));
    this.graph.nodes.push(new Node({ opType, inputs, outputs, name: options.name ?? outputs[0], domain: options.domain, attributes }));
    return outputs;
  }

  /**
   * An If on `cond` whose branches are built by `then` and `otherwise` (each returns the
   * branch output; the else branch defaults to the then branch's construction).
   */
  ifNode(cond: string, then: (body: GraphBuilder) => string, otherwise = then, elemType: number = DataType.FLOAT): string {
    const branch = (name: string, build: (body: GraphBuilder) => string) => {
      const body = new GraphBuilder(name, 1, this.graph);
      body.output(build(body), undefined, elemType);
      return body.graph;
    };
    const out = this.node('If', [cond]);
    this.graph.nodes[this.graph.nodes.length - 1]!.attributes = [
      { name: 'then_branch', type: AttrType.GRAPH, g: branch('then_branch', then) },
      { name: 'else_branch', type: AttrType.GRAPH, g: branch('else_branch', otherwise) },
    ];
    return out;
  }

  /** An If whose branches read the outer value `captured` (Identity / Neg of it): a subgraph boundary. */
  ifCapturing(cond: string, captured: string, elemType: number = DataType.FLOAT): string {
    return this.ifNode(cond, (t) => t.node('Identity', [captured], {}, { outputs: [`${captured}_then`] }),
      (e) => e.node('Neg', [captured], {}, { outputs: [`${captured}_else`] }), elemType);
  }

  /** A Loop of two trips whose body reads the outer value `captured` (its scan output stacks copies). */
  loopCapturing(captured: string, elemType: number = DataType.FLOAT): string {
    const body = new GraphBuilder('loop_body', 1, this.graph);
    body.input('iter', [], DataType.INT64);
    const c = body.input('cond_in', [], DataType.BOOL);
    body.output(body.node('Identity', [c], {}, { outputs: ['cond_out'] }), [], DataType.BOOL);
    body.output(body.node('Identity', [captured], {}, { outputs: [`${captured}_copy`] }), undefined, elemType);
    const trips = this.int64(`${captured}_trips`, [2], []);
    const out = this.node('Loop', [trips, '']);
    this.graph.nodes[this.graph.nodes.length - 1]!.attributes = [{ name: 'body', type: AttrType.GRAPH, g: body.graph }];
    return out;
  }

  /** The model around this graph; the IR version follows the opset as onnx pairs them. */
  model(opset = 17, extraDomains: { domain: string; version: number }[] = []): Model {
    const m = new Model(this.graph);
    m.irVersion = opset <= 17 ? 8 : opset <= 20 ? 9 : 10;
    m.opsetImport = [{ domain: '', version: opset }, ...extraDomains];
    return m;
  }
}

/**
 * x [rows, k] -> an If whose then branch gives x W and whose else branch (-x) W, with W
 * [k, k] one main-graph weight ('w_shared') both branches read: for sharing a weight's copy.
 */
export function sharedWeightIf(rows: number, k: number, seed: number): Model {
  const b = new GraphBuilder('main', seed);
  const x = b.input('x', [rows, k]);
  const w = b.weight('w_shared', [k, k]);
  b.output(b.ifNode(b.cond(), (t) => t.node('MatMul', [x, w], {}, { outputs: ['then_y'] }), (e) => e.node('MatMul', [e.node('Neg', [x], {}, { outputs: ['neg_x'] }), w], {}, { outputs: ['else_y'] })));
  return b.model(17);
}

function toAttribute(name: string, v: AttrValue): Attribute {
  if (typeof v === 'string') return attr.string(name, v);
  if (typeof v === 'number') return Number.isInteger(v) ? attr.int(name, v) : attr.float(name, v);
  if (Array.isArray(v)) return v.every(Number.isInteger) ? attr.ints(name, v) : attr.floats(name, v);
  return { ...v, name };
}
