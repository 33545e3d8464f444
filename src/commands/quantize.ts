import type { CliCommand } from './command.js';
import { printJson } from './command.js';
import { parseList, parseNumber } from './parse.js';
import { OnnxpressError } from '../errors.js';
import { loadModel } from '../onnx/load.js';
import { saveModel } from '../onnx/save.js';
import { refuseOverwritingInputs } from '../onnx/output-guard.js';
import { openSession } from '../runtime/ort.js';
import { generateSamples, loadSamples, type Sample } from '../runtime/samples.js';
import { addImageFlags, addShapeFlags, imageOptionsOf, printInputShapes, shapeOptionsOf } from './data-flags.js';
import { namingFlags } from './option-flags.js';
import { optimizeModel } from '../optimize.js';
import { quantizeModel, type QuantizeMode, type QuantizeReport } from '../quantize/index.js';
import { RECURRENT_CHOICES } from '../quantize/recurrent.js';
import { shareOfError } from '../quantize/dominant.js';
import { CALIBRATION_METHODS } from '../quantize/calibrate.js';
import type { Model } from '../ir/graph.js';
import { formatBytes } from '../format.js';

interface Flags {
  output: string; mode: string; perChannel?: boolean; perTensor?: boolean; calibration?: string; method?: string; percentile: string;
  samples: string; symmetricActivations?: boolean; asymmetricWeights?: boolean; activationType: string; reduceRange?: boolean;
  opTypes?: string; excludeNodes?: string; excludeOpTypes?: string; keepIoTypes: boolean; blockOps?: string; blockSize: string;
  matmulNbits?: boolean; equalize?: boolean; smoothQuant?: string | boolean; gptq?: boolean; biasCorrection?: boolean; largeDepthwise?: string; placement?: string; recurrent?: string; halfWeights?: string; maxAccuracyDrop?: string; minCosine?: string; fallback?: string; dominantShare?: string;
  dim?: string[]; shape?: string[]; mean?: string; std?: string; scale?: string; layout?: string; json?: boolean; verbose?: boolean;
}

