// int8-static inside the branches of the main graph's If nodes. Each branch is quantized as
// a model of its own by the same static QDQ quantizer: its inputs are the outer values it
// reads by name (captured), its calibration samples are those values as the main model
// computes them, on the samples whose condition selects the branch. The quantized branch
// goes back in place, reading the outer values by name again. Loop/Scan bodies stay float:
// their inputs change every iteration, which one run of the main model does not expose; so
// do If bodies nested inside a branch (the quantizer lists them, as for the main graph).
import { Model, tensorType, type Graph, type Node, type ValueInfo } from '../ir/graph.js';
import { dataTypeFromOrtName } from '../ir/dtype.js';
import { NameAllocator, addInitializer, exposeAsOutputs, removeInitializer, replaceAllUses } from '../ir/mutate.js';
import type { Tensor } from '../ir/tensor.js';
import { inferShapes, type ShapeMap } from '../ir/shapes.js';
import { OnnxpressError } from '../errors.js';
import { cloneModel } from '../onnx/clone.js';
import { openSession, type HostTensor } from '../runtime/ort.js';
import type { Sample } from '../runtime/samples.js';
import type { LeftInFloat, QuantizeOptions, SubgraphReport } from './options.js';
import { noteFloat, quantizeStatic } from './static-qdq.js';

const BRANCHES = ['then_branch', 'else_branch'] as const;

interface Branch {
  node: Node;
  branch: (typeof BRANCHES)[number];
  body: Graph;
  /** Outer values the body reads that the main model computes or takes as inputs. */
  runtime: string[];
  /** Main-graph initializers the body reads (weights a body captures by name). */
  constants: string[];
}

/** What the main model gave on one calibration sample: every If's condition and the values its branches read. */
interface Seen { conditions: Map<Node, boolean | undefined>; values: Sample }

/**
 * Quantizes the branches of every main-graph If in place, each on the calibration samples
 * that take it; a branch no sample takes stays float, listed in `left` with that reason.
 * Runs after the main graph is quantized, so the captured values are what the branch will see.
 */
export async function quantizeIfBodies(model: Model, o: QuantizeOptions, left: LeftInFloat[], perChannel: boolean): Promise<{ quantized: Record<string, number>; subgraphs: SubgraphReport[] }> {
  const branches = findBranches(model.graph);
  const quantized: Record<string, number> = {};
  const subgraphs: SubgraphReport[] = [];
  if (!branches.length || !o.calibration?.length) return { quantized, subgraphs };
  const whereOf = (b: Branch) => `If '${b.node.name || b.node.outputs[0] || '?'}' ${b.branch}`;
  const stayFloat = (b: Branch, reason: string) => { for (const g of [b.body, ...b.body.descendants()]) noteFloat(g, left, `${reason} (${whereOf(b)})`); };
  let seen: Seen[];
  try {
    seen = await runToBranches(model, branches, o.calibration);
  } catch (err) {
    // The main graph is quantized already: a model whose branch inputs cannot be read keeps float branches.
    if (!(err instanceof OnnxpressError)) throw err;
    for (const b of branches) stayFloat(b, `the values this branch reads could not be computed: ${err.message}`);
    return { quantized, subgraphs };
  }
  const shapes = inferShapes(model.graph);
  const names = new NameAllocator(model.graph);
  const added: { body: Graph; names: string[] }[] = [];
  for (const b of branches) {
    const where = whereOf(b);
    const takes = b.branch === 'then_branch';
    const samples = seen.filter((s) => s.conditions.get(b.node) === takes).map((s) => Object.fromEntries(b.runtime.map((n) => [n, s.values[n]!])));
    if (!samples.length) { stayFloat(b, 'no calibration sample takes this branch'); continue; }
    const alone = branchAsModel(model, b, shapes, samples[0]!);
    const bodyLeft: LeftInFloat[] = [];
    let counts: Record<string, number>;
    try {
      // Techniques (equalize, GPTQ ...) ran on the main graph only: their weights are not these.
      counts = await quantizeStatic(alone, { ...o, calibration: samples, weightOverrides: undefined, calibrationCache: undefined }, bodyLeft, perChannel, { names });
    } catch (err) {
      // The branch was quantized on a copy: the model's own is untouched.
      if (!(err instanceof OnnxpressError)) throw err;
      stayFloat(b, `this branch could not be quantized as a model of its own: ${err.message}`);
      continue;
    }
    left.push(...bodyLeft.map((l) => ({ ...l, reason: `${l.reason} (${where})` })));
    added.push({ body: b.body, names: putBack(b, alone.graph) });
    for (const [op, n] of Object.entries(counts)) quantized[op] = (quantized[op] ?? 0) + n;
    if (Object.keys(counts).length) subgraphs.push({ node: b.node.name || b.node.outputs[0] || '?', branch: b.branch, samples: samples.length, quantized: counts });
  }
  shareIdenticalInitializers(model.graph, added);
  return { quantized, subgraphs };
}

function findBranches(graph: Graph): Branch[] {
  const inputs = new Set(graph.inputs.map((v) => v.name));
  const isConstant = (name: string) => graph.initializers.has(name) && !inputs.has(name);
  return graph.nodes.filter((n) => n.isOnnx('If')).flatMap((node) => BRANCHES.flatMap((branch) => {
    const body = node.attr(branch)?.g;
    if (!body) return [];
    const captured = [...body.capturedNames()].sort();
    return [{ node, branch, body, runtime: captured.filter((n) => !isConstant(n)), constants: captured.filter(isConstant) }];
  }));
}

