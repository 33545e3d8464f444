// torchvision's ShuffleNet V2 x0.5 (Ma et al. 2018), written as torch.onnx.export writes it
// with a dynamic batch (opset 13): BatchNorm folded into each Conv, chunk(2) as Split, and
// channel_shuffle's `b, c, h, w = x.size(); x.view(b, g, c // g, h, w)` as Shape -> Gather ->
// Div -> Unsqueeze -> Concat, so its Reshape targets are built at run time. The weights are
// seeded (He-scaled), not trained: the graph is for what passes and int8 placement do with
// this architecture, not for accuracy. npx tsx models/shufflenet-v2.ts [out.onnx]
import { writeFileSync } from 'node:fs';
import { DataType } from '../src/ir/dtype.js';
import { attr, type Model } from '../src/ir/graph.js';
import { serializeModel } from '../src/onnx/save.js';
import { seededRandom } from '../src/runtime/samples.js';
import { GraphBuilder } from './graph-builder.js';

const STAGE_OUT = [24, 48, 96, 192, 1024];
const STAGE_REPEATS = [4, 8, 4];

export function buildShuffleNetV2(seed = 11, classes = 1000): Model {
  const b = new GraphBuilder('shufflenet_v2_x0_5');
  const rand = seededRandom(seed);
  let k = 0;
  const conv = (x: string, cin: number, cout: number, kernel: number, stride: number, groups = 1, relu = true) => {
    const fanIn = (cin / groups) * kernel * kernel;
    const bound = Math.sqrt(6 / fanIn);
    const w = b.floats(`conv${k}.weight`, [cout, cin / groups, kernel, kernel], Array.from({ length: cout * fanIn }, () => (rand() * 2 - 1) * bound));
    const bias = b.floats(`conv${k}.bias`, [cout], Array.from({ length: cout }, () => (rand() - 0.5) * 0.2));
    k++;
    const pad = (kernel - 1) >> 1;
    const y = b.one('Conv', [x, w, bias], [attr.ints('kernel_shape', [kernel, kernel]), attr.ints('strides', [stride, stride]), attr.ints('pads', [pad, pad, pad, pad]), attr.int('group', groups)]);
    return relu ? b.one('Relu', [y]) : y;
  };
  const ax0 = b.ints('axes0', [0]);
  const size = (shape: string, i: number) => b.one('Gather', [shape, b.ints(`dim${i}_${k}`, [i], [])], [attr.int('axis', 0)]);
  const shuffle = (x: string) => {
    const shape = b.one('Shape', [x]);
    const [n, c, h, w] = [0, 1, 2, 3].map((i) => size(shape, i));
    const perGroup = b.one('Div', [c, b.ints(`groups_${k}`, [2], [])]);
    const unsq = (v: string) => b.one('Unsqueeze', [v, ax0]);
    const split = b.one('Reshape', [x, b.one('Concat', [unsq(n), b.ints(`g_${k}`, [2]), unsq(perGroup), unsq(h), unsq(w)], [attr.int('axis', 0)])]);
    const t = b.one('Transpose', [split], [attr.ints('perm', [0, 2, 1, 3, 4])]);
    return b.one('Reshape', [t, b.one('Concat', [unsq(n), b.ints(`minus1_${k}`, [-1]), unsq(h), unsq(w)], [attr.int('axis', 0)])]);
  };
  const block = (x: string, cin: number, cout: number, stride: number) => {
    const half = cout / 2;
    let left: string, right: string;
    if (stride === 1) {
      [left, right] = b.op('Split', [x, b.ints(`split_${k}`, [half, half])], [attr.int('axis', 1)], 2);
      right = conv(right!, half, half, 1, 1);
    } else {
      left = conv(conv(x, cin, cin, 3, 2, cin, false), cin, half, 1, 1);
      right = conv(x, cin, half, 1, 1);
    }
    right = conv(conv(right!, half, half, 3, stride, half, false), half, half, 1, 1);
    return shuffle(b.one('Concat', [left!, right], [attr.int('axis', 1)]));
  };

  let x = conv(b.input('input', DataType.FLOAT, ['batch', 3, 224, 224]), 3, STAGE_OUT[0]!, 3, 2);
  x = b.one('MaxPool', [x], [attr.ints('kernel_shape', [3, 3]), attr.ints('strides', [2, 2]), attr.ints('pads', [1, 1, 1, 1])]);
  let cin = STAGE_OUT[0]!;
  STAGE_REPEATS.forEach((repeats, s) => {
    const cout = STAGE_OUT[s + 1]!;
    for (let r = 0; r < repeats; r++) x = block(x, r === 0 ? cin : cout, cout, r === 0 ? 2 : 1);
    cin = cout;
  });
  x = conv(x, cin, STAGE_OUT[4]!, 1, 1);
  x = b.one('ReduceMean', [x], [attr.ints('axes', [2, 3]), attr.int('keepdims', 0)]);
  const fcBound = Math.sqrt(1 / STAGE_OUT[4]!);
  const fcW = b.floats('fc.weight', [classes, STAGE_OUT[4]!], Array.from({ length: classes * STAGE_OUT[4]! }, () => (rand() * 2 - 1) * fcBound));
  const fcB = b.floats('fc.bias', [classes], Array.from({ length: classes }, () => (rand() - 0.5) * 0.02));
  b.output(b.one('Gemm', [x, fcW, fcB], [attr.int('transB', 1)], 'logits'), DataType.FLOAT, ['batch', classes]);
  return b.build(13);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2] ?? 'models/build/shufflenet-v2.onnx';
  writeFileSync(out, serializeModel(buildShuffleNetV2()));
  console.log(`wrote ${out}`);
}
