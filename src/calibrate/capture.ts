// Runs a model on calibration samples and hands over chosen intermediate tensors one sample
// at a time: the tensors become the only graph outputs of a copy, so the input model is never
// touched, and only one sample's activations are alive at once.
import { elemTypeOf, shapeOf, type Model } from '../ir/graph.js';
import { badInput, OnnxpressError } from '../errors.js';
import { cloneModel } from '../onnx/clone.js';
import { exposeAsOutputs } from '../ir/mutate.js';
import { runPasses } from '../pass/manager.js';
import { eliminateDeadNodes } from '../../passes/eliminate-dead-nodes.js';
import { openSession, type HostTensor } from '../runtime/ort.js';
import type { Sample } from '../runtime/samples.js';
import { float16DataToFloat32 } from '../ir/float-formats.js';

const ORT_TYPES: Record<number, string> = { 1: 'float32', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16', 2: 'uint8', 3: 'int8', 11: 'float64' };

/** Bad input, before any run: samples that name other inputs, or whose type or fixed dims differ from the model's. */
export function checkSamples(model: Model, samples: Sample[]): void {
  if (!samples.length) throw badInput('calibration: no samples');
  const g = model.graph;
  const inputs = g.inputs.filter((i) => !g.initializers.has(i.name));
  samples.forEach((sample, n) => {
    for (const input of inputs) {
      const t = sample[input.name];
      if (!t) throw badInput(`calibration sample ${n}: no value for the model input '${input.name}' (has ${Object.keys(sample).join(', ') || 'nothing'})`);
      const type = ORT_TYPES[elemTypeOf(input) ?? 0];
      if (type && t.type !== type) throw badInput(`calibration sample ${n}: input '${input.name}' is ${t.type}, the model expects ${type}`);
      const dims = shapeOf(input);
      const fits = !dims || (dims.length === t.dims.length && dims.every((d, i) => typeof d !== 'number' || d <= 0 || d === t.dims[i]));
      if (!fits) throw badInput(`calibration sample ${n}: input '${input.name}' has shape [${t.dims.join(', ')}], the model expects [${dims!.map((d) => d ?? '?').join(', ')}]`);
    }
  });
}

export async function streamActivations(model: Model, tensors: string[], samples: Sample[], visit: (sampleIndex: number, values: Map<string, HostTensor>) => void): Promise<void> {
  await streamActivationsOf([model], tensors, samples, (i, values) => visit(i, values[0]!));
}

/** The same tensors from several models of one interface (say, before and after pruning), sample by sample. */
export async function streamActivationsOf(models: Model[], tensors: string[], samples: Sample[], visit: (sampleIndex: number, values: Map<string, HostTensor>[]) => void): Promise<void> {
  const inputs = new Set(models[0]!.graph.inputs.map((i) => i.name));
  const fetched = tensors.filter((t) => !inputs.has(t));
  const sessions = [];
  try {
    // Only graph inputs asked for: nothing to run.
    for (const model of fetched.length ? models : []) {
      const probe = cloneModel(model);
      // Only what the fetched tensors need runs: a pass over early layers (sequential pruning
      // takes a few at a time) stops where their inputs are made, not at the model's outputs.
      probe.graph.outputs = [];
      exposeAsOutputs(probe.graph, fetched);
      await runPasses(probe, [eliminateDeadNodes]);
      sessions.push(await openSession(probe));
    }
    for (let i = 0; i < samples.length; i++) {
      const sample = samples[i]!;
      const all: Map<string, HostTensor>[] = [];
      for (let m = 0; m < models.length; m++) {
        const session = sessions[m];
        let out: Awaited<ReturnType<NonNullable<typeof session>['run']>> = {};
        try {
          if (session) out = await session.run(sample, fetched);
        } catch (err) {
          // Shapes passed the check; what fails now is the data meeting the graph (a reshape, a concat).
          throw badInput(`calibration sample ${i} does not fit the model: ${err instanceof OnnxpressError ? err.message : String(err)}`);
        }
        const values = new Map<string, HostTensor>();
        for (const t of tensors) {
          const v = inputs.has(t) ? sample[t] : out[t];
          if (v) values.set(t, asFloat32(v));
        }
        all.push(values);
      }
      visit(i, all);
    }
  } finally {
    for (const s of sessions) await s.release();
  }
}

/** A float16 model's activations, as the statistics read them: float32. */
function asFloat32(v: HostTensor): HostTensor {
  return v.type === 'float16' ? { type: 'float32', dims: v.dims, data: float16DataToFloat32(v.data) } : v;
}