export const quantizeCommand: CliCommand = {
  name: 'quantize',
  register(program) {
    const cmd = program
      .command('quantize')
      .description('quantize a model: int8-dynamic, int8-static (QDQ, calibrated), fp16, int4 (weight-only)')
      .argument('<model>', 'the .onnx file')
      .requiredOption('-o, --output <file>', 'where to write the quantized model')
      .requiredOption('--mode <mode>', 'int8-dynamic | int8-static | fp16 | int4')
      .option('--per-channel', 'per-output-channel weight scales (default for int8-static, and for Conv in int8-dynamic)')
      .option('--per-tensor', 'one weight scale per tensor')
      .option('--calibration <dir>', "int8-static: folder of samples (.npy, .pb, images), or 'random' (not recommended)")
      .option('--method <method>', 'calibration: auto (the default: each of minmax, percentile and entropy, keeping the one nearest float) | minmax (fastest) | percentile | entropy | mse')
      .option('--percentile <p>', 'percentile calibration: share of |x| kept, in percent', '99.999')
      .option('--samples <n>', 'calibration samples to use at most', '200')
      .option('--symmetric-activations', 'symmetric activation ranges (default asymmetric)')
      .option('--asymmetric-weights', 'asymmetric weight ranges (default symmetric)')
      .option('--activation-type <t>', 'uint8 | int8 | uint16 | int16 (16-bit: opset 21, run in float by onnxruntime\'s CPU kernels)', 'uint8')
      .option('--reduce-range', '7-bit weights, for CPUs without VNNI')
      .option('--op-types <list>', 'only quantize these op types (int8-dynamic leaves Conv in float unless listed: ConvInteger is slower on CPU)')
      .option('--exclude-nodes <list>', 'keep these nodes in float')
      .option('--exclude-op-types <list>', 'keep these op types in float')
      .option('--no-keep-io-types', 'fp16: make graph inputs and outputs float16 too')
      .option('--block-ops <list>', 'fp16: op types kept in float32 (replaces the default list)')
      .option('--block-size <n>', 'int4: weights per block along K', '32')
      .option('--matmul-nbits', "int4: emit onnxruntime's com.microsoft.MatMulNBits instead of DequantizeLinear")
      .option('--equalize', 'int8-static: cross-layer equalization of Conv -> ReLU? -> Conv chains (exact in float)')
      .option('--smooth-quant [alpha]', 'int8-static: move MatMul/Gemm activation outliers into the weights (alpha, default 0.5)')
      .option('--gptq', 'int8-static: round weights to minimize each layer\'s output error on the calibration data')
      .option('--bias-correction', 'int8-static: correct biases for the mean shift weight rounding causes')
      .option('--placement <p>', "int8-static: cpu (Q/DQ only where onnxruntime's CPU kernels gain) | wasm (the same for onnxruntime-web's WebAssembly kernels) | full-integer (every supported op, for int8 accelerators)", 'cpu')
      .option('--half-weights <type>', 'int8 modes, int4: float16/bfloat16-stored weights (or a float16 model\'s) that stay float: as-stored (behind a Cast) | float32 | float16 (every weight left float, float32 ones too, as float16 behind a Cast: smaller, rounded)', 'as-stored')
      .option('--recurrent <how>', "int8 modes: LSTM/GRU/RNN weights: float | int8-weights (standard ONNX, dequantized each run: smaller, slower layer) | ort-lstm (onnxruntime's com.microsoft.DynamicQuantizeLSTM: smaller and faster, onnxruntime only)", 'float')
      .option('--large-depthwise <where>', 'int8-static: depthwise convolutions above 3x3 in float, or every depthwise convolution in integer: float | integer (default: integer unless its taps mostly fall on padding)')
      .option('--max-accuracy-drop <points>', 'return the fewest most sensitive nodes to float until top-1 agreement with float (on the calibration samples) falls at most this many points')
      .option('--min-cosine <c>', 'the same, until every output cosine to float is at least this')
      .option('--dominant-share <share>', 'int8-static without a tolerance: a quantization whose output error alone is at least this share of the int8 model\'s (measured on 4 calibration samples) goes back to float (or 16 bits with --fallback 16-bit); 0 turns it off (default 0.25)')
      .option('--fallback <kind>', 'what the tolerance or --dominant-share sends back: float (nodes, float weights) | 16-bit (activations, ranked by the output error each causes alone; weights stay 8-bit)', 'float')
      .option('--json', 'print one JSON object')
      .option('--verbose', 'also list the nodes whose shapes could not be inferred, and why');
    addImageFlags(addShapeFlags(cmd))
      .action(async (file: string, f: Flags) => {
        const model = loadModel(file);
        refuseOverwritingInputs({ file: f.output }, model);
        const mode = f.mode as QuantizeMode;
        if (!['int8-dynamic', 'int8-static', 'fp16', 'int4'].includes(mode)) throw new OnnxpressError('BAD_INPUT', `--mode '${f.mode}': expected int8-dynamic, int8-static, fp16 or int4`);
        if (mode === 'int8-static' && !f.calibration) throw new OnnxpressError('BAD_INPUT', 'int8-static needs calibration data (--calibration DIR, or --calibration random to accept random data)');
        const calibration = f.calibration ? await readCalibration(model, f) : undefined;
        // Quantization starts from the optimized graph: BatchNorm folded, constants visible.
        // Optimize measures the model as loaded, which is what "before" reports.
        const { before: loaded } = await optimizeModel(model);
        const before = { bytes: loaded.fileBytes, nodeCount: loaded.nodeCount };
        const report = await namingFlags({
          blockSize: '--block-size', matMulNBits: '--matmul-nbits', equalize: '--equalize', smoothQuant: '--smooth-quant', gptq: '--gptq', biasCorrection: '--bias-correction',
          maxAccuracyDrop: '--max-accuracy-drop', minCosine: '--min-cosine', calibration: '--calibration', recurrent: '--recurrent', dominantShare: '--dominant-share',
        }, () => quantizeModel(model, {
          mode,
          perChannel: f.perTensor ? false : f.perChannel ? true : undefined,
          calibration,
          method: f.method === undefined ? undefined : parseMethod(f.method),
          percentile: parseNumber('--percentile', f.percentile, { min: 50, max: 100 }),
          symmetricActivations: f.symmetricActivations,
          symmetricWeights: f.asymmetricWeights ? false : undefined,
          activationType: parseChoice('--activation-type', f.activationType, ['uint8', 'int8', 'uint16', 'int16'] as const),
          reduceRange: f.reduceRange,
          opTypes: parseList(f.opTypes),
          excludeNodes: parseList(f.excludeNodes),
          excludeOpTypes: parseList(f.excludeOpTypes),
          keepIoTypes: f.keepIoTypes,
          fp16BlockOps: parseList(f.blockOps),
          blockSize: parseNumber('--block-size', f.blockSize, { min: 16 }),
          matMulNBits: f.matmulNbits,
          equalize: f.equalize,
          smoothQuant: f.smoothQuant === undefined ? undefined : typeof f.smoothQuant === 'string' ? { alpha: parseNumber('--smooth-quant', f.smoothQuant, { min: 0, max: 1 }) } : f.smoothQuant,
          gptq: f.gptq,
          biasCorrection: f.biasCorrection,
          largeDepthwise: parseLargeDepthwise(f.largeDepthwise),
          placement: parseChoice('--placement', f.placement, ['cpu', 'wasm', 'full-integer'] as const),
          recurrent: parseChoice('--recurrent', f.recurrent, RECURRENT_CHOICES),
          halfWeights: parseChoice('--half-weights', f.halfWeights, ['as-stored', 'float32', 'float16'] as const),
          maxAccuracyDrop: f.maxAccuracyDrop === undefined ? undefined : parseNumber('--max-accuracy-drop', f.maxAccuracyDrop, { min: 0, max: 100 }),
          minCosine: f.minCosine === undefined ? undefined : parseNumber('--min-cosine', f.minCosine, { min: -1, max: 1 }),
          fallback: parseChoice('--fallback', f.fallback, ['float', '16-bit'] as const),
          dominantShare: f.dominantShare === undefined ? undefined : parseNumber('--dominant-share', f.dominantShare, { min: 0, max: 1 }),
        }));
        const saved = saveModel(model, f.output);
        const sizes: Sizes = { before, after: { bytes: saved.fileBytes + saved.externalBytes, nodeCount: nodeCount(model) } };
        // An int8 copy beside a float one the model still needs (a weight another If branch
        // or a float node reads) can outweigh what was saved: say so rather than let the size line pass unread.
        if (sizes.after.bytes > before.bytes) report.warnings.push(`the quantized model is larger than the input (${before.bytes} -> ${sizes.after.bytes} bytes): what was quantized does not pay for the scales and copies it adds`);
        for (const w of report.warnings) if (!f.json) process.stderr.write(`warning: ${w}\n`);
        if (f.json) { const { mode, ...rest } = report; printJson({ mode, ...sizes, ...rest }); }
        else process.stdout.write(render(report, sizes, f.output, f.verbose ?? false) + '\n');
      });
  },
};

