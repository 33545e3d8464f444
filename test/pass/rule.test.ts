import { describe, expect, it } from 'vitest';
import { GraphBuilder, type Graph, type Node } from '../helpers/graph-builder.js';
import { runPassOnce } from '../helpers/pass-tester.js';
import { GraphIndex, matched, noMatch, rulePass, type Rule } from '../../src/pass/rule.js';

const find = (g: Graph, out: string) => g.nodes.find((n) => n.outputs.includes(out))!;

describe('GraphIndex', () => {
  const graph = () => {
    const b = new GraphBuilder();
    const x = b.input('x', [2]);
    const relu = b.node('Relu', [x]);
    b.output(b.node('Mul', [relu, relu]));
    const neg = b.node('Neg', [x]);
    b.output(b.node('Abs', [neg]));
    b.output(neg);
    const custom = b.node('Relu', [x], {}, { domain: 'com.example' });
    b.output(b.ifCapturing(b.cond(), custom));
    b.weight('w', [2]);
    return b;
  };

  it('soleConsumer: one reader, even one that reads the value twice', () => {
    const index = new GraphIndex(graph().graph);
    expect(index.soleConsumer('relu')?.opType).toBe('Mul');
  });

  it('soleConsumer: none for a graph output, several readers, or no reader', () => {
    const index = new GraphIndex(graph().graph);
    expect(index.soleConsumer('neg')).toBeUndefined(); // a graph output
    expect(index.soleConsumer('x')).toBeUndefined(); // three readers
    expect(index.soleConsumer('w')).toBeUndefined(); // nobody reads it
  });

  it('soleConsumer: a value captured by an If body is read by the If', () => {
    const index = new GraphIndex(graph().graph);
    expect(index.soleConsumer('relu2')?.opType).toBe('If');
  });

  it('producerOf filters by op type and ignores other domains', () => {
    const index = new GraphIndex(graph().graph);
    expect(index.producerOf('relu', 'Relu')?.outputs).toEqual(['relu']);
    expect(index.producerOf('relu', 'Neg', 'Relu')?.opType).toBe('Relu');
    expect(index.producerOf('relu')?.opType).toBe('Relu');
    expect(index.producerOf('relu', 'Neg')).toBeUndefined();
    expect(index.producerOf('relu2', 'Relu')).toBeUndefined(); // com.example.Relu
    expect(index.producerOf('x')).toBeUndefined();
    expect(index.producerOf(undefined)).toBeUndefined();
  });

  it('constant: initializers of this graph and enclosing ones, not inputs that override them', () => {
    const b = graph();
    const body = find(b.graph, 'if').subgraphs()[0]!;
    expect(new GraphIndex(body).constant('w')?.dims).toEqual([2]);
    expect(new GraphIndex(b.graph).constant('relu')).toBeUndefined();
    expect(new GraphIndex(b.graph).constant(undefined)).toBeUndefined();
    b.input('w', [2]);
    expect(new GraphIndex(b.graph).constant('w')).toBeUndefined();
  });
});

describe('rulePass', () => {
  // A toy rule: Neg(Neg(x)) is x. The root is the outer Neg.
  const tried: string[] = [];
  const doubleNeg: Rule<{ outer: Node; inner: Node }> = {
    rootOps: ['Neg'],
    match(outer, index) {
      tried.push(outer.outputs[0]!);
      const inner = index.producerOf(outer.inputs[0], 'Neg');
      if (!inner) return noMatch('input is not a Neg');
      if (index.soleConsumer(inner.outputs[0]!) !== outer) return noMatch('inner Neg has other readers');
      return matched({ outer, inner });
    },
    apply({ outer, inner }, graph) {
      outer.opType = 'Identity';
      outer.inputs = [inner.inputs[0]!];
      graph.nodes.splice(graph.nodes.indexOf(inner), 1);
      return ['fused', 'negsRemoved'];
    },
  };
  const pass = rulePass('double-neg', 'Neg(Neg(x)) is x', doubleNeg);

  const model = (build: (b: GraphBuilder) => void) => {
    const b = new GraphBuilder();
    build(b);
    return b.model(13);
  };

  it('names itself and counts the stats apply returns', async () => {
    tried.length = 0;
    const m = model((b) => b.output(b.node('Neg', [b.node('Neg', [b.input('x', [2])])])));
    const r = await runPassOnce(pass, m);
    expect(pass.name).toBe('double-neg');
    expect(r).toEqual({ changed: true, stats: { fused: 1, negsRemoved: 1 }, diagnostics: ['\'neg\' (Neg): input is not a Neg'] });
    expect(m.graph.nodes.map((n) => n.opType)).toEqual(['Identity']);
  });

  it('tries only nodes of its root ops in the default domain', async () => {
    tried.length = 0;
    const m = model((b) => {
      const x = b.input('x', [2]);
      b.output(b.node('Relu', [x]));
      b.output(b.node('Neg', [x], {}, { domain: 'com.example' }));
      b.output(b.node('Neg', [x]));
    });
    await runPassOnce(pass, m);
    expect(tried).toEqual(['neg2']);
  });

  it('sees the graph as the previous rewrite left it', async () => {
    // Neg(Neg(Neg(Neg(x)))): neg2 absorbs neg, so neg3 then reads an Identity, and neg4 absorbs neg3.
    tried.length = 0;
    const m = model((b) => {
      let v = b.input('x', [2]);
      for (let i = 0; i < 4; i++) v = b.node('Neg', [v]);
      b.output(v);
    });
    const r = await runPassOnce(pass, m);
    expect(r.stats).toEqual({ fused: 2, negsRemoved: 2 });
    expect(r.diagnostics).toContain("'neg3' (Neg): input is not a Neg");
    expect(m.graph.nodes.map((n) => n.opType)).toEqual(['Identity', 'Identity']);
  });

  it('does not try a node an earlier rewrite removed', async () => {
    tried.length = 0;
    const m = model((b) => b.output(b.node('Neg', [b.node('Neg', [b.input('x', [2])])])));
    m.graph.nodes.reverse(); // the outer Neg comes first, its inner Neg is removed before its turn
    await runPassOnce(pass, m);
    expect(tried).toEqual(['neg2']);
  });

  it('reports unchanged with every reason when nothing matches', async () => {
    const m = model((b) => {
      const inner = b.node('Neg', [b.input('x', [2])]);
      b.output(b.node('Neg', [inner]));
      b.output(inner);
    });
    const r = await runPassOnce(pass, m);
    expect(r).toEqual({ changed: false, stats: {}, diagnostics: ["'neg' (Neg): input is not a Neg", "'neg2' (Neg): inner Neg has other readers"] });
  });
});