/**
 * Runs the main model on each sample with every If's condition and every value a branch
 * reads exposed as outputs (graph inputs are taken from the sample, constants from the graph).
 */
async function runToBranches(model: Model, branches: Branch[], samples: Sample[]): Promise<Seen[]> {
  const graph = model.graph;
  const inputs = new Set(graph.inputs.map((v) => v.name));
  const ifs = [...new Set(branches.map((b) => b.node))];
  const wanted = [...new Set([...ifs.map((n) => n.inputs[0]!), ...branches.flatMap((b) => b.runtime)])].filter((n) => !inputs.has(n) && !graph.initializers.has(n));
  const probe = cloneModel(model);
  exposeAsOutputs(probe.graph, wanted);
  const session = wanted.length ? await openSession(probe) : undefined;
  try {
    const seen: Seen[] = [];
    for (const sample of samples) {
      const values: Sample = { ...sample, ...(session ? await session.run(sample, wanted) : {}) };
      const conditions = new Map(ifs.map((n) => [n, isTrue(values[n.inputs[0]!] ?? constantOf(graph, n.inputs[0]!))]));
      seen.push({ conditions, values });
    }
    return seen;
  } finally {
    await session?.release();
  }
}

function constantOf(graph: Graph, name: string): HostTensor | undefined {
  const t = graph.initializers.get(name);
  return t ? { type: 'bool', dims: [...t.dims], data: t.toFloat32() } : undefined;
}

function isTrue(t: HostTensor | undefined): boolean | undefined {
  const v = t?.data as ArrayLike<number | boolean> | undefined;
  return v && v.length ? Boolean(v[0]) : undefined;
}

/**
 * A copy of the branch as a model: the outer values it reads become its inputs (types as
 * the main model ran them, dims as main-graph inference knows them), the outer weights it
 * reads become its own initializers. The model's own graph is left as it was.
 */
function branchAsModel(model: Model, b: Branch, shapes: ShapeMap, sample: Sample): Model {
  const { body } = b;
  const saved = { parent: body.parent, inputs: body.inputs, initializers: body.initializers };
  try {
    body.parent = undefined;
    body.inputs = b.runtime.map((name): ValueInfo => {
      const seen = sample[name]!;
      const known = shapes.get(name)?.dims;
      const dims = known && known.length === seen.dims.length ? known : seen.dims.map(() => null);
      return { name, type: tensorType(dataTypeFromOrtName(seen.type) ?? shapes.get(name)?.elemType ?? 1, dims) };
    });
    body.initializers = new Map([...body.initializers, ...b.constants.map((n) => [n, saved.parent!.initializers.get(n)!] as const)]);
    const m = new Model(body);
    m.irVersion = model.irVersion;
    m.opsetImport = model.opsetImport;
    m.functions = model.functions;
    return cloneModel(m);
  } finally {
    Object.assign(body, saved);
  }
}

/**
 * The quantized branch in place of the original: the outer weights it read are outer
 * references again. Returns the initializers quantization added to it.
 */
function putBack(b: Branch, quantized: Graph): string[] {
  const outer = new Set([...b.runtime, ...b.constants]);
  const { body } = b;
  const added = [...quantized.initializers.keys()].filter((name) => !outer.has(name) && !body.initializers.has(name));
  body.nodes = quantized.nodes;
  for (const n of body.nodes) for (const g of n.subgraphs()) g.parent = body;
  body.initializers = new Map([...quantized.initializers].filter(([name]) => !outer.has(name)));
  body.valueInfo = quantized.valueInfo.filter((v) => !outer.has(v.name));
  body.outputs = quantized.outputs;
  return added;
}

/**
 * Runs `quantize` on every graph of the model, bodies included (the modes that need no
 * calibration), then stores once the identical copies several graphs made of one weight
 * (both branches of an If reading it).
 */
export function quantizeEveryGraph(model: Model, quantize: (graph: Graph) => void): void {
  const added: { body: Graph; names: string[] }[] = [];
  for (const g of [...model.graphs()]) {
    const before = new Set(g.initializers.keys());
    quantize(g);
    added.push({ body: g, names: [...g.initializers.keys()].filter((k) => !before.has(k)) });
  }
  shareIdenticalInitializers(model.graph, added);
}

/** Below this a shared copy saves less than its longer reference costs: scales and zero points stay where they are. */
const SHARE_MIN_BYTES = 1024;

/**
 * Branches that quantized one outer weight (Silero legacy's STFT basis, read by both sample
 * rates) hold identical int8 (or float16) copies: the first moves to the main graph and every
 * branch reads it from there by name, as it read the float one.
 */
export function shareIdenticalInitializers(main: Graph, added: { body: Graph; names: string[] }[]): void {
  const first = new Map<string, { body: Graph; name: string; tensor: Tensor; moved: boolean }>();
  for (const { body, names } of added) {
    for (const name of names) {
      const tensor = body.initializers.get(name);
      if (!tensor || tensor.byteLength < SHARE_MIN_BYTES) continue;
      const key = tensor.contentKey();
      const same = first.get(key);
      if (!same) { first.set(key, { body, name, tensor, moved: false }); continue; }
      // Only copies in different branches are shared here.
      if (same.body === body) continue;
      if (!same.moved) { removeInitializer(same.body, same.name); addInitializer(main, same.tensor); same.moved = true; }
      removeInitializer(body, name);
      replaceAllUses(body, name, same.name);
    }
  }
}
