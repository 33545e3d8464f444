// Every default-domain change this converter carries, by op and version. An op absent
// here did not change meaning between the versions it exists in (types were added,
// negative axes allowed, new attributes default to the old behaviour).
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
