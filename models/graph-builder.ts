// A small builder for ONNX graphs written in code (example models, test graphs): ops as
// calls that return their output names, constants as initializers, one Model at the end.
import { DataType } from '../src/ir/dtype.js';
import { Graph, Model, Node, tensorType, type Attribute, type Dim } from '../src/ir/graph.js';
import { Tensor } from '../src/ir/tensor.js';

export class GraphBuilder {
  private readonly nodes: Node[] = [];
  private readonly graph: Graph;
  private counter = 0;

  constructor(name: string) {
    this.graph = new Graph(name);
  }

  input(name: string, elemType: number, dims: Dim[]): string {
    this.graph.inputs.push({ name, type: tensorType(elemType, dims) });
    return name;
  }

  output(name: string, elemType: number, dims?: Dim[]): void {
    this.graph.outputs.push({ name, type: tensorType(elemType, dims) });
  }

  /** A float32 initializer. */
  floats(name: string, dims: number[], values: ArrayLike<number>): string {
    this.graph.initializers.set(name, Tensor.fromFloat32(name, dims, Float32Array.from(values)));
    return name;
  }

  /** An int64 initializer (a shape, axes, indices); a scalar when `dims` is []. */
  ints(name: string, values: number[], dims: number[] = [values.length]): string {
    this.graph.initializers.set(name, Tensor.fromTyped(name, DataType.INT64, dims, BigInt64Array.from(values.map(BigInt))));
    return name;
  }

  /** Adds a node and returns its outputs' names (`outputs` of them, named after the node). */
  op(opType: string, inputs: string[], attributes: Attribute[] = [], outputs = 1, name?: string): string[] {
    const base = name ?? `${opType.toLowerCase()}_${this.counter++}`;
    const outs = Array.from({ length: outputs }, (_, i) => (i === 0 ? base : `${base}_${i}`));
    this.nodes.push(new Node({ opType, inputs, outputs: outs, name: base, attributes }));
    return outs;
  }

  /** op() for the common one-output case. */
  one(opType: string, inputs: string[], attributes: Attribute[] = [], name?: string): string {
    return this.op(opType, inputs, attributes, 1, name)[0]!;
  }

  build(opset: number, irVersion = 8): Model {
    this.graph.nodes = [...this.nodes];
    const model = new Model(this.graph);
    model.irVersion = irVersion;
    model.opsetImport = [{ domain: '', version: opset }];
    model.producerName = 'onnxpress models/';
    return model;
  }
}
