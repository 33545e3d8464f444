// A table-driven tester for one pass, shaped like typescript-eslint's RuleTester:
//   testPass('fuse-bn-into-conv', { kind: 'fusion', invalid: [...], valid: [...] })
// An `invalid` case is a graph the pass must rewrite: it reports changed, leaves the
// expected op counts and stats, still validates, is a fixed point, and computes the same
// outputs in onnxruntime on seeded inputs (bit for bit for clean-ups). A `valid` case is
// a graph the pass must leave alone, byte for byte, saying why when it has a diagnostic.
import { describe, expect, it } from 'vitest';
import type { Model } from '../../src/ir/graph.js';
import { elemTypeOf, shapeOf } from '../../src/ir/graph.js';
import { ortTypeName } from '../../src/ir/dtype.js';
import { modelProblems } from '../../src/ir/validate.js';
import { cloneModel } from '../../src/onnx/clone.js';
import { serializeModel } from '../../src/onnx/save.js';
import { runOnce, type HostTensor } from '../../src/runtime/ort.js';
import { seededRandom } from '../../src/runtime/samples.js';
import { findPass, type Pass, type PassResult } from '../../passes/index.js';
import { maxRelativeError } from './compare.js';
import { bitIdentical } from './run.js';
import type { GraphBuilder } from './graph-builder.js';

/**
 * 'cleanup' passes only remove or rename, so outputs must be bit-identical; 'fusion'
 * passes refold float arithmetic (scaled weights, fused kernels), so outputs agree to
 * a relative error (default 1e-4 of each output's scale: far above the rounding of any
 * x86 or ARM kernel, far below what a wrong weight or a dropped epsilon gives).
 */
export type PassKind = 'cleanup' | 'fusion';

interface BaseCase {
  name: string;
  build: () => Model;
  /** A diagnostic the pass must report, as a substring or pattern. */
  diagnostic?: string | RegExp;
}

export interface InvalidCase extends BaseCase {
  /** Op counts after the pass, over every graph; ops not listed are not checked. */
  ops?: Record<string, number>;
  /** Total node count after the pass, over every graph. */
  nodeCount?: number;
  /** The stats the pass reports, exactly. */
  stats?: Record<string, number>;
  /** Overrides the kind's tolerance. */
  tolerance?: number;
  /** Extra assertions on the rewritten model. */
  check?: (after: Model, result: PassResult) => void;
  /** Set when one run legitimately leaves work for the next round of the manager. */
  notFixedPoint?: boolean;
}

export type ValidCase = BaseCase;

export interface PassTable {
  kind: PassKind;
  invalid: InvalidCase[];
  valid: ValidCase[];
}

const FUSION_TOLERANCE = 1e-4;

export function testPass(passName: string, table: PassTable): void {
  const pass = findPass(passName);
  describe(passName, () => {
    it('is registered', () => expect(pass, `no pass named ${passName} in passes/index.ts`).toBeDefined());
    if (!pass) return;
    describe('rewrites (invalid)', () => {
      for (const c of table.invalid) it(c.name, () => checkInvalid(pass, table.kind, c));
    });
    describe('leaves alone (valid)', () => {
      for (const c of table.valid) it(c.name, () => checkValid(pass, c));
    });
  });
}

/** Makes the intermediate value of a pattern escape it (see escapeCases). */
export type Escape = (b: GraphBuilder, value: string) => void;

/**
 * The ways the intermediate value of a pattern escapes it, so no rewrite may consume it:
 * another node reads it, it is a graph output, an If or Loop body captures it. `build(escape)`
 * builds the pattern and applies `escape` to that value.
 */
export function escapeCases(value: string, build: (escape: Escape) => () => Model, diagnostic?: string | RegExp): ValidCase[] {
  return [
    { name: `${value} has another reader`, build: build((b, v) => b.output(b.node('Relu', [v]))), diagnostic },
    { name: `${value} is a graph output`, build: build((b, v) => b.output(v)), diagnostic },
    { name: `${value} is captured by an If body`, build: build((b, v) => b.output(b.ifCapturing(b.cond(), v))), diagnostic },
    { name: `${value} is captured by a Loop body`, build: build((b, v) => b.output(b.loopCapturing(v))), diagnostic },
  ];
}

/** The pattern with its first `opType` node moved to a custom domain (same op name, other meaning). */
export function inCustomDomain(build: () => Model, opType: string): () => Model {
  return () => {
    const m = build();
    const node = m.graph.nodes.find((n) => n.opType === opType);
    if (!node) throw new Error(`inCustomDomain: no ${opType} node`);
    node.domain = 'com.example';
    m.opsetImport.push({ domain: 'com.example', version: 1 });
    return m;
  };
}

/** Runs `pass` once over every graph of `model`, main graph first, as one manager round does. */
export async function runPassOnce(pass: Pass, model: Model): Promise<PassResult> {
  const ctx = { model, opset: model.opset('') ?? 1, options: {} };
  const total: PassResult = { changed: false, stats: {}, diagnostics: [] };
  for (const graph of [...model.graphs()]) {
    const r = await pass.run(graph, ctx);
    total.changed ||= r.changed;
    for (const [k, v] of Object.entries(r.stats)) total.stats[k] = (total.stats[k] ?? 0) + v;
    total.diagnostics.push(...r.diagnostics);
  }
  return total;
}

