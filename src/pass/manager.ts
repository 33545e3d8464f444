// The pass manager: runs a list of passes over every graph of a model (subgraphs too),
// round after round until a round changes nothing, and reports what each pass did.
// A failure names the pass and the passes that ran before it in that round.
import type { Graph, Model } from '../ir/graph.js';
import { OnnxpressError } from '../errors.js';
import { topologicalSort } from '../ir/mutate.js';
import { modelProblems } from '../ir/validate.js';
import type { Pass, PassContext, PassOptions, PassResult } from './pass.js';

export interface ManagerOptions {
  /** Read by the passes (fold size cap ...). */
  passOptions?: PassOptions;
  /** Rounds before giving up on a fixed point (default 8). */
  maxRounds?: number;
  /** Check graph invariants (ir/validate.ts) after every pass; fail naming the pass that broke them. */
  verify?: boolean;
}

export interface PassSummary {
  /** Rounds in which the pass changed something. */
  changedRounds: number;
  stats: Record<string, number>;
}

export interface ManagerReport {
  rounds: number;
  changed: boolean;
  passes: Record<string, PassSummary>;
  /** The first round's diagnostics, each prefixed with its pass name. */
  diagnostics: string[];
}

/** Runs `passes` on `model` in place to a fixed point. */
export async function runPasses(model: Model, passes: Pass[], options: ManagerOptions = {}): Promise<ManagerReport> {
  const ctx: PassContext = { model, opset: model.opset('') ?? 1, options: options.passOptions ?? {} };
  const report: ManagerReport = { rounds: 0, changed: false, passes: {}, diagnostics: [] };
  for (const p of passes) report.passes[p.name] = { changedRounds: 0, stats: {} };
  // Passes read graphs in order; ONNX requires topological order, but not every exporter keeps it.
  for (const graph of model.graphs()) topologicalSort(graph);
  const maxRounds = options.maxRounds ?? 8;
  for (let round = 1; round <= maxRounds; round++) {
    report.rounds = round;
    let changedThisRound = false;
    const ran: string[] = [];
    for (const pass of passes) {
      const where = failurePrefix(pass, ran, round);
      let passChanged = false;
      for (const graph of [...model.graphs()]) {
        const result = await runOne(pass, graph, ctx, where);
        if (result.changed) {
          passChanged = true;
          const summary = report.passes[pass.name]!;
          for (const [k, v] of Object.entries(result.stats)) summary.stats[k] = (summary.stats[k] ?? 0) + v;
        }
        if (round === 1) report.diagnostics.push(...result.diagnostics.map((d) => `${pass.name}: ${d}`));
      }
      if (passChanged) report.passes[pass.name]!.changedRounds++;
      if (options.verify) {
        const problems = modelProblems(model);
        if (problems.length) throw new OnnxpressError('INTERNAL', `${where}: left the graph invalid: ${problems[0]}`);
      }
      ran.push(pass.name);
      changedThisRound ||= passChanged;
    }
    report.changed ||= changedThisRound;
    if (!changedThisRound) break;
  }
  return report;
}

/** 'error in pass X after passes A, B' (and the round, past the first: earlier rounds ran every pass). */
function failurePrefix(pass: Pass, ran: string[], round: number): string {
  const after = ran.length ? ` after passes ${ran.join(', ')}` : '';
  return `error in pass ${pass.name}${after}${round > 1 ? ` in round ${round}` : ''}`;
}

async function runOne(pass: Pass, graph: Graph, ctx: PassContext, where: string): Promise<PassResult> {
  try {
    return await pass.run(graph, ctx);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new OnnxpressError(err instanceof OnnxpressError ? err.code : 'INTERNAL', `${where}: ${message}`);
  }
}
