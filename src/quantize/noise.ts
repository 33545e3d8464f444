// How much each activation's own quantization loses: for every QuantizeLinear ->
// DequantizeLinear pair of a quantized model, ||dq(q(x)) - x|| / ||x|| on samples. Unlike
// per-tensor errors against the float model, this is local (not the error carried in from
// upstream), so it finds the tensors whose range int8 covers badly: outlier-stretched
// scales, narrow distributions under a wide clamp. It measures rounding only: x is clamped
// to the pair's representable range first, because clipping (an absorbed Relu/Clip, or the
// calibration's choice) stays the same with 16 bits, and rounding is what 16 bits repair.
import type { Graph, Model, Node } from '../ir/graph.js';
import { DataType } from '../ir/dtype.js';
import { exposeAsOutputs } from '../ir/mutate.js';
import { cloneModel } from '../onnx/clone.js';
import { openSession } from '../runtime/ort.js';
import type { Sample } from '../runtime/samples.js';

export interface TensorNoise {
  /** The planned tensor: what readers see (the DequantizeLinear output, or the graph input). */
  tensor: string;
  /** Relative error its own Q/DQ pair adds. */
  rel: number;
}

/** The Q/DQ pairs of `model`, ranked by the relative error each adds on `samples`, worst first. */
export async function quantizationNoise(model: Model, samples: Sample[]): Promise<TensorNoise[]> {
  const probe = cloneModel(model);
  const graph = probe.graph;
  const producers = graph.producers();
  const inputs = new Set(graph.inputs.map((v) => v.name));
  const pairs: { x: string; y: string; tensor: string; factor: number; lo: number; hi: number }[] = [];
  for (const dq of graph.nodes) {
    if (dq.opType !== 'DequantizeLinear' || !dq.outputs[0]) continue;
    const q = producers.get(dq.inputs[0] ?? '');
    if (q?.opType !== 'QuantizeLinear' || !q.inputs[0]) continue;
    const [qs, ds] = [scalar(graph, q.inputs[1]), scalar(graph, dq.inputs[1])];
    if (!qs || !ds) continue;
    // An absorbed Mul/Div makes DQ's scale differ from Q's: x is compared in the DQ's units.
    const [qmin, qmax] = typeRange(graph, q);
    const zp = scalar(graph, q.inputs[2]) ?? 0;
    const factor = ds / qs;
    pairs.push({ x: q.inputs[0], y: dq.outputs[0], tensor: inputs.has(q.inputs[0]) ? q.inputs[0] : dq.outputs[0], factor, lo: (qmin - zp) * ds, hi: (qmax - zp) * ds });
  }
  const outputs = graph.outputNames();
  exposeAsOutputs(graph, [...new Set(pairs.flatMap((p) => [p.x, p.y]))].filter((n) => !outputs.has(n)));
  const errSq = new Float64Array(pairs.length), refSq = new Float64Array(pairs.length);
  const session = await openSession(probe);
  try {
    for (const s of samples) {
      const r = await session.run(s, pairs.flatMap((p) => [p.x, p.y]));
      pairs.forEach((p, i) => {
        const a = r[p.x]?.data, b = r[p.y]?.data;
        if (!(a instanceof Float32Array) || !(b instanceof Float32Array) || a.length !== b.length) return;
        for (let k = 0; k < a.length; k++) {
          const x = Math.min(p.hi, Math.max(p.lo, a[k]! * p.factor));
          const d = x - b[k]!;
          errSq[i] += d * d;
          refSq[i] += x * x;
        }
      });
    }
  } finally {
    await session.release();
  }
  return pairs.map((p, i) => ({ tensor: p.tensor, rel: refSq[i]! ? Math.sqrt(errSq[i]! / refSq[i]!) : 0 })).sort((a, b) => b.rel - a.rel);
}

function scalar(graph: Graph, name: string | undefined): number | undefined {
  const t = name ? graph.findInitializer(name) : undefined;
  return t && t.elementCount === 1 ? Number(t.dataType === DataType.FLOAT ? t.toFloat32()[0] : readInt(t.rawBytes(), t.dataType)) : undefined;
}

function readInt(b: Uint8Array, type: number): number {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return type === DataType.INT8 ? v.getInt8(0) : type === DataType.UINT8 ? v.getUint8(0) : type === DataType.INT16 ? v.getInt16(0, true) : type === DataType.UINT16 ? v.getUint16(0, true) : NaN;
}

/** The integer range of a QuantizeLinear's output, from its zero point's type (uint8 without one). */
function typeRange(graph: Graph, q: Node): [number, number] {
  const type = graph.findInitializer(q.inputs[2] ?? '')?.dataType ?? DataType.UINT8;
  return type === DataType.INT8 ? [-128, 127] : type === DataType.INT16 ? [-32768, 32767] : type === DataType.UINT16 ? [0, 65535] : [0, 255];
}
