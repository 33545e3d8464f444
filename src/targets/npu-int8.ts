import { DataType } from '../ir/dtype.js';
import { NOT_LARGER, type TargetProfile } from './profile.js';

const PER_TENSOR = { mode: 'int8-static', placement: 'full-integer', perChannel: false, activationType: 'uint8', symmetricWeights: true } as const;

export const npuInt8: TargetProfile = {
  name: 'npu-int8',
  description: 'accelerators that take only int8 (NPUs, DSPs, Edge TPU class)',
  assumes: 'full-integer static QDQ: per-tensor scales, uint8 activations, symmetric int8 weights, every compute op fed by DequantizeLinear so a delegate can run the whole graph in integer; only the op list below is accepted; latency is measured on the CPU as a stand-in.',
  // Per tensor, weight rounding can break a model outright (the PP-OCR recognizer reads 0.7% of
  // characters) and bias correction repairs most of it (96.9%) for one pass over the
  // calibration data, yet it costs others a little: both are built and the verdict picks.
  recipes: [
    { name: 'int8-static-per-tensor', quantize: PER_TENSOR },
    { name: 'int8-static-per-tensor+bias-correction', quantize: { ...PER_TENSOR, biasCorrection: true } },
  ],
  bench: { backend: 'node', threads: 1 },
  objective: 'latency',
  allowedOps: ['QuantizeLinear', 'DequantizeLinear', 'Conv', 'ConvTranspose', 'MatMul', 'Gemm', 'Add', 'Mul', 'Relu', 'Clip', 'LeakyRelu', 'Sigmoid',
    'MaxPool', 'AveragePool', 'GlobalAveragePool', 'Concat', 'Reshape', 'Transpose', 'Flatten', 'Squeeze', 'Unsqueeze', 'Softmax', 'Resize', 'Pad',
    'Slice', 'Split', 'Sub', 'Div', 'Exp', 'Tanh', 'HardSwish', 'HardSigmoid'],
  allowedDtypes: [DataType.FLOAT, DataType.INT8, DataType.UINT8, DataType.INT32, DataType.INT64],
  fullInteger: true,
  // One scale per tensor and uint8 activations lose more than per-channel int8, and the
  // hardware leaves no alternative and no float fallback: 0.98 (about 20% relative error, see
  // INT8_QUALITY) still catches a broken model; the accuracy floor stays the MLPerf one.
  defaults: { minCosine: 0.98, maxAccuracyDrop: 1, ...NOT_LARGER },
  latencyNotJudged: 'latency is measured on the CPU as a stand-in: the float original cannot run on an int8-only accelerator, so "not slower than the original" cannot be judged here',
};