function parseLargeDepthwise(v: string | undefined): 'integer' | 'float' | undefined {
  return parseChoice('--large-depthwise', v, ['integer', 'float'] as const);
}

function parseChoice<T extends string>(flag: string, v: string | undefined, choices: readonly T[]): T | undefined {
  if (v === undefined || (choices as readonly string[]).includes(v)) return v as T | undefined;
  throw new OnnxpressError('BAD_INPUT', `${flag} '${v}': expected ${choices.join(' or ')}`);
}

const METHODS = [...CALIBRATION_METHODS, 'auto'] as const;

function parseMethod(m: string): (typeof METHODS)[number] {
  if ((METHODS as readonly string[]).includes(m)) return m as (typeof METHODS)[number];
  throw new OnnxpressError('BAD_INPUT', `--method '${m}': expected ${METHODS.slice(0, -1).join(', ')} or ${METHODS.at(-1)}`);
}

async function readCalibration(model: Model, f: Flags): Promise<Sample[]> {
  const session = await openSession(model);
  const specs = session.inputs;
  await session.release();
  const limit = parseNumber('--samples', f.samples, { min: 1 });
  const shapes = shapeOptionsOf(f);
  if (f.calibration === 'random') {
    process.stderr.write('warning: calibrating on random data; ranges will not match real inputs\n');
    const samples = generateSamples(specs, Math.min(limit, 32), 1, shapes);
    printInputShapes(specs, samples, { origin: `${samples.length} generated calibration samples`, generatedWith: shapes });
    return samples;
  }
  const loaded = loadSamples(f.calibration!, specs, { limit, ...shapes, image: imageOptionsOf(f) });
  printInputShapes(specs, loaded.samples, { origin: `${loaded.samples.length} calibration samples from ${f.calibration}`, notes: loaded.notes });
  return loaded.samples;
}

