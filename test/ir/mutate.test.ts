import { describe, expect, it } from 'vitest';
import { GraphBuilder, Node } from '../helpers/graph-builder.js';
import { NameAllocator, bypassNode, dropValueInfo, removeNode, removeNodes, replaceAllUses, replaceNode, topologicalSort, usedNames } from '../../src/ir/mutate.js';

const ops = (b: GraphBuilder) => b.graph.nodes.map((n) => n.opType);
const find = (b: GraphBuilder, out: string) => b.graph.nodes.find((n) => n.outputs.includes(out))!;

/** x -> Relu -> If(cond) whose branches read relu: a value a subgraph captures. */
function withIf() {
  const b = new GraphBuilder();
  const relu = b.node('Relu', [b.input('x', [2])]);
  const y = b.output(b.ifCapturing(b.cond(), relu));
  const body = find(b, y).subgraphs()[0]!;
  return { b, relu, body };
}

describe('usedNames and NameAllocator', () => {
  it('see names in subgraphs and enclosing graphs', () => {
    const { b, body } = withIf();
    b.weight('w', [1]);
    const names = usedNames(body);
    for (const n of ['x', 'cond', 'relu', 'if', 'w', 'relu_then', 'relu_else']) expect(names.has(n), n).toBe(true);
  });

  it('hands out the base name, then numbered ones, never a used name', () => {
    const { b } = withIf();
    const names = new NameAllocator(b.graph);
    expect(names.next('w')).toBe('w');
    expect(names.next('w')).toBe('w_1');
    expect(names.next('relu')).toBe('relu_1');
    expect(names.next('relu_then')).toBe('relu_then_1');
  });

  it('is deterministic for the same graph', () => {
    const a = new NameAllocator(withIf().b.graph);
    const c = new NameAllocator(withIf().b.graph);
    expect([a.next('x'), a.next('x')]).toEqual([c.next('x'), c.next('x')]);
  });
});

describe('replaceAllUses', () => {
  it('rewires readers in this graph and in subgraphs that capture the value', () => {
    const { b, body } = withIf();
    const neg = b.node('Neg', ['relu']);
    replaceAllUses(b.graph, 'relu', 'x');
    expect(find(b, neg).inputs).toEqual(['x']);
    expect([...body.capturedNames()]).toEqual(['x']);
  });

  it('renames a subgraph output that was the value itself', () => {
    const b = new GraphBuilder();
    const relu = b.node('Relu', [b.input('x', [2])]);
    const y = b.output(b.ifNode(b.cond(), () => relu, (e) => e.node('Neg', [relu], {}, { outputs: ['n'] })));
    const then = find(b, y).subgraphs()[0]!;
    replaceAllUses(b.graph, relu, 'x');
    expect(then.outputs.map((o) => o.name)).toEqual(['x']);
  });

  it('stops at a subgraph that defines the same name (shadowing)', () => {
    const b = new GraphBuilder();
    const relu = b.node('Relu', [b.input('x', [2])]);
    const y = b.output(b.ifNode(b.cond(), (t) => t.node('Abs', [t.node('Neg', ['x'], {}, { outputs: [relu] })], {}, { outputs: ['n1'] }),
      (e) => e.node('Neg', [relu], {}, { outputs: ['n2'] })));
    const [then, otherwise] = find(b, y).subgraphs();
    replaceAllUses(b.graph, relu, 'x');
    expect(then!.nodes.map((n) => n.inputs)).toEqual([['x'], ['relu']]); // reads its own 'relu'
    expect(otherwise!.nodes[0]!.inputs).toEqual(['x']);
  });

  it('leaves graph outputs of the graph itself named as they were', () => {
    const b = new GraphBuilder();
    b.output(b.node('Relu', [b.input('x', [2])]));
    replaceAllUses(b.graph, 'relu', 'x');
    expect(b.graph.outputs.map((o) => o.name)).toEqual(['relu']);
  });
});

describe('bypassNode', () => {
  it('routes readers of the node to the replacement and drops its value_info', () => {
    const b = new GraphBuilder();
    const id = b.node('Identity', [b.node('Relu', [b.input('x', [2])])]);
    b.valueInfo(id, [2]);
    b.output(b.node('Neg', [id]));
    expect(bypassNode(b.graph, find(b, id), 'relu')).toBe(true);
    expect(ops(b)).toEqual(['Relu', 'Neg']);
    expect(find(b, 'neg').inputs).toEqual(['relu']);
    expect(b.graph.valueInfo).toEqual([]);
  });

  it('for a graph output, renames the producer of the replacement so the interface keeps its names', () => {
    const b = new GraphBuilder();
    b.output(b.node('Identity', [b.node('Relu', [b.input('x', [2])])]));
    expect(bypassNode(b.graph, find(b, 'identity'), 'relu')).toBe(true);
    expect(b.graph.nodes.map((n) => [n.opType, n.outputs])).toEqual([['Relu', ['identity']]]);
  });

  it('refuses the rename when a subgraph also reads the replacement', () => {
    const b = new GraphBuilder();
    const relu = b.node('Relu', [b.input('x', [2])]);
    b.output(b.node('Identity', [relu]));
    b.output(b.ifCapturing(b.cond(), relu));
    expect(bypassNode(b.graph, find(b, 'identity'), relu)).toBe(false);
    expect(ops(b)).toEqual(['Relu', 'Identity', 'If']);
  });

  it('refuses when the replacement is a graph input or itself a graph output', () => {
    const b = new GraphBuilder();
    b.output(b.node('Identity', [b.input('x', [2])]));
    expect(bypassNode(b.graph, find(b, 'identity'), 'x')).toBe(false);
    const c = new GraphBuilder();
    const relu = c.output(c.node('Relu', [c.input('x', [2])]));
    c.output(c.node('Identity', [relu]));
    expect(bypassNode(c.graph, find(c, 'identity'), relu)).toBe(false);
    expect(ops(c)).toEqual(['Relu', 'Identity']);
  });

  it('bypasses another output than the first', () => {
    const b = new GraphBuilder();
    const [, second] = b.nodeOutputs('Split', [b.input('x', [4])], {}, { outputs: 2 });
    b.output(b.node('Neg', [second!]));
    b.output(b.node('Abs', ['x']));
    expect(bypassNode(b.graph, find(b, second!), 'x', 1)).toBe(true);
    expect(find(b, 'neg').inputs).toEqual(['x']);
  });
});

