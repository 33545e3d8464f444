// The edit helpers passes and quantizers go through: their refusals and the order they keep.
import { describe, expect, it } from 'vitest';
import { Graph, Model, Node } from '../../src/ir/graph.js';
import { addInitializer, exposeAsOutputs, insertNodes, replaceAllUses, replaceInitializer, setInput } from '../../src/ir/mutate.js';
import { modelProblems } from '../../src/ir/validate.js';
import { Tensor } from '../../src/ir/tensor.js';

/** x -> Relu -> a -> Neg -> y */
function chain(): { model: Model; relu: Node; neg: Node } {
  const g = new Graph('chain');
  g.inputs = [{ name: 'x' }];
  g.outputs = [{ name: 'y' }];
  const relu = new Node({ opType: 'Relu', inputs: ['x'], outputs: ['a'], name: 'relu' });
  const neg = new Node({ opType: 'Neg', inputs: ['a'], outputs: ['y'], name: 'neg' });
  g.nodes = [relu, neg];
  return { model: new Model(g), relu, neg };
}

const scalar = (name: string) => Tensor.fromFloat32(name, [], Float32Array.of(1));

describe('addInitializer', () => {
  it('adds under the tensor name and refuses a name the graph defines', () => {
    const { model } = chain();
    expect(addInitializer(model.graph, scalar('w'))).toBe('w');
    expect(model.graph.initializers.get('w')?.name).toBe('w');
    for (const taken of ['w', 'x', 'a']) expect(() => addInitializer(model.graph, scalar(taken)), taken).toThrow(/already defined/);
  });

  it('replaceInitializer only replaces what exists', () => {
    const { model } = chain();
    expect(() => replaceInitializer(model.graph, scalar('w'))).toThrow(/no initializer/);
    addInitializer(model.graph, scalar('w'));
    const next = Tensor.fromFloat32('w', [], Float32Array.of(2));
    replaceInitializer(model.graph, next);
    expect(model.graph.initializers.get('w')).toBe(next);
  });
});

describe('insertNodes', () => {
  it('places new nodes after what they read, leaving the rest in order', () => {
    const { model, relu, neg } = chain();
    // Sigmoid reads a and feeds Neg: it must land between the two.
    const sig = new Node({ opType: 'Sigmoid', inputs: ['a'], outputs: ['s'], name: 'sig' });
    setInput(neg, 0, 's');
    expect(modelProblems(model)).toEqual([`graph: node 'neg' (Neg) reads 's', which nothing defines`]);
    insertNodes(model.graph, [sig]);
    expect(model.graph.nodes).toEqual([relu, sig, neg]);
    expect(modelProblems(model)).toEqual([]);
    expect(() => insertNodes(model.graph, [sig])).toThrow(/already in the graph/);
  });
});

describe('validate', () => {
  it('reports a node that reads a value before its producer', () => {
    const { model, relu, neg } = chain();
    model.graph.nodes = [neg, relu];
    expect(modelProblems(model)).toEqual([`graph: node 'neg' (Neg) reads 'a' before the node producing it (not in topological order)`]);
    expect(modelProblems(model, { topologicalOrder: false })).toEqual([]);
  });
});

describe('setInput / replaceAllUses / exposeAsOutputs', () => {
  it('setInput past the end leaves empty optional inputs between', () => {
    const n = new Node({ opType: 'Conv', inputs: ['x'], outputs: ['y'] });
    setInput(n, 2, 'b');
    expect(n.inputs).toEqual(['x', '', 'b']);
  });

  it('replaceAllUses can leave subgraph bodies alone', () => {
    const { model, neg } = chain();
    const body = new Graph('body');
    body.parent = model.graph;
    body.outputs = [{ name: 'inner' }];
    body.nodes = [new Node({ opType: 'Identity', inputs: ['a'], outputs: ['inner'] })];
    const holder = new Node({ opType: 'If', inputs: ['x'], outputs: ['z'], attributes: [{ name: 'then_branch', type: 5, g: body }] });
    model.graph.nodes.push(holder);
    replaceAllUses(model.graph, 'a', 'x', { inSubgraphs: false });
    expect(neg.inputs).toEqual(['x']);
    expect(body.nodes[0]!.inputs).toEqual(['a']);
    replaceAllUses(model.graph, 'a', 'x');
    expect(body.nodes[0]!.inputs).toEqual(['x']);
  });

  it('exposeAsOutputs adds each value once, after the existing outputs', () => {
    const { model } = chain();
    exposeAsOutputs(model.graph, ['a', 'y', 'a']);
    expect(model.graph.outputs.map((o) => o.name)).toEqual(['y', 'a']);
  });
});
