import type { CliCommand } from './command.js';
import { printJson } from './command.js';
import { parseList, parseNumber } from './parse.js';
import { OnnxpressError } from '../errors.js';
import { loadModel } from '../onnx/load.js';
import { saveModel } from '../onnx/save.js';
import { openSession } from '../runtime/ort.js';
import { generateSamples, loadSamples, parseDimOverrides, type Sample } from '../runtime/samples.js';
import { addImageFlags, imageOptionsOf } from './data-flags.js';
import { quantizeModel, type QuantizeMode, type QuantizeReport } from '../quantize/index.js';
import type { Model } from '../ir/graph.js';
import { formatBytes } from '../inspect.js';

interface Flags {
  output: string; mode: string; perChannel?: boolean; perTensor?: boolean; calibration?: string; method: string; percentile: string;
  samples: string; symmetricActivations?: boolean; asymmetricWeights?: boolean; activationType: string; reduceRange?: boolean;
  opTypes?: string; excludeNodes?: string; excludeOpTypes?: string; keepIoTypes: boolean; blockOps?: string; blockSize: string;
  matmulNbits?: boolean; dim?: string[]; mean?: string; std?: string; scale?: string; layout?: string; json?: boolean; verbose?: boolean;
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
      .option('--per-channel', 'per-output-channel weight scales (default for int8-static)')
      .option('--per-tensor', 'one weight scale per tensor')
      .option('--calibration <dir>', "int8-static: folder of samples (.npy, .pb, images), or 'random' (not recommended)")
      .option('--method <method>', 'calibration: minmax | percentile | entropy', 'minmax')
      .option('--percentile <p>', 'percentile calibration: share of |x| kept, in percent', '99.999')
      .option('--samples <n>', 'calibration samples to use at most', '200')
      .option('--symmetric-activations', 'symmetric activation ranges (default asymmetric)')
      .option('--asymmetric-weights', 'asymmetric weight ranges (default symmetric)')
      .option('--activation-type <t>', 'uint8 | int8', 'uint8')
      .option('--reduce-range', '7-bit weights, for CPUs without VNNI')
      .option('--op-types <list>', 'only quantize these op types (int8-dynamic leaves Conv in float unless listed: ConvInteger is slower on CPU)')
      .option('--exclude-nodes <list>', 'keep these nodes in float')
      .option('--exclude-op-types <list>', 'keep these op types in float')
      .option('--no-keep-io-types', 'fp16: make graph inputs and outputs float16 too')
      .option('--block-ops <list>', 'fp16: op types kept in float32 (replaces the default list)')
      .option('--block-size <n>', 'int4: weights per block along K', '32')
      .option('--matmul-nbits', "int4: emit onnxruntime's com.microsoft.MatMulNBits instead of DequantizeLinear")
      .option('--dim <name=size...>', 'sizes for symbolic dims (e.g. batch=1) when reading or generating samples')
      .option('--json', 'print one JSON object')
      .option('--verbose', 'also list the nodes whose shapes could not be inferred, and why');
    addImageFlags(cmd)
      .action(async (file: string, f: Flags) => {
        const model = loadModel(file);
        const mode = f.mode as QuantizeMode;
        if (!['int8-dynamic', 'int8-static', 'fp16', 'int4'].includes(mode)) throw new OnnxpressError('BAD_INPUT', `--mode '${f.mode}': expected int8-dynamic, int8-static, fp16 or int4`);
        const calibration = f.calibration ? await readCalibration(model, f) : undefined;
        const report = await quantizeModel(model, {
          mode,
          perChannel: f.perTensor ? false : f.perChannel ? true : undefined,
          calibration,
          method: parseMethod(f.method),
          percentile: parseNumber('--percentile', f.percentile, { min: 50, max: 100 }),
          symmetricActivations: f.symmetricActivations,
          symmetricWeights: f.asymmetricWeights ? false : undefined,
          activationType: f.activationType === 'int8' ? 'int8' : 'uint8',
          reduceRange: f.reduceRange,
          opTypes: parseList(f.opTypes),
          excludeNodes: parseList(f.excludeNodes),
          excludeOpTypes: parseList(f.excludeOpTypes),
          keepIoTypes: f.keepIoTypes,
          fp16BlockOps: parseList(f.blockOps),
          blockSize: parseNumber('--block-size', f.blockSize, { min: 16 }),
          matMulNBits: f.matmulNbits,
        });
        saveModel(model, f.output);
        for (const w of report.warnings) if (!f.json) process.stderr.write(`warning: ${w}\n`);
        if (f.json) printJson(report);
        else process.stdout.write(render(report, f.output, f.verbose ?? false) + '\n');
      });
  },
};

function parseMethod(m: string): 'minmax' | 'percentile' | 'entropy' {
  if (m === 'minmax' || m === 'percentile' || m === 'entropy') return m;
  throw new OnnxpressError('BAD_INPUT', `--method '${m}': expected minmax, percentile or entropy`);
}

async function readCalibration(model: Model, f: Flags): Promise<Sample[]> {
  const session = await openSession(model);
  const specs = session.inputs;
  await session.release();
  const limit = parseNumber('--samples', f.samples, { min: 1 });
  const dims = parseDimOverrides(f.dim);
  if (f.calibration === 'random') {
    process.stderr.write('warning: calibrating on random data; ranges will not match real inputs\n');
    return generateSamples(specs, Math.min(limit, 32), 1, { dimOverrides: dims });
  }
  return loadSamples(f.calibration!, specs, { limit, dimOverrides: dims, image: imageOptionsOf(f) }).samples;
}

function render(r: QuantizeReport, output: string, verbose: boolean): string {
  const lines = [
    `mode   ${r.mode}`,
    `size   ${formatBytes(r.before.bytes)} -> ${formatBytes(r.after.bytes)} (${(r.before.bytes / r.after.bytes).toFixed(2)}x smaller)`,
    `nodes  ${r.before.nodeCount} -> ${r.after.nodeCount}`,
    `quantized  ${Object.entries(r.quantized).map(([k, v]) => `${k} ${v}`).join(', ') || 'nothing'}`,
  ];
  if (r.leftInFloat.length) {
    lines.push(`left in float (${r.leftInFloat.length}):`);
    for (const l of r.leftInFloat.slice(0, 10)) lines.push(`  ${l.node} (${l.opType}): ${l.reason}`);
    if (r.leftInFloat.length > 10) lines.push(`  ... and ${r.leftInFloat.length - 10} more (--json lists all)`);
  }
  if (r.shapeUnknown.length && !verbose) lines.push(`shapes unknown at ${r.shapeUnknown.length} nodes (--verbose lists them): layers after them may be missed`);
  if (verbose && r.shapeUnknown.length) {
    lines.push(`shapes unknown (${r.shapeUnknown.length}):`);
    for (const d of r.shapeUnknown) lines.push(`  ${d.node} (${d.opType}): ${d.reason}`);
  }
  lines.push(`wrote ${output}`);
  return lines.join('\n');
}
