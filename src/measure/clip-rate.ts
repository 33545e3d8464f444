// Calibration-range drift: how much of each quantized activation falls outside the range it
// was calibrated on. QuantizeLinear saturates such values, so a rate that grows in production
// means today's data no longer fits the calibration, long before top-1 shows it.
import { exposeAsOutputs } from '../ir/mutate.js';
import type { Model, Node } from '../ir/graph.js';
import { DataType, dataTypeName } from '../ir/dtype.js';
import { OnnxpressError } from '../errors.js';
import { cloneModel } from '../onnx/clone.js';
import { openSession } from '../runtime/ort.js';
import type { Sample } from '../runtime/samples.js';

export interface ClipTensor {
  tensor: string;
  /** The QuantizeLinear that saturates it. */
  node: string;
  /** The float range that quantizes without clipping. */
  range: [number, number];
  values: number;
  clipped: number;
  rate: number;
}

export interface ClipReport {
  samples: number;
  /** Every calibrated activation, the highest clip rate first. */
  tensors: ClipTensor[];
  overall: { values: number; clipped: number; rate: number };
  /** Quantized activations that could not be judged (per-axis scales, computed scales), with why. */
  skipped: { tensor: string; reason: string }[];
}

const LIMITS: Record<number, [number, number]> = {
  [DataType.UINT8]: [0, 255], [DataType.INT8]: [-128, 127], [DataType.UINT16]: [0, 65535], [DataType.INT16]: [-32768, 32767],
};

interface Probe { tensor: string; node: string; scale: number; zeroPoint: number; qmin: number; qmax: number }

function probeOf(model: Model, n: Node): Probe | { tensor: string; reason: string } {
  const g = model.graph;
  const [x, s, z] = n.inputs as [string, string, string | undefined];
  const scale = g.findInitializer(s);
  if (!scale) return { tensor: x, reason: 'its scale is computed at run time' };
  if (scale.elementCount !== 1) return { tensor: x, reason: 'per-axis activation scales' };
  const zp = z ? g.findInitializer(z) : undefined;
  if (z && !zp) return { tensor: x, reason: 'its zero point is computed at run time' };
  // Without a zero point QuantizeLinear writes uint8 (its output_dtype attribute aside).
  const type = zp?.dataType ?? n.getInt('output_dtype') ?? DataType.UINT8;
  const limits = LIMITS[type];
  if (!limits) return { tensor: x, reason: `${dataTypeName(type)} outputs are not judged` };
  return { tensor: x, node: n.name || x, scale: scale.toFloat32()[0]!, zeroPoint: zp ? Number(zp.toNumbers()[0]) : 0, qmin: limits[0], qmax: limits[1] };
}

/** Runs `model` (a QDQ model) on `samples` and counts, per quantized activation, the values QuantizeLinear saturates. */
export async function clipRates(model: Model, samples: Sample[]): Promise<ClipReport> {
  if (!samples.length) throw new OnnxpressError('BAD_INPUT', 'no samples to measure clip rates on');
  const probes: Probe[] = [];
  const skipped: ClipReport['skipped'] = [];
  for (const n of model.graph.nodes) {
    if (!n.isOnnx('QuantizeLinear') || model.graph.findInitializer(n.inputs[0]!)) continue; // weights are quantized once, exactly
    const p = probeOf(model, n);
    if ('reason' in p) skipped.push(p);
    else if (!probes.some((q) => q.tensor === p.tensor)) probes.push(p);
  }
  if (!probes.length) throw new OnnxpressError('BAD_INPUT', `the model quantizes no activation with a fixed scale (not a static QDQ model)${skipped.length ? `: ${skipped[0]!.reason}` : ''}`);
  const probed = cloneModel(model);
  // Exposing an activation as an output reads it without changing what is computed.
  exposeAsOutputs(probed.graph, probes.map((p) => p.tensor));
  const counts = probes.map(() => ({ values: 0, clipped: 0 }));
  const session = await openSession(probed);
  try {
    for (const sample of samples) {
      const out = await session.run(sample, probes.map((p) => p.tensor));
      probes.forEach((p, k) => {
        const data = out[p.tensor]!.data as Float32Array;
        // x saturates when round(x / scale) + zero point leaves [qmin, qmax].
        // A zero point at qmin is a range starting at 0: int8-static absorbs a Relu/Clip(0, c)
        // there, and the low-end saturation is that clamp, meant, not drift.
        const lo = p.zeroPoint === p.qmin ? -Infinity : (p.qmin - p.zeroPoint - 0.5) * p.scale, hi = (p.qmax - p.zeroPoint + 0.5) * p.scale;
        let clipped = 0;
        for (let i = 0; i < data.length; i++) if (data[i]! < lo || data[i]! > hi) clipped++;
        counts[k]!.values += data.length;
        counts[k]!.clipped += clipped;
      });
    }
  } finally {
    await session.release();
  }
  const tensors = probes.map((p, k) => ({
    tensor: p.tensor, node: p.node, range: [(p.qmin - p.zeroPoint) * p.scale, (p.qmax - p.zeroPoint) * p.scale] as [number, number],
    ...counts[k]!, rate: counts[k]!.values ? counts[k]!.clipped / counts[k]!.values : 0,
  })).sort((a, b) => b.rate - a.rate || a.tensor.localeCompare(b.tensor));
  const values = counts.reduce((s, c) => s + c.values, 0), clipped = counts.reduce((s, c) => s + c.clipped, 0);
  return { samples: samples.length, tensors, overall: { values, clipped, rate: values ? clipped / values : 0 }, skipped };
}
