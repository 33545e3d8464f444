// Initializers with the same dtype, dims and bytes are one value: keep the first.
import type { Graph } from '../src/ir/graph.js';
import { removeInitializer, replaceAllUses } from '../src/ir/mutate.js';
import { PassReport, type Pass } from '../src/pass/pass.js';

export const dedupeInitializers: Pass = {
  name: 'dedupe-initializers',
  description: 'merge initializers with identical dtype, dims and contents',
  run(graph: Graph) {
    const report = new PassReport();
    const protectedNames = new Set([...graph.inputs.map((i) => i.name), ...graph.outputNames()]);
    const seen = new Map<string, string>();
    for (const [name, t] of [...graph.initializers]) {
      if (protectedNames.has(name) || t.data.kind === 'string_data' || t.byteLength === 0) continue;
      const key = t.contentKey();
      const first = seen.get(key);
      if (!first) { seen.set(key, name); continue; }
      replaceAllUses(graph, name, first);
      removeInitializer(graph, name);
      report.count('merged');
      report.count('bytesSaved', t.byteLength);
    }
    return report.result();
  },
};