/** Serialized bytes and node counts of the model as loaded and as written (with its external data). */
interface Sizes { before: { bytes: number; nodeCount: number }; after: { bytes: number; nodeCount: number } }

function nodeCount(model: Model): number {
  let n = 0;
  for (const g of model.graphs()) n += g.nodes.length;
  return n;
}

function render(r: QuantizeReport, s: Sizes, output: string, verbose: boolean): string {
  const lines = [
    `mode   ${r.mode}`,
    `size   ${formatBytes(s.before.bytes)} -> ${formatBytes(s.after.bytes)} (${(s.before.bytes / s.after.bytes).toFixed(2)}x smaller)`,
    `nodes  ${s.before.nodeCount} -> ${s.after.nodeCount}`,
    `quantized  ${Object.entries(r.quantized).map(([k, v]) => `${k} ${v}`).join(', ') || 'nothing'}`,
  ];
  for (const t of r.techniques ?? []) lines.push(`${t.name}: ${t.detail}`);
  for (const b of r.subgraphs ?? []) lines.push(`  inside If '${b.node}' ${b.branch} (${b.samples} calibration samples): ${Object.entries(b.quantized).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (r.leftInFloat.length) {
    lines.push(`left in float (${r.leftInFloat.length}):`);
    for (const l of r.leftInFloat.slice(0, 10)) lines.push(`  ${l.node} (${l.opType}): ${l.reason}`);
    if (r.leftInFloat.length > 10) lines.push(`  ... and ${r.leftInFloat.length - 10} more (--json lists all)`);
  }
  if (r.tolerance) {
    const t = r.tolerance;
    const changed = t.fallback === '16-bit' ? t.widened : t.returnedToFloat;
    lines.push(`${t.metric}  ${t.before.toFixed(4)} -> ${t.after.toFixed(4)} (${t.met ? 'meets' : 'misses'} the tolerance) with ${changed.length} ${t.fallback === '16-bit' ? 'tensor(s) widened to 16-bit' : 'node(s) returned to float'}${changed.length ? ': ' + changed.join(', ') : ''}`);
  }
  if (r.dominant?.returned.length) {
    const d = r.dominant;
    lines.push(`dominant error  sent back to ${d.fallback === '16-bit' ? '16-bit activations' : 'float'}: ${d.returned.map((x) => `${x.name} (${x.kind}: ${shareOfError(x.share)})`).join('; ')}; output error ${d.outputError.toExponential(2)} -> ${d.outputErrorAfter!.toExponential(2)} on ${d.samples} calibration samples${d.outputErrorWithTechniques === undefined ? '' : ` (${d.outputErrorWithTechniques.toExponential(2)} with the techniques)`} (--dominant-share 0 keeps them int8)`);
  }
  for (const k of r.dominant?.kept ?? []) lines.push(`dominant error  ${k.name} (${k.kind}: ${shareOfError(k.share)}) stays int8: ${k.why}`);
  if (r.shapeUnknown.length && !verbose) lines.push(`shapes unknown at ${r.shapeUnknown.length} nodes (--verbose lists them): layers after them may be missed`);
  if (verbose && r.shapeUnknown.length) {
    lines.push(`shapes unknown (${r.shapeUnknown.length}):`);
    for (const d of r.shapeUnknown) lines.push(`  ${d.node} (${d.opType}): ${d.reason}`);
  }
  lines.push(`wrote ${output}`);
  return lines.join('\n');
}
