// `optimizeModel`: the pass pipeline a user asks for, run by the pass manager
// (src/pass/manager.ts), with the model's size and op counts before and after.
import type { Model } from './ir/graph.js';
import { badInput } from './errors.js';
import { serializeModel } from './onnx/save.js';
import { runPasses, type PassSummary } from './pass/manager.js';
import type { Pass, PassOptions } from './pass/pass.js';
import { allPasses, defaultPipeline, findPass } from '../passes/index.js';

export type { PassSummary } from './pass/manager.js';

export interface OptimizeOptions extends PassOptions {
  /** Pass names to run, in order (default: the default pipeline). */
  passes?: string[];
  /** Pass names to leave out. */
  skip?: string[];
  /** Rounds before giving up on a fixed point (default 8). */
  maxRounds?: number;
  /** Check graph invariants after every pass and fail naming the pass that broke them. */
  verify?: boolean;
}

export interface ModelSummary {
  nodeCount: number;
  fileBytes: number;
  opTypes: Record<string, number>;
}

export interface OptimizeReport {
  before: ModelSummary;
  after: ModelSummary;
  rounds: number;
  changed: boolean;
  passes: Record<string, PassSummary>;
  diagnostics: string[];
}

export function resolvePasses(options: OptimizeOptions): Pass[] {
  const names = options.passes ?? defaultPipeline;
  const unknown = [...names, ...(options.skip ?? [])].filter((n) => !findPass(n));
  if (unknown.length) throw badInput(`unknown pass '${unknown[0]}'; 'onnxpress passes' lists them (${allPasses.length} passes)`);
  const skip = new Set(options.skip ?? []);
  return names.filter((n) => !skip.has(n)).map((n) => findPass(n)!);
}

/** Node count, serialized size and op histogram of a model (subgraphs included). */
export function modelSummary(model: Model): ModelSummary {
  const opTypes: Record<string, number> = {};
  let nodeCount = 0;
  for (const g of model.graphs()) for (const n of g.nodes) {
    nodeCount++;
    const key = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : n.opType;
    opTypes[key] = (opTypes[key] ?? 0) + 1;
  }
  return { nodeCount, fileBytes: serializeModel(model).byteLength, opTypes };
}

/** Optimizes `model` in place. */
export async function optimizeModel(model: Model, options: OptimizeOptions = {}): Promise<OptimizeReport> {
  const passes = resolvePasses(options);
  const before = modelSummary(model);
  const run = await runPasses(model, passes, { passOptions: options, maxRounds: options.maxRounds, verify: options.verify });
  return { before, after: modelSummary(model), ...run };
}
