import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import type { CliCommand } from './command.js';
import { printJson } from './command.js';
import { parseNumber } from './parse.js';
import { addDataFlags, readData, type DataFlags } from './data-flags.js';
import { OnnxpressError } from '../errors.js';
import { loadModel } from '../onnx/load.js';
import { saveModel } from '../onnx/save.js';
import { refuseOverwritingInputs } from '../onnx/output-guard.js';
import { compressModel } from '../compress.js';
import { gateModels } from '../gate.js';
import { findTarget, targets } from '../targets/index.js';
import { parseTolerances, TOLERANCE_KEYS, type Tolerances } from '../verdict.js';
import { renderJunit } from '../report/junit.js';
import { renderMarkdown } from '../report/markdown.js';
import { writeFileAtomic, writeReports } from '../report/write.js';
import { renderText } from '../report/text.js';
import { gateFromLock, lockedDataSpec, writeLockBeside } from './lock-flags.js';

type ToleranceFlags = { [K in keyof Tolerances]?: string };
type Flags = DataFlags & ToleranceFlags & { output?: string; target?: string; config?: string; report?: string; runs?: string; json?: boolean; junit?: string; markdown?: string; fallback?: boolean; lock?: string | boolean };

const kebab = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

function addToleranceFlags(cmd: Command): Command {
  const help: Record<keyof Tolerances, string> = {
    maxAccuracyDrop: 'top-1 may fall at most this many points (needs labels)', minCosine: 'every output cosine to the original at least this',
    minTop1Agreement: 'classifier top-1 agreement at least this share (0-1)', maxSizeBytes: 'compressed size at most this many bytes',
    maxSizeRatio: 'compressed/original size at most this', maxLatencyMs: 'median latency at most this (ms)', maxLatencyRatio: 'compressed/original median latency at most this (CPU targets default to 1: never surely slower)',
    maxClassDrop: 'no class may lose more than this many points of recall (needs labels)', minMacroF1Ratio: 'compressed/original macro F1 at least this (needs labels)',
    maxSliceDrop: 'no slice (--slices) may lose more than this many points of top-1', maxClipRate: 'no quantized activation saturated on more than this share of its values (0-1, QDQ models)',
  };
  for (const k of TOLERANCE_KEYS) cmd.option(`--${kebab(k)} <n>`, help[k]);
  return cmd;
}

