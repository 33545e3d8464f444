// A tiny GPT-2-style decoder written as ONNX the way exporters write it (optimum /
// torch.onnx of GPT2LMHeadModel): token + position embeddings (Gather), Conv1D layers as
// Reshape -> Gemm -> Reshape with both targets computed from Shape -> Gather/Slice ->
// Unsqueeze -> Concat, heads split and merged the same way, a causal mask sliced out of a
// constant buffer at [key_len - query_len : key_len], softmax, tanh-GELU MLP, an LM head
// MatMul. Block 0 has its LayerNorms decomposed (opset < 17 exports), the others use
// LayerNormalization. With `kvCache`, past keys/values come in and presents go out.
// Weights come from a short deterministic training in TS on counting sequences.
//   npx tsx models/tiny-decoder.ts [OUT_DIR=models/build]
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DataType } from '../src/ir/dtype.js';
import { attr, type Model } from '../src/ir/graph.js';
import { Tensor } from '../src/ir/tensor.js';
import { saveModel } from '../src/onnx/save.js';
import { GraphBuilder } from './graph-builder.js';
import { GELU_C, LN_EPSILON, trainDecoder, type DecoderConfig, type DecoderParams, type Param } from './tiny-decoder-train.js';

export const TINY_DECODER: DecoderConfig = { vocab: 16, dModel: 64, heads: 4, layers: 2, maxPositions: 12 };
export const TINY_DECODER_DIR = 'models/build';
const OPSET = 17;
const F = DataType.FLOAT;

class DecoderWriter {
  readonly b: GraphBuilder;
  private k = 0;

  constructor(private readonly c: DecoderConfig, private readonly p: DecoderParams) {
    this.b = new GraphBuilder('tiny_decoder');
  }

  private w(q: Param, dims = [q.rows, q.cols]): string {
    return this.b.floats(q.name, q.rows === 1 ? [q.cols] : dims, q.data);
  }

  private ints(values: number[], dims?: number[]): string {
    return this.b.ints(`const_${this.k++}`, values, dims);
  }

  private unsqueeze0(x: string): string {
    return this.b.one('Unsqueeze', [x, this.ints([0])]);
  }

  private gatherDim(shape: string, index: number): string {
    return this.b.one('Gather', [shape, this.ints([index], [])], [attr.int('axis', 0)]);
  }

  /** GPT-2 Conv1D: x.view(-1, x.size(-1)) @ W + b, viewed back as x.size()[:-1] + (nf,). */
  conv1d(x: string, w: Param, bias: Param): string {
    const { b } = this;
    const shape = b.one('Shape', [x]);
    const sizeOut = b.one('Concat', [b.one('Slice', [shape, this.ints([0]), this.ints([-1])]), this.ints([w.cols])], [attr.int('axis', 0)]);
    const flat = b.one('Reshape', [x, b.one('Concat', [this.ints([-1]), this.unsqueeze0(this.gatherDim(shape, -1))], [attr.int('axis', 0)])]);
    const y = b.one('Gemm', [flat, this.w(w), this.w(bias)], [], `${w.name.replace(/\.weight$/, '')}.Gemm`);
    return b.one('Reshape', [y, sizeOut]);
  }

  layerNorm(x: string, g: Param, beta: Param, decomposed: boolean): string {
    const { b } = this;
    if (!decomposed) return b.one('LayerNormalization', [x, this.w(g), this.w(beta)], [attr.int('axis', -1), attr.float('epsilon', LN_EPSILON)]);
    const mean = b.one('ReduceMean', [x], [attr.ints('axes', [-1])]);
    const d = b.one('Sub', [x, mean]);
    const variance = b.one('ReduceMean', [b.one('Pow', [d, b.floats(`two_${this.k++}`, [], [2])])], [attr.ints('axes', [-1])]);
    const std = b.one('Sqrt', [b.one('Add', [variance, b.floats(`eps_${this.k++}`, [], [LN_EPSILON])])]);
    return b.one('Add', [b.one('Mul', [b.one('Div', [d, std]), this.w(g)]), this.w(beta)]);
  }

  /** [b, s, d] -> [b, heads, s, dh], the target shape from Shape(x)[:-1] + (heads, dh). */
  splitHeads(x: string): string {
    const { b } = this;
    const { heads, dModel } = this.c;
    const target = b.one('Concat', [b.one('Slice', [b.one('Shape', [x]), this.ints([0]), this.ints([-1])]), this.ints([heads, dModel / heads])], [attr.int('axis', 0)]);
    return b.one('Transpose', [b.one('Reshape', [x, target])], [attr.ints('perm', [0, 2, 1, 3])]);
  }

  mergeHeads(x: string): string {
    const { b } = this;
    const t = b.one('Transpose', [x], [attr.ints('perm', [0, 2, 1, 3])]);
    const target = b.one('Concat', [b.one('Slice', [b.one('Shape', [t]), this.ints([0]), this.ints([-2])]), this.ints([this.c.dModel])], [attr.int('axis', 0)]);
    return b.one('Reshape', [t, target]);
  }