describe('removeNode, removeNodes, replaceNode, dropValueInfo', () => {
  const chain = () => {
    const b = new GraphBuilder();
    b.output(b.node('Exp', [b.node('Neg', [b.node('Relu', [b.input('x', [2])])])]));
    return b;
  };

  it('remove the given nodes and nothing else', () => {
    const b = chain();
    removeNode(b.graph, find(b, 'neg'));
    expect(ops(b)).toEqual(['Relu', 'Exp']);
    removeNode(b.graph, new Node({ opType: 'Abs', inputs: [], outputs: [] })); // not in the graph: no-op
    expect(ops(b)).toEqual(['Relu', 'Exp']);
    removeNodes(b.graph, [find(b, 'relu'), find(b, 'exp')]);
    expect(ops(b)).toEqual([]);
  });

  it('replaceNode puts the replacement where the node was', () => {
    const b = chain();
    replaceNode(b.graph, find(b, 'neg'), [new Node({ opType: 'Abs', inputs: ['relu'], outputs: ['a'] }), new Node({ opType: 'Neg', inputs: ['a'], outputs: ['neg'] })]);
    expect(ops(b)).toEqual(['Relu', 'Abs', 'Neg', 'Exp']);
  });

  it('replaceNode refuses a node of another graph', () => {
    const b = chain();
    expect(() => replaceNode(b.graph, new Node({ opType: 'Abs', inputs: [], outputs: ['z'] }), [])).toThrow(/not in the graph/);
  });

  it('dropValueInfo forgets one name', () => {
    const b = chain();
    b.valueInfo('relu', [2]);
    b.valueInfo('neg', [2]);
    dropValueInfo(b.graph, 'relu');
    expect(b.graph.valueInfo.map((v) => v.name)).toEqual(['neg']);
  });
});

describe('topologicalSort', () => {
  it('orders producers before readers', () => {
    const b = new GraphBuilder();
    b.output(b.node('Exp', [b.node('Neg', [b.node('Relu', [b.input('x', [2])])])]));
    b.graph.nodes.reverse();
    topologicalSort(b.graph);
    expect(ops(b)).toEqual(['Relu', 'Neg', 'Exp']);
  });

  it('keeps an order that is already valid (stable)', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [2]);
    b.output(b.node('Abs', [x]));
    b.output(b.node('Neg', [x]));
    b.output(b.node('Relu', [x]));
    topologicalSort(b.graph);
    expect(ops(b)).toEqual(['Abs', 'Neg', 'Relu']);
  });

  it('counts a value a subgraph captures as an input of the node holding it', () => {
    const { b } = withIf();
    b.graph.nodes.reverse();
    topologicalSort(b.graph);
    expect(ops(b)).toEqual(['Relu', 'If']);
  });

  it('treats inputs, initializers and outer values as available', () => {
    const b = new GraphBuilder();
    b.output(b.node('Add', [b.input('x', [2]), b.weight('w', [2])]));
    b.output(b.node('Mul', ['x', 'outer_value']));
    topologicalSort(b.graph);
    expect(ops(b)).toEqual(['Add', 'Mul']);
  });
});

describe('Graph.findInitializer across graphs', () => {
  it('finds an enclosing graph\'s weight, but not through an input of that name on the way (a default, or a body\'s carried value)', () => {
    const b = new GraphBuilder('main');
    b.weight('w', [2, 2]);
    b.weight('d', [2]);
    b.input('d', [2]);
    const body = new GraphBuilder('body', 1, b.graph);
    const carried = new GraphBuilder('carried', 1, b.graph);
    carried.input('w', [2, 2]);
    const nested = new GraphBuilder('nested', 1, carried.graph);
    expect(body.graph.findInitializer('w')).toBe(b.graph.initializers.get('w'));
    expect(body.graph.findInitializer('d')).toBeUndefined();
    expect(carried.graph.findInitializer('w')).toBeUndefined();
    expect(nested.graph.findInitializer('w')).toBeUndefined();
  });
});
