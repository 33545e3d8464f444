// How far the runtimes a model may ship on disagree: onnxruntime-node, onnxruntime-web in
// Node, and onnxruntime-web in headless Chromium, each running the same model on the same
// inputs. A compressed model's error against its original means little if the runtimes
// already disagree by as much; and an int8 kernel that differs between them shows up here.
import type { Model } from '../ir/graph.js';
import { OnnxpressError } from '../errors.js';
import { serializeModel } from '../onnx/save.js';
import { BrowserRuntime, browserUnavailable } from '../runtime/browser.js';
import { openSession, type HostTensor, type Session } from '../runtime/ort.js';
import { openWebSession } from '../runtime/ort-web.js';
import type { Sample } from '../runtime/samples.js';
import { Accumulator } from './eval.js';
import { bytesOf } from './bench.js';

export type RuntimeBackend = 'node' | 'wasm' | 'browser';
export const RUNTIME_BACKENDS: RuntimeBackend[] = ['node', 'wasm', 'browser'];

export interface PairAgreement {
  between: [RuntimeBackend, RuntimeBackend];
  /** Per numeric output, over every sample. */
  outputs: Record<string, { maxAbs: number; cosine: number }>;
}

export interface AgreementReport {
  samples: number;
  /** The backends that ran. */
  backends: RuntimeBackend[];
  /** Backends asked for that could not run here, and why. */
  skipped: { backend: RuntimeBackend; reason: string }[];
  /** Every pair of backends that ran, on the reference model and on the candidate. */
  reference: PairAgreement[];
  candidate: PairAgreement[];
}

type Source = string | Model;
type Outputs = Record<string, HostTensor>[];

/** Runs both models on every backend in `backends` and compares each pair of runtimes' outputs. */
export async function runtimeAgreement(referenceModel: Source, candidateModel: Source, samples: Sample[], backends: RuntimeBackend[]): Promise<AgreementReport> {
  // Serialized once: every runtime below would otherwise serialize an in-memory model again (files load as they are).
  const [reference, candidate] = [referenceModel, candidateModel].map((s) => (typeof s === 'string' ? s : serializeModel(s))) as [string | Uint8Array, string | Uint8Array];
  if (!samples.length) throw new OnnxpressError('BAD_INPUT', 'no samples to compare the runtimes on');
  const skipped: AgreementReport['skipped'] = [];
  const ran: RuntimeBackend[] = [];
  const outputs: { reference: Outputs; candidate: Outputs }[] = [];
  for (const backend of [...new Set(backends)]) {
    if (backend === 'browser') {
      const why = browserUnavailable();
      if (why) { skipped.push({ backend, reason: why }); continue; }
      const browser = await BrowserRuntime.launch();
      try {
        outputs.push({ reference: await browser.run({ label: 'reference', bytes: bytesOf(reference) }, samples), candidate: await browser.run({ label: 'candidate', bytes: bytesOf(candidate) }, samples) });
      } finally {
        await browser.close();
      }
    } else {
      const open = backend === 'wasm' ? openWebSession : (s: string | Uint8Array) => openSession(s);
      outputs.push({ reference: await runAll(await open(reference), samples), candidate: await runAll(await open(candidate), samples) });
    }
    ran.push(backend);
  }
  const pairs = (which: 'reference' | 'candidate'): PairAgreement[] => {
    const out: PairAgreement[] = [];
    for (let a = 0; a < ran.length; a++) for (let b = a + 1; b < ran.length; b++) out.push({ between: [ran[a]!, ran[b]!], outputs: compare(outputs[a]![which], outputs[b]![which]) });
    return out;
  };
  return { samples: samples.length, backends: ran, skipped, reference: pairs('reference'), candidate: pairs('candidate') };
}

async function runAll(session: Session, samples: Sample[]): Promise<Outputs> {
  try {
    const out: Outputs = [];
    for (const s of samples) out.push(await session.run(s));
    return out;
  } finally {
    await session.release();
  }
}

function compare(a: Outputs, b: Outputs): PairAgreement['outputs'] {
  const acc = new Map<string, Accumulator>();
  for (const [i, sample] of a.entries()) {
    for (const [name, t] of Object.entries(sample)) {
      const other = b[i]?.[name];
      if (!other || Array.isArray(t.data) || t.type === 'bool' || t.type === 'int64') continue;
      let x = acc.get(name);
      if (!x) acc.set(name, (x = new Accumulator()));
      x.add(t, other);
    }
  }
  return Object.fromEntries([...acc].map(([name, x]) => {
    const m = x.metrics();
    return [name, { maxAbs: m.maxAbs, cosine: m.cosine }];
  }));
}

/** The worst disagreement of any pair on any output, for a one-line summary. */
export function worstAgreement(pairs: PairAgreement[]): { maxAbs: number; cosine: number } {
  const all = pairs.flatMap((p) => Object.values(p.outputs));
  return { maxAbs: Math.max(0, ...all.map((o) => o.maxAbs)), cosine: Math.min(1, ...all.map((o) => o.cosine)) };
}
