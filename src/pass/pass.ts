// What a pass is: a name, a one-line description, and run(graph) -> what it changed.
// A pass mutates through src/ir/mutate.ts, sees subgraphs through the manager (which
// runs it on every graph), and leaves the graph alone when it cannot prove a rewrite safe.
import type { Graph, Model } from '../ir/graph.js';

export interface PassContext {
  model: Model;
  /** The default-domain opset the model imports. */
  opset: number;
  /** Options a pass may read (fold size cap ...). */
  options: PassOptions;
}

export interface PassOptions {
  /** Constant folding never creates a tensor larger than this many bytes beyond what it replaces. */
  foldSlackBytes?: number;
}

export interface PassResult {
  changed: boolean;
  /** Counts of what changed, by kind: { removed: 3, fused: 1, bytesSaved: 1024 }. */
  stats: Record<string, number>;
  /** Why a candidate was left alone, for --verbose and tests. */
  diagnostics: string[];
}

export interface Pass {
  name: string;
  description: string;
  /** Runs once over one graph (the manager visits subgraphs). May be async (folding runs onnxruntime). */
  run(graph: Graph, ctx: PassContext): PassResult | Promise<PassResult>;
}

/** Collects counts and diagnostics while a pass runs. */
export class PassReport {
  readonly stats: Record<string, number> = {};
  readonly diagnostics: string[] = [];
  count(kind: string, n = 1): void {
    this.stats[kind] = (this.stats[kind] ?? 0) + n;
  }
  skip(reason: string): void {
    this.diagnostics.push(reason);
  }
  result(): PassResult {
    return { changed: Object.values(this.stats).some((v) => v > 0), stats: this.stats, diagnostics: this.diagnostics };
  }
}
