// int4 weight-only quantization of MatMul weights, block-wise along K: standard
// DequantizeLinear with int4/uint4 weights and a block_size (opset 21), or onnxruntime's
// com.microsoft.MatMulNBits behind an option. Activations stay float. Subgraph bodies are
// quantized as the main graph is.
import { Node, attr, type Graph, type Model } from '../ir/graph.js';
import { DataType } from '../ir/dtype.js';
import { NameAllocator, addInitializer, insertNodes, setInput, setInputs } from '../ir/mutate.js';
import { Tensor, packInt4 } from '../ir/tensor.js';
import { upgradeOpset } from '../ir/upgrade-opset.js';
import { OnnxpressError, badOption } from '../errors.js';
import type { LeftInFloat, QuantizeOptions } from './options.js';
import { quantizeEveryGraph } from './subgraphs.js';

export function quantizeInt4(model: Model, o: QuantizeOptions, left: LeftInFloat[], warnings: string[]): Record<string, number> {
  const blockSize = o.blockSize ?? 32;
  if (!(blockSize >= 16 && (blockSize & (blockSize - 1)) === 0)) throw badOption(['blockSize'], `blockSize ${blockSize}: expected a power of two, at least 16`);
  const symmetric = o.symmetricWeights ?? true;
  if (o.matMulNBits) {
    if (!model.opsetImport.some((x) => x.domain === 'com.microsoft')) model.opsetImport.push({ domain: 'com.microsoft', version: 1 });
  } else {
    const r = upgradeOpset(model, 21);
    if (!r.ok) throw new OnnxpressError('UNSUPPORTED', `int4 DequantizeLinear needs opset 21 and this model cannot be raised safely (${r.reason}); try matMulNBits`, { fields: ['matMulNBits'] });
    if (r.from < 21) warnings.push(`opset raised from ${r.from} to 21 for block-wise DequantizeLinear`);
    model.irVersion = Math.max(model.irVersion, 10);
  }
  const counts: Record<string, number> = {};
  // Bodies too (If branches, Loop and Scan bodies): a weight read in several graphs is stored once.
  quantizeEveryGraph(model, (g) => quantizeGraph(g, o, blockSize, symmetric, left, counts));
  return counts;
}

function quantizeGraph(g: Graph, o: QuantizeOptions, blockSize: number, symmetric: boolean, left: LeftInFloat[], counts: Record<string, number>): void {
  const names = new NameAllocator(g);
  const newNodes: Node[] = [];
  for (const node of [...g.nodes]) {
    if (!node.isOnnx() || (node.opType !== 'MatMul' && node.opType !== 'Gemm')) continue;
    const name = node.name || node.outputs[0]!;
    const opType = node.opType; // counted by what it was: MatMulNBits rewrites it
    if (o.excludeNodes?.includes(name)) { left.push({ node: name, opType: node.opType, reason: 'excluded' }); continue; }
    const w = g.findInitializer(node.inputs[1] ?? '');
    if (!w || w.dataType !== DataType.FLOAT || w.dims.length !== 2) { left.push({ node: name, opType: node.opType, reason: 'weights are not a 2-D float constant' }); continue; }
    if (node.opType === 'Gemm' && (node.getInt('transA', 0) || node.getFloat('alpha', 1) !== 1 || node.getFloat('beta', 1) !== 1)) { left.push({ node: name, opType: node.opType, reason: 'Gemm with transA/alpha/beta' }); continue; }
    // Work on W^T as [N, K] rows so blocks run along K.
    const transB = node.opType === 'Gemm' && node.getInt('transB', 0) === 1;
    const [K, N] = transB ? [w.dims[1]!, w.dims[0]!] : [w.dims[0]!, w.dims[1]!];
    const rowsNK = transB ? w.toFloat32() : transposed(w.toFloat32(), K, N);
    const q = quantizeBlocks(rowsNK, N, K, blockSize, symmetric);
    if (o.matMulNBits) {
      rewriteNBits(g, names, node, q, N, K, blockSize, symmetric);
    } else {
      // DequantizeLinear(block_size, axis=0) of W [K, N] needs blocks along axis 0: store W^T-blocked as [K, N].
      const values = new Int8Array(K * N);
      const blocks = Math.ceil(K / blockSize);
      const scales = new Float32Array(blocks * N);
      const zps = new Int8Array(blocks * N);
      for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) values[k * N + n] = q.values[n * K + k]!;
      for (let n = 0; n < N; n++) for (let b = 0; b < blocks; b++) { scales[b * N + n] = q.scales[n * blocks + b]!; zps[b * N + n] = q.zeroPoints[n * blocks + b]!; }
      const base = node.inputs[1]!;
      const wq = names.next(`${base}_int4`), ws = names.next(`${base}_scale`), wz = names.next(`${base}_zero_point`), dq = names.next(`${base}_dequantized`);
      addInitializer(g, Tensor.fromBytes(wq, DataType.INT4, [K, N], packInt4(values)));
      addInitializer(g, Tensor.fromFloat32(ws, [blocks, N], scales));
      const inputs = [wq, ws];
      if (!symmetric) { addInitializer(g, Tensor.fromBytes(wz, DataType.INT4, [blocks, N], packInt4(zps))); inputs.push(wz); }
      newNodes.push(new Node({ opType: 'DequantizeLinear', inputs, outputs: [dq], name: names.next(`${base}_DequantizeLinear`), attributes: [attr.int('axis', 0), attr.int('block_size', blockSize)] }));
      setInput(node, 1, dq);
      if (transB) node.setAttr(attr.int('transB', 0));
    }
    counts[opType] = (counts[opType] ?? 0) + 1;
  }
  insertNodes(g, newNodes);
}

