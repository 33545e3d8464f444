// The pass registry: every pass by name, and the default pipeline (safe for every
// runtime, standard ONNX only). `onnxpress passes` prints this list.
import type { Pass } from '../src/pass/pass.js';
import { constantToInitializer } from './constant-to-initializer.js';
import { dedupeInitializers } from './dedupe-initializers.js';
import { eliminateCommonSubexpressions } from './eliminate-common-subexpressions.js';
import { eliminateDeadNodes } from './eliminate-dead-nodes.js';
import { eliminateIdentity } from './eliminate-identity.js';
import { eliminateNoopOps } from './eliminate-noop-ops.js';
import { foldConstants } from './fold-constants.js';
import { fuseAddIntoConv } from './fuse-add-into-conv.js';
import { fuseBnIntoConv } from './fuse-bn-into-conv.js';
import { fuseConsecutiveReshapes } from './fuse-consecutive-reshapes.js';
import { fuseConsecutiveTransposes } from './fuse-consecutive-transposes.js';
import { fuseMatmulAddIntoGemm } from './fuse-matmul-add-into-gemm.js';
import { fuseMulIntoConv } from './fuse-mul-into-conv.js';
import { fusePadIntoConv } from './fuse-pad-into-conv.js';
import { fuseTransposeIntoGemm } from './fuse-transpose-into-gemm.js';
import { fuseShapeIntoReshape } from './fuse-shape-into-reshape.js';
import { fuseLayerNorm } from './fuse-layer-norm.js';
import { fuseGelu } from './fuse-gelu.js';
import { fuseHardSigmoid } from './fuse-hard-sigmoid.js';
import { inferShapesPass } from './infer-shapes.js';
import { removeInitializerInputs } from './remove-initializer-inputs.js';
import { channelShuffleToGather } from './channel-shuffle-to-gather.js';
import { sumToAdd } from './sum-to-add.js';

export type { Pass, PassContext, PassResult } from '../src/pass/pass.js';

/** Every pass, in default-pipeline order; passes not in the default list come last. */
export const allPasses: Pass[] = [
  removeInitializerInputs,
  constantToInitializer,
  eliminateIdentity,
  eliminateNoopOps,
  foldConstants,
  fuseBnIntoConv,
  fuseAddIntoConv,
  fuseMulIntoConv,
  fuseMatmulAddIntoGemm,
  fuseTransposeIntoGemm,
  fuseConsecutiveTransposes,
  fuseConsecutiveReshapes,
  fusePadIntoConv,
  fuseShapeIntoReshape,
  channelShuffleToGather,
  sumToAdd,
  fuseLayerNorm,
  fuseGelu,
  fuseHardSigmoid,
  eliminateCommonSubexpressions,
  dedupeInitializers,
  eliminateDeadNodes,
  inferShapesPass,
];

/**
 * Passes run only when named: fuse-hard-sigmoid speeds float PP-OCR up 1.09-1.29x, but ahead
 * of int8-static it cost the recognizer 1.3 points of characters and the classifier its lead
 * over float (measured, see the pass), since the decomposed form lets x + 3 run integer.
 */
export const OPT_IN_PASSES = ['infer-shapes', 'fuse-hard-sigmoid'];

/** Passes run when the user names none. */
export const defaultPipeline: string[] = allPasses.map((p) => p.name).filter((n) => !OPT_IN_PASSES.includes(n));

export function findPass(name: string): Pass | undefined {
  return allPasses.find((p) => p.name === name);
}
