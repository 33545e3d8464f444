// What an adapter may read and stage while it rewrites one node. Reads see the graph as
// it was before conversion (plus constants already staged); writes are staged here and
// committed by the driver only when every node of the model converted, so a refusal
// leaves the model untouched.
import type { Dim, Graph, Node, NodeInit } from '../../ir/graph.js';
import { Node as IrNode } from '../../ir/graph.js';
import { DataType } from '../../ir/dtype.js';
import { float32ToFloat16 } from '../../ir/float-formats.js';
import type { NameAllocator } from '../../ir/mutate.js';
import { inferShapes, type ShapeMap } from '../../ir/shapes.js';
import { Tensor, type Int64 } from '../../ir/tensor.js';

export class AdaptContext {
  /** Initializers to add to the graph on commit. */
  readonly initializers = new Map<string, Tensor>();
  /** Nodes to put before / after the node being adapted (reset by the driver per node). */
  before: Node[] = [];
  after: Node[] = [];
  private shapes?: ShapeMap;
  private producerMap?: Map<string, Node>;
  private readers?: Set<string>;

  /** `names` is shared by every graph of the model, so staged names never collide across scopes. */
  constructor(readonly graph: Graph, readonly targetOpset: number, private readonly names: NameAllocator) {}

  /** A constant value: an initializer, a Constant node's output or a staged constant. */
  constant(name: string): Tensor | undefined {
    if (!name) return undefined;
    const staged = this.initializers.get(name);
    if (staged) return staged;
    const init = this.graph.findInitializer(name);
    if (init) return init;
    const producer = this.producers().get(name);
    if (producer?.isOnnx('Constant')) return producer.getTensor('value');
    return undefined;
  }

  /** The element type of a value as declared or inferred, undefined when unknown. */
  elemType(name: string): number | undefined {
    return this.constant(name)?.dataType ?? this.shapeMap().get(name)?.elemType;
  }

  /** The rank of a value, undefined when unknown. */
  rank(name: string): number | undefined {
    return this.dims(name)?.length;
  }

  dims(name: string): Dim[] | undefined {
    const t = this.constant(name);
    return t ? [...t.dims] : this.shapeMap().get(name)?.dims;
  }

  /** True when some node (or subgraph) reads the value or it is a graph output. */
  isUsed(name: string): boolean {
    if (!name) return false;
    if (!this.readers) {
      this.readers = new Set(this.graph.consumers().keys());
      for (const o of this.graph.outputs) this.readers.add(o.name);
    }
    return this.readers.has(name);
  }

  fresh(base: string): string {
    return this.names.next(base);
  }

  /** Stages a constant under a fresh name and returns the name. */
  addConstant(base: string, dataType: number, dims: number[], values: ArrayBufferView): string {
    const name = this.fresh(base);
    this.initializers.set(name, Tensor.fromTyped(name, dataType, dims, values));
    return name;
  }

  /** A 1-D int64 constant; attribute ints stay exact (INT64_MAX as a Slice end must not round). */
  ints(base: string, values: Int64[]): string {
    return this.addConstant(base, DataType.INT64, [values.length], BigInt64Array.from(values, (v) => BigInt.asIntN(64, BigInt(v))));
  }

  floats(base: string, values: number[]): string {
    return this.addConstant(base, DataType.FLOAT, [values.length], Float32Array.from(values));
  }

  /** A 0-D constant of a numeric element type holding `value`. */
  scalar(base: string, dataType: number, value: number): string | undefined {
    const view = scalarView(dataType, value);
    return view && this.addConstant(base, dataType, [], view);
  }

  /** A new node placed before (or after) the one being adapted. */
  emit(where: 'before' | 'after', init: NodeInit): Node {
    const node = new IrNode({ ...init, name: init.name ?? this.fresh(init.outputs[0] ?? init.opType) });
    this[where].push(node);
    return node;
  }

  private producers(): Map<string, Node> {
    return (this.producerMap ??= this.graph.producers());
  }

  private shapeMap(): ShapeMap {
    return (this.shapes ??= inferShapes(this.graph));
  }
}

function scalarView(dataType: number, value: number): ArrayBufferView | undefined {
  switch (dataType) {
    case DataType.FLOAT: return Float32Array.of(value);
    case DataType.DOUBLE: return Float64Array.of(value);
    case DataType.FLOAT16: return Uint16Array.of(float32ToFloat16(value));
    case DataType.INT8: return Int8Array.of(value);
    case DataType.UINT8: return Uint8Array.of(value);
    case DataType.INT16: return Int16Array.of(value);
    case DataType.UINT16: return Uint16Array.of(value);
    case DataType.INT32: return Int32Array.of(value);
    case DataType.UINT32: return Uint32Array.of(value);
    case DataType.INT64: return BigInt64Array.of(BigInt(Math.trunc(value)));
    case DataType.UINT64: return BigUint64Array.of(BigInt(Math.trunc(value)));
    default: return undefined;
  }
}