async function checkInvalid(pass: Pass, kind: PassKind, c: InvalidCase): Promise<void> {
  const original = c.build();
  expect(modelProblems(original), 'the case itself is malformed').toEqual([]);
  const model = cloneModel(original);
  const result = await runPassOnce(pass, model);
  expect(result.changed, `diagnostics: ${result.diagnostics.join('; ')}`).toBe(true);
  if (c.stats) expect(result.stats).toEqual(c.stats);
  if (c.diagnostic) expectDiagnostic(result, c.diagnostic);
  if (c.ops) expect(pick(opCounts(model), Object.keys(c.ops))).toEqual(c.ops);
  if (c.nodeCount !== undefined) expect(nodeCount(model)).toBe(c.nodeCount);
  expect(modelProblems(model)).toEqual([]);
  expect(orderProblems(model)).toEqual([]);
  c.check?.(model, result);
  if (!c.notFixedPoint) {
    const again = await runPassOnce(pass, cloneModel(model));
    expect(again.changed, `second run changed ${JSON.stringify(again.stats)}`).toBe(false);
  }
  const feeds = seededFeeds(original, 11);
  const before = await runOnce(original, feeds);
  const after = await runOnce(model, feeds);
  if (kind === 'cleanup' && c.tolerance === undefined) expect(bitIdentical(before, after), 'outputs differ').toBe(true);
  else expect(maxRelativeError(before, after)).toBeLessThanOrEqual(c.tolerance ?? FUSION_TOLERANCE);
}

async function checkValid(pass: Pass, c: ValidCase): Promise<void> {
  const model = c.build();
  const bytes = serializeModel(model);
  const result = await runPassOnce(pass, model);
  expect(result.changed, `stats: ${JSON.stringify(result.stats)}`).toBe(false);
  expect(Buffer.compare(Buffer.from(serializeModel(model)), Buffer.from(bytes)), 'the pass edited the graph').toBe(0);
  if (c.diagnostic) expectDiagnostic(result, c.diagnostic);
}

function expectDiagnostic(result: PassResult, want: string | RegExp): void {
  const hit = result.diagnostics.some((d) => (typeof want === 'string' ? d.includes(want) : want.test(d)));
  expect(hit, `no diagnostic matching ${want} in ${JSON.stringify(result.diagnostics)}`).toBe(true);
}

export function opCounts(model: Model): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const g of model.graphs()) for (const n of g.nodes) counts[n.opType] = (counts[n.opType] ?? 0) + 1;
  return counts;
}

function pick(counts: Record<string, number>, keys: string[]): Record<string, number> {
  return Object.fromEntries(keys.map((k) => [k, counts[k] ?? 0]));
}

export function nodeCount(model: Model): number {
  let n = 0;
  for (const g of model.graphs()) n += g.nodes.length;
  return n;
}

/** Nodes reading a value of their own graph that a later node produces (ONNX wants topological order). */
export function orderProblems(model: Model): string[] {
  const problems: string[] = [];
  for (const g of model.graphs()) {
    const producedAt = new Map<string, number>();
    g.nodes.forEach((n, i) => n.outputs.forEach((o) => o && producedAt.set(o, i)));
    g.nodes.forEach((n, i) => {
      const reads = [...n.inputs, ...n.subgraphs().flatMap((s) => [...s.capturedNames()])];
      for (const r of reads) if ((producedAt.get(r) ?? -1) > i) problems.push(`${n.describe()} reads '${r}' before it is produced`);
    });
  }
  return problems;
}

/**
 * Seeded inputs for every graph input that is not an initializer: symbolic dims become 2,
 * floats uniform in [-2, 2), ints in [0, 4), bools random.
 */
export function seededFeeds(model: Model, seed: number): Record<string, HostTensor> {
  const rand = seededRandom(seed);
  const feeds: Record<string, HostTensor> = {};
  for (const input of model.graph.inputs) {
    if (model.graph.initializers.has(input.name)) continue;
    const dims = (shapeOf(input) ?? []).map((d) => (typeof d === 'number' ? d : 2));
    const count = dims.reduce((a, b) => a * b, 1);
    const type = ortTypeName(elemTypeOf(input) ?? 1) ?? 'float32';
    let data: ArrayBufferView;
    if (type === 'float32') data = Float32Array.from({ length: count }, () => rand() * 4 - 2);
    else if (type === 'int64') data = BigInt64Array.from({ length: count }, () => BigInt(Math.floor(rand() * 4)));
    else if (type === 'int32') data = Int32Array.from({ length: count }, () => Math.floor(rand() * 4));
    else if (type === 'bool') data = Uint8Array.from({ length: count }, () => (rand() < 0.5 ? 1 : 0));
    else throw new Error(`seededFeeds: no generator for ${type} input '${input.name}'`);
    feeds[input.name] = { type, dims, data };
  }
  return feeds;
}