interface Blocks { values: Int8Array; scales: Float32Array; zeroPoints: Int8Array }

/** Quantizes rows [N, K] in blocks of `blockSize` along K to int4 ([-8, 7]). */
function quantizeBlocks(rows: Float32Array, N: number, K: number, blockSize: number, symmetric: boolean): Blocks {
  const blocks = Math.ceil(K / blockSize);
  const values = new Int8Array(N * K);
  const scales = new Float32Array(N * blocks);
  const zeroPoints = new Int8Array(N * blocks);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < blocks; b++) {
      const start = n * K + b * blockSize;
      const end = n * K + Math.min(K, (b + 1) * blockSize);
      let lo = 0, hi = 0;
      for (let i = start; i < end; i++) { lo = Math.min(lo, rows[i]!); hi = Math.max(hi, rows[i]!); }
      let scale: number, zp: number;
      if (symmetric) { scale = Math.max(-lo, hi) / 7 || 1; zp = 0; } else { scale = (hi - lo) / 15 || 1; zp = Math.max(-8, Math.min(7, Math.round(-8 - lo / scale))); }
      scale = Math.fround(scale);
      scales[n * blocks + b] = scale;
      zeroPoints[n * blocks + b] = zp;
      for (let i = start; i < end; i++) values[i] = Math.max(-8, Math.min(7, Math.round(rows[i]! / scale) + zp));
    }
  }
  return { values, scales, zeroPoints };
}

function rewriteNBits(g: Graph, names: NameAllocator, node: Node, q: Blocks, N: number, K: number, blockSize: number, symmetric: boolean): void {
  // MatMulNBits: B uint8 [N, blocks, blockSize/2] of unsigned 4-bit values (zero point 8 when symmetric).
  const blocks = Math.ceil(K / blockSize);
  const packed = new Uint8Array(N * blocks * (blockSize / 2));
  for (let n = 0; n < N; n++) for (let k = 0; k < blocks * blockSize; k++) {
    const v = k < K ? q.values[n * K + k]! + 8 : 8;
    const at = n * blocks * (blockSize / 2) + (k >> 1);
    packed[at]! |= (v & 0xf) << ((k & 1) * 4);
  }
  const zps = new Uint8Array(N * Math.ceil(blocks / 2));
  for (let n = 0; n < N; n++) for (let b = 0; b < blocks; b++) {
    const at = n * Math.ceil(blocks / 2) + (b >> 1);
    zps[at]! |= ((q.zeroPoints[n * blocks + b]! + 8) & 0xf) << ((b & 1) * 4);
  }
  const base = node.inputs[1]!;
  const wq = names.next(`${base}_nbits`), ws = names.next(`${base}_scales`), wz = names.next(`${base}_zero_points`);
  addInitializer(g, Tensor.fromBytes(wq, DataType.UINT8, [N, blocks, blockSize / 2], packed));
  addInitializer(g, Tensor.fromFloat32(ws, [N * blocks], q.scales));
  // Symmetric weights sit around 8, MatMulNBits' default zero point: store none.
  if (!symmetric) addInitializer(g, Tensor.fromBytes(wz, DataType.UINT8, [zps.length], zps));
  const bias = node.opType === 'Gemm' ? node.inputs[2] : undefined;
  node.opType = 'MatMulNBits';
  node.domain = 'com.microsoft';
  const inputs = [node.inputs[0]!, wq, ws, symmetric ? '' : wz, '', bias ?? ''];
  while (inputs[inputs.length - 1] === '') inputs.pop(); // trailing optional inputs are left out
  setInputs(node, inputs);
  node.attributes = [attr.int('K', K), attr.int('N', N), attr.int('bits', 4), attr.int('block_size', blockSize)];
}

function transposed(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c]!;
  return out;
}