  attention(x: string, l: number, bias: string, cache: boolean): string {
    const { b } = this;
    const blk = this.p.blocks[l]!;
    const d = this.c.dModel;
    const [q, k, v] = b.op('Split', [this.conv1d(x, blk.wqkv, blk.bqkv), this.ints([d, d, d])], [attr.int('axis', 2)], 3).map((t) => this.splitHeads(t));
    let [key, value] = [k!, v!];
    if (cache) {
      key = b.one('Concat', [b.input(`past_key_values.${l}.key`, F, this.pastDims()), key], [attr.int('axis', -2)], `present.${l}.key`);
      value = b.one('Concat', [b.input(`past_key_values.${l}.value`, F, this.pastDims()), value], [attr.int('axis', -2)], `present.${l}.value`);
      for (const o of [key, value]) b.output(o, F, ['batch_size', this.c.heads, 'past_sequence_length + sequence_length', d / this.c.heads]);
    }
    const scores = b.one('Div', [b.one('MatMul', [q!, b.one('Transpose', [key], [attr.ints('perm', [0, 1, 3, 2])])]), b.floats(`scale_${this.k++}`, [], [Math.sqrt(d / this.c.heads)])]);
    // causal_mask = bias[:, :, key_length - query_length : key_length, :key_length]
    const queryLength = this.gatherDim(b.one('Shape', [q!]), -2);
    const keyLength = this.gatherDim(b.one('Shape', [key]), -2);
    const rows = b.one('Slice', [bias, this.unsqueeze0(b.one('Sub', [keyLength, queryLength])), this.unsqueeze0(keyLength), this.ints([2]), this.ints([1])]);
    const mask = b.one('Slice', [rows, this.ints([0]), this.unsqueeze0(keyLength), this.ints([3]), this.ints([1])]);
    const masked = b.one('Where', [mask, scores, b.floats(`mask_value_${this.k++}`, [], [-3.4028234663852886e38])]);
    const context = b.one('MatMul', [b.one('Softmax', [masked], [attr.int('axis', -1)]), value]);
    return this.conv1d(this.mergeHeads(context), blk.wo, blk.bo);
  }

  /** gelu_new: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), as exported. */
  gelu(x: string): string {
    const { b } = this;
    const cube = b.one('Mul', [b.one('Pow', [x, b.floats(`three_${this.k++}`, [], [3])]), b.floats(`gelu_a_${this.k++}`, [], [0.044715])]);
    const t = b.one('Tanh', [b.one('Mul', [b.one('Add', [x, cube]), b.floats(`gelu_c_${this.k++}`, [], [GELU_C])])]);
    return b.one('Mul', [b.one('Mul', [x, b.floats(`half_${this.k++}`, [], [0.5])]), b.one('Add', [t, b.floats(`one_${this.k++}`, [], [1])])]);
  }

  pastDims() {
    return ['batch_size', this.c.heads, 'past_sequence_length', this.c.dModel / this.c.heads];
  }

  build(cache: boolean): Model {
    const { b, c, p } = this;
    const ids = b.input('input_ids', DataType.INT64, ['batch_size', 'sequence_length']);
    const seqLength = this.gatherDim(b.one('Shape', [ids]), 1);
    const pastLength = cache ? this.gatherDim(b.one('Shape', [`past_key_values.0.key`]), 2) : this.ints([0], []);
    const positions = this.unsqueeze0(b.one('Range', [pastLength, b.one('Add', [pastLength, seqLength]), this.ints([1], [])]));
    let h = b.one('Add', [b.one('Gather', [this.w(p.wte), ids]), b.one('Gather', [this.w(p.wpe), positions])]);
    const P = c.maxPositions;
    const lower = Uint8Array.from({ length: P * P }, (_, i) => Number(i % P <= Math.floor(i / P)));
    const bias = 'attn.bias';
    // The buffer is a Constant node, as torch.onnx writes registered buffers.
    b.one('Constant', [], [attr.tensor('value', Tensor.fromTyped(bias, DataType.BOOL, [1, 1, P, P], lower))], bias);
    for (let l = 0; l < c.layers; l++) {
      const blk = p.blocks[l]!;
      h = b.one('Add', [h, this.attention(this.layerNorm(h, blk.ln1g, blk.ln1b, l === 0), l, bias, cache)]);
      const mlp = this.conv1d(this.gelu(this.conv1d(this.layerNorm(h, blk.ln2g, blk.ln2b, l === 0), blk.w1, blk.b1)), blk.w2, blk.b2);
      h = b.one('Add', [h, mlp]);
    }
    const logits = b.one('MatMul', [this.layerNorm(h, p.lnfg, p.lnfb, false), this.w(p.lmHead)], [], 'logits');
    b.output(logits, F, ['batch_size', 'sequence_length', c.vocab]);
    return b.build(OPSET);
  }
}

export function tinyDecoderModel(params: DecoderParams, options: { kvCache?: boolean } = {}, config = TINY_DECODER): Model {
  return new DecoderWriter(config, params).build(options.kvCache ?? false);
}

export interface TinyDecoderFiles { plain: string; kvCache: string; accuracy: number }

/**
 * Trains (about 20 s on 2 cores) and writes tiny-decoder.onnx and tiny-decoder-kv.onnx,
 * unless both are there already. 120 Adam steps of 4 counting sequences.
 */
export function ensureTinyDecoder(dir = TINY_DECODER_DIR, log: (s: string) => void = () => {}): TinyDecoderFiles {
  const plain = join(dir, 'tiny-decoder.onnx');
  const kvCache = join(dir, 'tiny-decoder-kv.onnx');
  if (existsSync(plain) && existsSync(kvCache)) return { plain, kvCache, accuracy: NaN };
  mkdirSync(dir, { recursive: true });
  const { params, accuracy } = trainDecoder(TINY_DECODER, { steps: 120, batch: 4, lr: 5e-3, log });
  saveModel(tinyDecoderModel(params), plain);
  saveModel(tinyDecoderModel(params, { kvCache: true }), kvCache);
  log(`wrote ${plain} and ${kvCache} (next-token accuracy ${(100 * accuracy).toFixed(1)}% on fresh counting sequences)`);
  return { plain, kvCache, accuracy };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2] ?? TINY_DECODER_DIR;
  ensureTinyDecoder(dir, console.log);
}
