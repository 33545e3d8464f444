// The rows a weighted layer multiplies by its weights: for a Conv the im2col patch at each
// output position (one per group, in the weight's [C/group, R, S] order), for Gemm/MatMul
// the rows of its input's last axis. Reconstruction statistics are sums over these rows.
import type { Node } from '../ir/graph.js';
import type { HostTensor } from '../runtime/ort.js';

export interface RowLayout {
  /** Independent blocks of the reduction: conv groups (C for a depthwise conv), else 1. */
  groups: number;
  /** Elements of one row within a group: (C/group) * R * S, or the input features. */
  width: number;
}

export interface ConvGeometry {
  channelsPerGroup: number;
  kernel: number[];
  strides: number[];
  dilations: number[];
  pads: number[];
  autoPad: string;
  groups: number;
}

export function convGeometry(node: Node, weightDims: readonly number[]): ConvGeometry {
  const kernel = weightDims.slice(2);
  const rank = kernel.length;
  return {
    channelsPerGroup: weightDims[1]!,
    kernel,
    strides: node.getInts('strides') ?? new Array(rank).fill(1),
    dilations: node.getInts('dilations') ?? new Array(rank).fill(1),
    pads: node.getInts('pads') ?? new Array(2 * rank).fill(0),
    autoPad: node.getString('auto_pad', 'NOTSET'),
    groups: node.getInt('group', 1),
  };
}

export function rowLayout(node: Node, weightDims: readonly number[]): RowLayout {
  if (node.opType === 'Conv') {
    const g = convGeometry(node, weightDims);
    return { groups: g.groups, width: g.channelsPerGroup * g.kernel.reduce((a, b) => a * b, 1) };
  }
  const transB = node.opType === 'Gemm' && node.getInt('transB', 0) === 1;
  return { groups: 1, width: transB ? weightDims[1]! : weightDims[0]! };
}

/**
 * Calls `emit(group, rows)` with the rows of each tensor in `xs` as the layer sees them, at most
 * `maxPositions` rows per sample (an even stride through the output positions: a large
 * feature map repeats itself, and X^T X costs width^2 per row). Rows are reused. Several
 * tensors of one shape are walked at once (the same rows of each), e.g. a layer's input in two models.
 */
export function forEachRowOf(node: Node, weightDims: readonly number[], xs: HostTensor[], maxPositions: number, emit: (group: number, rows: Float64Array[]) => void): void {
  const datas = xs.map((x) => x.data as Float32Array);
  const x = xs[0]!;
  if (node.opType !== 'Conv') {
    const width = rowLayout(node, weightDims).width;
    const rows = datas[0]!.length / width;
    const step = Math.max(1, Math.ceil(rows / maxPositions));
    const out = datas.map(() => new Float64Array(width));
    for (let r = 0; r < rows; r += step) {
      datas.forEach((data, t) => { for (let j = 0; j < width; j++) out[t]![j] = data[r * width + j]!; });
      emit(0, out);
    }
    return;
  }
  const g = convGeometry(node, weightDims);
  if (g.kernel.length !== 2) {
    // 1-D convs: view them as 2-D with a unit axis. (3-D convs: no rows, so no statistics.)
    if (g.kernel.length === 1) forEachRow2d(datas, [x.dims[0]!, x.dims[1]!, 1, x.dims[2]!], { ...g, kernel: [1, g.kernel[0]!], strides: [1, g.strides[0]!], dilations: [1, g.dilations[0]!], pads: [0, g.pads[0]!, 0, g.pads[1]!] }, maxPositions, emit);
    return;
  }
  forEachRow2d(datas, x.dims, g, maxPositions, emit);
}

function forEachRow2d(datas: Float32Array[], dims: readonly number[], g: ConvGeometry, maxPositions: number, emit: (group: number, rows: Float64Array[]) => void): void {
  const [n, c, h, w] = dims as [number, number, number, number];
  const [kh, kw] = g.kernel as [number, number];
  const [sh, sw] = g.strides as [number, number];
  const [dh, dw] = g.dilations as [number, number];
  const pads = explicitPads(g, h, w);
  const outH = Math.floor((h + pads[0] + pads[2] - (dh * (kh - 1) + 1)) / sh) + 1;
  const outW = Math.floor((w + pads[1] + pads[3] - (dw * (kw - 1) + 1)) / sw) + 1;
  const positions = n * outH * outW;
  const step = Math.max(1, Math.ceil(positions / maxPositions));
  const cg = g.channelsPerGroup;
  const rows = datas.map(() => new Float64Array(cg * kh * kw));
  if (c !== cg * g.groups) return;
  for (let p = 0; p < positions; p += step) {
    const b = Math.floor(p / (outH * outW));
    const oy = Math.floor(p / outW) % outH;
    const ox = p % outW;
    for (let grp = 0; grp < g.groups; grp++) {
      for (let t = 0; t < datas.length; t++) {
        const data = datas[t]!, row = rows[t]!;
        let j = 0;
        for (let ci = 0; ci < cg; ci++) {
          const plane = (b * c + grp * cg + ci) * h * w;
          for (let r = 0; r < kh; r++) {
            const y = oy * sh - pads[0] + r * dh;
            for (let s = 0; s < kw; s++, j++) {
              const xx = ox * sw - pads[1] + s * dw;
              row[j] = y >= 0 && y < h && xx >= 0 && xx < w ? data[plane + y * w + xx]! : 0;
            }
          }
        }
      }
      emit(grp, rows);
    }
  }
}

/** [top, left, bottom, right] after resolving auto_pad. */
function explicitPads(g: ConvGeometry, h: number, w: number): [number, number, number, number] {
  if (g.autoPad === 'SAME_UPPER' || g.autoPad === 'SAME_LOWER') {
    const total = (size: number, k: number, s: number, d: number) => Math.max(0, (Math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size);
    const th = total(h, g.kernel[0]!, g.strides[0]!, g.dilations[0]!);
    const tw = total(w, g.kernel[1]!, g.strides[1]!, g.dilations[1]!);
    const lower = g.autoPad === 'SAME_LOWER';
    const first = (t: number) => (lower ? Math.ceil(t / 2) : Math.floor(t / 2));
    return [first(th), first(tw), th - first(th), tw - first(tw)];
  }
  if (g.autoPad === 'VALID') return [0, 0, 0, 0];
  return [g.pads[0]!, g.pads[1]!, g.pads[2]!, g.pads[3]!];
}
