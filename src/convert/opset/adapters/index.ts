// Every default-domain change this converter carries, by op and version. An op absent
// here did not change meaning between the versions it exists in: types were added,
// negative axes allowed, or a new attribute or input defaults to the old behaviour
// (AveragePool count_include_pad 7, ceil_mode 10, dilations 19; MaxPool Indices 8,
// dilations 10; Concat, Flatten, Gather negative axes 11; Gemm optional C 11; TopK
// largest/sorted 11; DepthToSpace mode 11; ArgMax/ArgMin select_last_index 12; GatherND
// batch_dims 12; QuantizeLinear/DequantizeLinear axis 13 (scales were scalars before);
// Reshape allowzero 14; RNN/GRU/LSTM layout 14; Shape start/end 15; Scatter* reduction
// 16; Pad axes 18; Resize antialias/axes/keep_aspect_ratio_policy 18; Cast saturate 19,
// which only float8 targets read; DequantizeLinear block_size 21).
import type { Adapter } from '../adapter.js';
import { attrsToInputs } from './attrs-to-inputs.js';
import { batchNormAdapters } from './batch-norm.js';
import { clipAndPad } from './clip-pad.js';
import { dropoutAdapters } from './dropout.js';
import { experimentalAdapters } from './experimental.js';
import { laterAdapters } from './later.js';
import { legacyAdapters } from './legacy.js';
import { resizeAdapters } from './resize.js';
import { softmaxAdapters } from './softmax.js';

export const ADAPTERS: Adapter[] = [
  ...legacyAdapters, ...attrsToInputs, ...clipAndPad, ...resizeAdapters, ...softmaxAdapters,
  ...batchNormAdapters, ...dropoutAdapters, ...laterAdapters, ...experimentalAdapters,
];
