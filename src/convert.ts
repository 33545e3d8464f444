// `onnxpress convert`: re-save a model, moving weights into or out of one external
// data file. Nothing else changes: no opset upgrade, no graph edit.
import { loadModel } from './onnx/load.js';
import { saveModel, type SaveResult } from './onnx/save.js';
import { badOption } from './errors.js';
import { refuseOverwritingInputs } from './onnx/output-guard.js';

export interface ConvertOptions {
  /** Put weights in this file beside the output (a plain file name). */
  externalData?: string;
  /** With externalData: tensors smaller than this stay inline (default 1024 bytes). */
  sizeThresholdBytes?: number;
  /** Pack every weight back into the model file. */
  inline?: boolean;
}

export function convertModel(input: string, output: string, options: ConvertOptions = {}): SaveResult {
  if (options.inline && options.externalData) throw badOption(['inline', 'externalData'], 'inline and externalData exclude each other');
  const model = loadModel(input);
  const externalData = options.inline ? false : options.externalData;
  refuseOverwritingInputs({ file: output, externalData }, model);
  return saveModel(model, output, { externalData, sizeThresholdBytes: options.sizeThresholdBytes });
}
