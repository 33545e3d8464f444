// Writes inferred shapes of intermediate values as value_info, for tools and runtimes
// that read them. Not in the default pipeline: it makes the file larger.
import type { Graph } from '../src/ir/graph.js';
import { inferShapes, writeValueInfo } from '../src/ir/shapes.js';
import { PassReport, type Pass } from '../src/pass/pass.js';

export const inferShapesPass: Pass = {
  name: 'infer-shapes',
  description: 'write inferred shapes (static and symbolic) of intermediate values as value_info',
  run(graph: Graph) {
    const report = new PassReport();
    report.count('valueInfoAdded', writeValueInfo(graph, inferShapes(graph)));
    return report.result();
  },
};
