// The matcher fusion passes share: a rule names the op types it is rooted at, a read-only
// `match` that returns the matched nodes or the reason it does not apply, and an `apply`
// that rewrites through src/ir/mutate.ts. Rules are indexed by root op type, so a rule is
// only tried on the nodes that could start its pattern.
import type { Graph, Node } from '../ir/graph.js';
import type { Tensor } from '../ir/tensor.js';
import type { Pass, PassContext, PassResult } from './pass.js';
import { PassReport } from './pass.js';

export type Match<M> = { ok: true; value: M } | { ok: false; reason: string };

export const matched = <M>(value: M): Match<M> => ({ ok: true, value });
export const noMatch = <M>(reason: string): Match<M> => ({ ok: false, reason });

/** Use-def facts of one graph, rebuilt after each rewrite. */
export class GraphIndex {
  readonly producers: Map<string, Node>;
  readonly consumers: Map<string, Node[]>;
  readonly graphOutputs: Set<string>;
  constructor(readonly graph: Graph) {
    this.producers = graph.producers();
    this.consumers = graph.consumers();
    this.graphOutputs = graph.outputNames();
  }

  /** The constant value of a name: an initializer of this or an enclosing graph. */
  constant(name: string | undefined): Tensor | undefined {
    return name ? this.graph.findInitializer(name) : undefined;
  }

  /** The one node reading `name`, when it is the only reader and `name` is not a graph output. */
  soleConsumer(name: string): Node | undefined {
    const readers = this.consumers.get(name);
    if (!readers || readers.length !== 1 || this.graphOutputs.has(name)) return undefined;
    // A reader that takes the value twice (x*x) still counts as one node; that is fine.
    return readers[0];
  }

  /** The producer of `name` when it is a default-domain node of one of the given types. */
  producerOf(name: string | undefined, ...opTypes: string[]): Node | undefined {
    const p = name ? this.producers.get(name) : undefined;
    return p && p.isOnnx() && (opTypes.length === 0 || opTypes.includes(p.opType)) ? p : undefined;
  }
}

export interface Rule<M> {
  rootOps: string[];
  match(node: Node, index: GraphIndex, ctx: PassContext): Match<M>;
  /** Rewrites one match; returns the stat kinds to count (e.g. ['fused']). */
  apply(m: M, graph: Graph, ctx: PassContext): string[];
}

/** A pass that applies one rule to every node it is rooted at, once per run. */
export function rulePass<M>(name: string, description: string, rule: Rule<M>): Pass {
  const roots = new Set(rule.rootOps);
  return {
    name,
    description,
    run(graph: Graph, ctx: PassContext): PassResult {
      const report = new PassReport();
      let index = new GraphIndex(graph);
      for (const node of [...graph.nodes]) {
        if (!roots.has(node.opType) || !node.isOnnx() || !graph.nodes.includes(node)) continue;
        const m = rule.match(node, index, ctx);
        if (!m.ok) {
          report.skip(`${node.describe()}: ${m.reason}`);
          continue;
        }
        for (const kind of rule.apply(m.value, graph, ctx)) report.count(kind);
        index = new GraphIndex(graph);
      }
      return report.result();
    },
  };
}
