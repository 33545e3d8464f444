// The pass manager: runs a list of passes over every graph of a model (subgraphs too)
// until a round changes nothing, and reports what each pass did.
import type { Graph, Model } from './ir/graph.js';
import { OnnxpressError, badInput } from './errors.js';
import { modelProblems } from './ir/validate.js';
import { topologicalSort } from './ir/mutate.js';
import { serializeModel } from './onnx/save.js';
import { allPasses, defaultPipeline, findPass } from '../passes/index.js';
import type { Pass, PassContext } from '../passes/pass.js';
import type { PassOptions } from '../passes/pass.js';

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

export interface PassSummary {
  /** Rounds in which the pass changed something. */
  changedRounds: number;
  stats: Record<string, number>;
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

export function summarize(model: Model): ModelSummary {
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
  const before = summarize(model);
  const ctx: PassContext = { model, opset: model.opset('') ?? 1, options };
  const report: OptimizeReport = { before, after: before, rounds: 0, changed: false, passes: {}, diagnostics: [] };
  for (const p of passes) report.passes[p.name] = { changedRounds: 0, stats: {} };
  // Passes read graphs in order; ONNX requires topological order, but not every exporter keeps it.
  for (const graph of model.graphs()) topologicalSort(graph);
  const maxRounds = options.maxRounds ?? 8;
  for (let round = 1; round <= maxRounds; round++) {
    report.rounds = round;
    let changedThisRound = false;
    const ran: string[] = [];
    for (const pass of passes) {
      let passChanged = false;
      for (const graph of [...model.graphs()]) {
        const result = await runPass(pass, graph, ctx, ran);
        if (result.changed) {
          passChanged = true;
          const summary = report.passes[pass.name]!;
          for (const [k, v] of Object.entries(result.stats)) summary.stats[k] = (summary.stats[k] ?? 0) + v;
        }
        if (round === 1) report.diagnostics.push(...result.diagnostics.map((d) => `${pass.name}: ${d}`));
      }
      if (passChanged) report.passes[pass.name]!.changedRounds++;
      if (options.verify) verifyAfter(model, pass.name, ran);
      ran.push(pass.name);
      changedThisRound ||= passChanged;
    }
    report.changed ||= changedThisRound;
    if (!changedThisRound) break;
  }
  report.after = summarize(model);
  return report;
}

async function runPass(pass: Pass, graph: Graph, ctx: PassContext, ran: string[]) {
  try {
    return await pass.run(graph, ctx);
  } catch (err) {
    const after = ran.length ? ` after passes ${ran.join(', ')}` : '';
    const message = err instanceof Error ? err.message : String(err);
    throw new OnnxpressError(err instanceof OnnxpressError ? err.code : 'INTERNAL', `error in pass ${pass.name}${after}: ${message}`);
  }
}

function verifyAfter(model: Model, passName: string, ran: string[]): void {
  const problems = modelProblems(model);
  if (problems.length) {
    throw new OnnxpressError('INTERNAL', `pass ${passName} (after ${ran.join(', ') || 'none'}) broke the graph: ${problems[0]}`);
  }
}
