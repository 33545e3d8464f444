// `onnxpress convert`: re-save a model, moving weights into or out of one external
// data file, and with `opset` raising its default-domain opset on the way.
import { loadModel } from './onnx/load.js';
import type { Model } from './ir/graph.js';
import { convertOpset, MAX_OPSET, type OpsetConversion } from './convert/opset/index.js';
import { saveModel, type SaveResult } from './onnx/save.js';
import { badOption } from './errors.js';
import { refuseOverwritingInputs } from './onnx/output-guard.js';

export interface ConvertOptions {
  /** Raise the default-domain opset to this version (no lowering). */
  opset?: number;
  /** Put weights in this file beside the output (a plain file name). */
  externalData?: string;
  /** With externalData: tensors smaller than this stay inline (default 1024 bytes). */
  sizeThresholdBytes?: number;
  /** Pack every weight back into the model file. */
  inline?: boolean;
}

export interface ConvertResult extends SaveResult {
  /** What the opset conversion did, when `opset` was asked for. */
  opset?: OpsetConversion;
}

export function convertModel(input: string, output: string, options: ConvertOptions = {}): ConvertResult {
  if (options.inline && options.externalData) throw badOption(['inline', 'externalData'], 'inline and externalData exclude each other');
  const model = loadModel(input);
  const externalData = options.inline ? false : options.externalData;
  refuseOverwritingInputs({ file: output, externalData }, model);
  // Converted before anything is written: a refusal leaves no output behind.
  const opset = raiseOpset(model, options.opset);
  return { ...saveModel(model, output, { externalData, sizeThresholdBytes: options.sizeThresholdBytes }), ...(opset && { opset }) };
}

function raiseOpset(model: Model, target: number | undefined): OpsetConversion | undefined {
  if (target === undefined) return undefined;
  if (!(Number.isInteger(target) && target >= 1 && target <= MAX_OPSET)) throw badOption(['opset'], `opset: expected an integer from 1 to ${MAX_OPSET}, got ${target}`);
  return convertOpset(model, target);
}