/** The config file (JSON) and flags; flags win. Paths in the file are relative to it. */
function readConfig(f: Flags): { config: Record<string, unknown>; base: string } {
  if (!f.config) return { config: {}, base: process.cwd() };
  let config: unknown;
  try {
    config = JSON.parse(readFileSync(f.config, 'utf8'));
  } catch (err) {
    throw new OnnxpressError('BAD_INPUT', `${f.config}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : 'not valid JSON'}`);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new OnnxpressError('BAD_INPUT', `${f.config}: expected a JSON object`);
  const known = ['$schema', 'model', 'candidate', 'output', 'target', 'data', 'labels', 'tolerances'];
  const unknown = Object.keys(config).find((k) => !known.includes(k));
  if (unknown) throw new OnnxpressError('BAD_INPUT', `${f.config}: unknown key '${unknown}' (see schema/onnxpress.gate.schema.json)`);
  return { config: config as Record<string, unknown>, base: dirname(resolve(f.config)) };
}

function tolerancesOf(f: Flags, config: Record<string, unknown>, where: string): Tolerances {
  const t = parseTolerances(config.tolerances, where);
  for (const k of TOLERANCE_KEYS) if (f[k] !== undefined) t[k] = parseNumber(`--${kebab(k)}`, f[k]!);
  return t;
}

function str(config: Record<string, unknown>, key: string, base: string, isPath = true): string | undefined {
  const v = config[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new OnnxpressError('BAD_INPUT', `config: '${key}' must be a string`);
  return isPath ? resolve(base, v) : v;
}

export const compressCommand: CliCommand = {
  name: 'compress',
  register(program, setExitCode) {
    const cmd = program
      .command('compress')
      .description('compress a model for an edge target and judge it against tolerances (exit 1 on FAIL)')
      .argument('[model]', 'the .onnx file (or "model" in --config)')
      .option('-o, --output <file>', 'where to write the compressed model')
      .option('--target <profile>', `${targets.map((t) => t.name).join(' | ')}`)
      .option('--config <file>', 'JSON config: target, tolerances, data, labels (schema/onnxpress.gate.schema.json)')
      .option('--report <dir>', 'write report.json, report.md and report.html here')
      .option('--runs <n>', 'timed runs per model (more for sub-millisecond models)', '30')
      .option('--no-fallback', 'do not return sensitive nodes to float when the tolerances fail')
      .option('--no-lock', `do not write onnxpress.lock.json beside the output (for \`onnxpress verify\`)`)
      .option('--json', 'print the report as one JSON object');
    addToleranceFlags(addDataFlags(cmd, '1000'))
      .action(async (modelArg: string | undefined, f: Flags) => {
        const { config, base } = readConfig(f);
        const modelFile = modelArg ?? str(config, 'model', base);
        const target = f.target ?? str(config, 'target', base, false);
        const output = f.output ?? str(config, 'output', base);
        if (!modelFile) throw new OnnxpressError('BAD_INPUT', 'no model given (argument or "model" in --config)');
        if (!target) throw new OnnxpressError('BAD_INPUT', `no --target given (${targets.map((t) => t.name).join(', ')})`);
        if (!output) throw new OnnxpressError('BAD_INPUT', 'no --output given');
        findTarget(target); // a typo fails before any data is read
        const tolerances = tolerancesOf(f, config, f.config ?? 'flags');
        const original = loadModel(modelFile);
        refuseOverwritingInputs({ file: output }, original);
        const data = await readData(original, { ...f, data: f.data ?? str(config, 'data', base), labels: f.labels ?? str(config, 'labels', base) });
        const result = await compressModel(original, modelFile, {
          target, tolerances, data, benchRuns: parseNumber('--runs', f.runs ?? '30', { min: 5 }), fallback: f.fallback,
          log: f.json ? undefined : (s) => process.stderr.write(`${s}\n`),
        });
        const { report, model } = result;
        const saved = model ? saveModel(model, output) : undefined;
        // The lock: what this run read, chose and wrote, so `onnxpress verify` can reproduce it.
        const lockFile = saved && f.lock !== false ? writeLockBeside(output, {
          original, output: saved, result,
          options: { target, tolerances, data: lockedDataSpec(f, f.data ?? str(config, 'data', base), data), benchRuns: parseNumber('--runs', f.runs ?? '30', { min: 5 }), fallback: f.fallback !== false },
        }) : undefined;
        if (f.report) writeReports(f.report, report);
        if (f.json) printJson(report);
        else process.stdout.write(`${renderText(report)}\nwrote ${output}${lockFile ? `, ${lockFile}` : ''}${f.report ? ` and reports in ${f.report}` : ''}\n`);
        setExitCode(report.verdict.pass ? 0 : 1);
      });
  },
};

export const gateCommand: CliCommand = {
  name: 'gate',
  register(program, setExitCode) {
    const cmd = program
      .command('gate')
      .description('check a compressed model against its original and tolerances, for CI (exit 0 PASS, 1 FAIL)')
      .argument('[original]', 'the original .onnx (or "model" in --config)')
      .argument('[candidate]', 'the compressed .onnx (or "candidate" in --config)')
      .option('--config <file>', 'JSON config (schema/onnxpress.gate.schema.json)')
      .option('--target <profile>', 'also check the op/dtype list of this profile')
      .option('--lock <file>', 'take original, candidate, data, target and tolerances from an onnxpress.lock.json')
      .option('--runs <n>', 'timed runs per model (more for sub-millisecond models)', '30')
      .option('--junit <file>', 'write a JUnit XML report (one test per tolerance)')
      .option('--markdown <file>', 'write a Markdown summary for a pull-request comment')
      .option('--report <dir>', 'write report.json, report.md and report.html here')
      .option('--json', 'print the report as one JSON object');
    addToleranceFlags(addDataFlags(cmd, '1000'))
      .action(async (origArg: string | undefined, candArg: string | undefined, f: Flags) => {
        if (typeof f.lock === 'string') return gateFromLock(f.lock, { ...f, extra: Boolean(origArg ?? candArg ?? f.config) }, setExitCode);
        const { config, base } = readConfig(f);
        const origFile = origArg ?? str(config, 'model', base);
        const candFile = candArg ?? str(config, 'candidate', base);
        if (!origFile || !candFile) throw new OnnxpressError('BAD_INPUT', 'gate needs the original and the compressed model (arguments, or "model" and "candidate" in --config)');
        const tolerances = tolerancesOf(f, config, f.config ?? 'flags');
        const target = f.target ?? str(config, 'target', base, false);
        // A target brings default tolerances; without one there would be nothing to check.
        if (Object.keys(tolerances).length === 0 && !target) throw new OnnxpressError('BAD_INPUT', 'no tolerances given and no --target to supply defaults: a gate with nothing to check would always pass');
        const original = loadModel(origFile);
        const candidate = loadModel(candFile);
        for (const file of [f.junit, f.markdown]) if (file) refuseOverwritingInputs({ file, externalData: false }, [original, candidate]);
        const data = await readData(original, { ...f, data: f.data ?? str(config, 'data', base), labels: f.labels ?? str(config, 'labels', base) });
        const report = await gateModels(original, origFile, candidate, candFile, { tolerances, data, target, benchRuns: parseNumber('--runs', f.runs ?? '30', { min: 5 }) });
        if (f.junit) writeFileAtomic(f.junit, renderJunit(`onnxpress gate ${candFile}`, report.verdict));
        if (f.markdown) writeFileAtomic(f.markdown, renderMarkdown(report));
        if (f.report) writeReports(f.report, report);
        if (f.json) printJson(report);
        else process.stdout.write(renderText(report) + '\n');
        setExitCode(report.verdict.pass ? 0 : 1);
      });
  },
};
