// The public API. The CLI (src/cli.ts) is a thin shell over these functions.
export { loadModel, loadModelFromBytes, type LoadOptions } from './onnx/load.js';
export { saveModel, serializeModel, type SaveOptions, type SaveResult } from './onnx/save.js';
export { Model, Graph, Node, attr, shapeOf, elemTypeOf, tensorType, type Attribute, type ValueInfo, type Dim } from './ir/graph.js';
export { Tensor } from './ir/tensor.js';
export { DataType, dataTypeName } from './ir/dtype.js';
export { OnnxpressError } from './errors.js';
export { cloneModel } from './onnx/clone.js';
export { inspectModel, type InspectReport } from './inspect.js';
export { convertModel, type ConvertOptions } from './convert.js';
export { optimizeModel, type OptimizeOptions, type OptimizeReport } from './optimize.js';
export { allPasses, defaultPipeline } from '../passes/index.js';
export { quantizeModel, type QuantizeOptions, type QuantizeReport } from './quantize/index.js';
export { loadSamples, generateSamples, loadLabels, type Sample, type InputSpec } from './runtime/samples.js';
export { benchModels, type BenchReport, type BenchOptions } from './measure/bench.js';
export { evalModels, perTensorErrors, type EvalReport, type EvalOptions } from './measure/eval.js';
