// The pass manager: a failure names the pass and what ran before it; verify mode catches
// a pass that leaves the graph invalid (here: out of topological order).
import { describe, expect, it } from 'vitest';
import { Graph, Model, Node } from '../../src/ir/graph.js';
import { runPasses } from '../../src/pass/manager.js';
import { PassReport, type Pass } from '../../src/pass/pass.js';

function model(): Model {
  const g = new Graph('m');
  g.inputs = [{ name: 'x' }];
  g.outputs = [{ name: 'y' }];
  g.nodes = [new Node({ opType: 'Relu', inputs: ['x'], outputs: ['a'] }), new Node({ opType: 'Neg', inputs: ['a'], outputs: ['y'] })];
  return new Model(g);
}

const noop: Pass = { name: 'noop', description: 'changes nothing', run: () => new PassReport().result() };
const boom: Pass = { name: 'boom', description: 'throws', run: () => { throw new Error('kaput'); } };
const reverse: Pass = {
  name: 'reverse',
  description: 'breaks node order (what a hand-spliced list can do)',
  run(graph) {
    graph.nodes.reverse();
    return new PassReport().result();
  },
};

describe('runPasses', () => {
  it('names the failing pass and the passes before it', async () => {
    await expect(runPasses(model(), [noop, boom])).rejects.toThrow('error in pass boom after passes noop: kaput');
    await expect(runPasses(model(), [boom])).rejects.toThrow(/^error in pass boom: kaput$/);
  });

  it('verify mode fails naming the pass that broke the order', async () => {
    await expect(runPasses(model(), [noop, reverse], { verify: true })).rejects.toThrow(/error in pass reverse after passes noop: left the graph invalid: .*not in topological order/);
  });

  it('stops at a fixed point and reports unchanged passes as such', async () => {
    const report = await runPasses(model(), [noop], { verify: true });
    expect(report).toMatchObject({ rounds: 1, changed: false, passes: { noop: { changedRounds: 0, stats: {} } } });
  });
});
