// onnxruntime-web inside headless Chromium: where a `wasm` model really ships. Node's copy of
// the same package runs the same kernels, but a page also pays WebAssembly compilation and
// tier-up on its first inferences, and may load the bundle that carries WebGPU/WebGL too.
// Both builds a site may load are measured: the default bundle and the WebAssembly-only one.
//
// Nothing reaches the network: every request the page makes is answered from node_modules
// and from memory through Playwright's request interception.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, normalize, sep } from 'node:path';
import { OnnxpressError } from '../errors.js';
import { runsPerFigure, sharedRepeat } from '../measure/stats.js';
import type { HostTensor } from './ort.js';
import type { Sample } from './samples.js';

export type WebBuild = 'default' | 'wasm-only';
export const WEB_BUILDS: WebBuild[] = ['default', 'wasm-only'];
const BUNDLE: Record<WebBuild, string> = { default: 'ort.min.mjs', 'wasm-only': 'ort.wasm.min.mjs' };

/** Debian's chromium; CHROMIUM_PATH points elsewhere (and only there: a wrong path is not silently replaced). */
export function chromiumPath(): string | undefined {
  if (process.env.CHROMIUM_PATH) return existsSync(process.env.CHROMIUM_PATH) ? process.env.CHROMIUM_PATH : undefined;
  return ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
}

/** Why the browser cannot be used here, or undefined when it can. ONNXPRESS_NO_BROWSER=1 turns it off. */
export function browserUnavailable(): string | undefined {
  if (process.env.ONNXPRESS_NO_BROWSER) return 'ONNXPRESS_NO_BROWSER is set';
  if (process.env.CHROMIUM_PATH && !chromiumPath()) return `CHROMIUM_PATH ${process.env.CHROMIUM_PATH} does not exist`;
  if (!chromiumPath()) return 'no Chromium found (install Debian chromium or set CHROMIUM_PATH)';
  try {
    webDistDir();
    try {
      createRequire(import.meta.url).resolve('playwright-core');
    } catch {
      throw new Error('the browser backend needs the npm package playwright-core (npm install playwright-core)');
    }
  } catch (err) {
    return (err as Error).message.split('\n')[0];
  }
  return undefined;
}

function webDistDir(): string {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('onnxruntime-web')), '..');
  } catch {
    throw new OnnxpressError('UNSUPPORTED', 'the browser backend needs the npm package onnxruntime-web (npm install onnxruntime-web)');
  }
}

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ORIGIN = 'http://onnxpress.invalid';

export interface BrowserModel { label: string; bytes: Uint8Array }

export interface ColdStart {
  /** Session creation (fetch, compile, graph set-up) in a fresh browser. */
  createMs: number;
  /** The first inferences after it, in order: WebAssembly is not yet tiered up. */
  firstRunsMs: number[];
}

export interface BrowserTiming { label: string; build: WebBuild; cold: ColdStart; /** Steady-state run times after warm-up. */ samplesMs: number[]; /** Runs averaged into each sample, the same for every model of a build. */ runsPerFigure: number }

type Page = { evaluate<R, A>(fn: ((arg: A) => R | Promise<R>) | string, arg?: A): Promise<R>; goto(url: string): Promise<unknown>; close(): Promise<void>; route(url: string, handler: (route: Route) => unknown): Promise<void> };
type Route = { request(): { url(): string }; fulfill(r: { status?: number; body?: Buffer | string; contentType?: string }): Promise<void> };
type Browser = { newPage(): Promise<Page>; close(): Promise<void> };

/** A Chromium with onnxruntime-web served to its pages; close() it when done. */
export class BrowserRuntime {
  private constructor(private readonly browser: Browser, private readonly dist: string) {}

  static async launch(): Promise<BrowserRuntime> {
    const why = browserUnavailable();
    if (why) throw new OnnxpressError('UNSUPPORTED', `the browser backend is unavailable: ${why}`);
    const { chromium } = (await import('playwright-core')) as unknown as { chromium: { launch(o: object): Promise<Browser> } };
    const browser = await chromium.launch({ executablePath: chromiumPath(), args: ARGS });
    return new BrowserRuntime(browser, webDistDir());
  }

  async close(): Promise<void> {
    await this.browser.close();
  }

  /** A fresh page with `build` loaded and the models reachable at /model/<index>. */
  private async page(build: WebBuild, models: BrowserModel[]): Promise<Page> {
    const page = await this.browser.newPage();
    const dist = join(this.dist, 'dist');
    await page.route(`${ORIGIN}/**`, async (route) => {
      const path = new URL(route.request().url()).pathname;
      if (path === '/') return route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>onnxpress</title>' });
      const model = /^\/model\/(\d+)$/.exec(path);
      if (model) return route.fulfill({ contentType: 'application/octet-stream', body: Buffer.from(models[Number(model[1])]!.bytes) });
      const file = normalize(join(dist, path.slice('/ort/'.length)));
      if (!path.startsWith('/ort/') || !file.startsWith(dist + sep) || !existsSync(file)) return route.fulfill({ status: 404, body: 'not found' });
      const type = file.endsWith('.wasm') ? 'application/wasm' : file.endsWith('.mjs') || file.endsWith('.js') ? 'text/javascript' : 'application/octet-stream';
      return route.fulfill({ contentType: type, body: readFileSync(file) });
    });
    await page.goto(`${ORIGIN}/`);
    // A string, not a function: test runners rewrite `import()` inside functions they load.
    await page.evaluate(`(async () => {
      const ort = await import('/ort/${BUNDLE[build]}');
      ort.env.wasm.numThreads = 1; // no SharedArrayBuffer without cross-origin isolation, as on most sites
      ort.env.wasm.wasmPaths = '/ort/';
      ort.env.logLevel = 'error';
      globalThis.ort = ort;
      globalThis.sessions = [];
      const arrays = { float32: Float32Array, int64: BigInt64Array, int32: Int32Array, uint8: Uint8Array, int8: Int8Array, bool: Uint8Array, float16: Uint16Array };
      globalThis.decode = (t) => {
        const bin = atob(t.b64);
        const bytes = new Uint8Array(bin.length);
        for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
        return new ort.Tensor(t.type, new arrays[t.type](bytes.buffer), t.dims);
      };
    })()`);
    return page;
  }

  /** Creates a session for model `index` in the page; returns the milliseconds it took. */
  private static create(page: Page, index: number): Promise<number> {
    return page.evaluate(async (i: number) => {
      const g = globalThis as unknown as { ort: { InferenceSession: { create(b: Uint8Array, o: object): Promise<unknown> } }; sessions: unknown[] };
      const t = performance.now();
      const bytes = new Uint8Array(await (await fetch(`/model/${i}`)).arrayBuffer());
      g.sessions[i] = await g.ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
      return performance.now() - t;
    }, index);
  }

  /**
   * Runs model `index` `times` times, cycling through the feeds; returns each run's milliseconds.
   * A page that is not cross-origin isolated reads its clock in 0.1 ms steps, so with `repeat`
   * each figure is the mean of that many back-to-back runs.
   */
  private static time(page: Page, index: number, feeds: EncodedSample[], times: number, offset: number, repeat = 1): Promise<number[]> {
    return page.evaluate(async ({ i, feeds, times, offset, repeat }: { i: number; feeds: EncodedSample[]; times: number; offset: number; repeat: number }) => {
      const g = globalThis as unknown as { sessions: { run(f: object): Promise<unknown> }[]; decode(t: unknown): unknown };
      const decoded = feeds.map((f) => Object.fromEntries(Object.entries(f).map(([k, v]) => [k, g.decode(v)])));
      const out: number[] = [];
      for (let r = 0; r < times; r++) {
        const feed = decoded[(offset + r) % decoded.length]!;
        const t = performance.now();
        for (let k = 0; k < repeat; k++) await g.sessions[i]!.run(feed);
        out.push((performance.now() - t) / repeat);
      }
      return out;
    }, { i: index, feeds, times, offset, repeat });
  }

  /**
   * Times each model in each build: cold (a fresh browser: session creation and the first
   * `firstRuns` inferences) and steady (after `warmup` runs, `runs` more, interleaved between
   * the models in rounds of 5 so drift hits them alike).
   */
  async bench(models: BrowserModel[], samples: Sample[], o: { builds?: WebBuild[]; runs?: number; warmup?: number; firstRuns?: number; /** false: steady only (cold reads NaN) */ cold?: boolean } = {}): Promise<BrowserTiming[]> {
    const feeds = samples.slice(0, 8).map(encodeSample);
    const runs = o.runs ?? 30, warmup = o.warmup ?? 10, firstRuns = o.firstRuns ?? 3;
    const out: BrowserTiming[] = [];
    for (const build of o.builds ?? WEB_BUILDS) {
      const cold: ColdStart[] = [];
      for (const [i] of models.entries()) {
        if (o.cold === false) { cold.push({ createMs: NaN, firstRunsMs: [] }); continue; }
        // A browser per model: its cold start is what a first visit sees. Pages of one renderer
        // share compiled and tiered-up WebAssembly, so in one browser every model after the
        // first would start warmer than the first (the original, always measured first).
        const fresh = await BrowserRuntime.launch();
        try {
          const page = await fresh.page(build, models);
          const createMs = await BrowserRuntime.create(page, i);
          cold.push({ createMs, firstRunsMs: await BrowserRuntime.time(page, i, feeds, firstRuns, 0) });
        } finally {
          await fresh.close();
        }
      }
      const page = await this.page(build, models);
      try {
        const steady: number[][] = models.map(() => []);
        const repeats: number[] = [];
        for (const [i] of models.entries()) {
          await BrowserRuntime.create(page, i);
          const warm = await BrowserRuntime.time(page, i, feeds, warmup, 0);
          // Enough back-to-back runs per figure to span 5 ms: 50 clock steps.
          repeats.push(runsPerFigure(warm, { spanMs: 5, minRunMs: 0.05, max: 200, last: 3 }));
        }
        // One batch size for all models, as in the Node bench: means over different counts
        // weigh the slow tail differently.
        const repeat = sharedRepeat(repeats);
        for (let done = 0; done < runs; done += 5) {
          for (const [i] of models.entries()) steady[i]!.push(...(await BrowserRuntime.time(page, i, feeds, Math.min(5, runs - done), done, repeat)));
        }
        models.forEach((m, i) => out.push({ label: m.label, build, cold: cold[i]!, samplesMs: steady[i]!, runsPerFigure: repeat }));
      } finally {
        await page.close();
      }
    }
    return out;
  }

  /** Outputs of one model on each sample, in the page (the WebAssembly-only build unless told). */
  async run(model: BrowserModel, samples: Sample[], build: WebBuild = 'wasm-only'): Promise<Record<string, HostTensor>[]> {
    const page = await this.page(build, [model]);
    try {
      await BrowserRuntime.create(page, 0);
      const results: Record<string, HostTensor>[] = [];
      for (const s of samples) {
        const encoded = await page.evaluate(async (feed: EncodedSample) => {
          const g = globalThis as unknown as { sessions: { run(f: object): Promise<Record<string, { type: string; dims: number[]; data: ArrayBufferView }>> }[]; decode(t: unknown): unknown };
          const out = await g.sessions[0]!.run(Object.fromEntries(Object.entries(feed).map(([k, v]) => [k, g.decode(v)])));
          return Object.fromEntries(Object.entries(out).map(([k, t]) => {
            const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
            let bin = '';
            for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
            return [k, { type: t.type, dims: [...t.dims], b64: btoa(bin) }];
          }));
        }, encodeSample(s));
        results.push(Object.fromEntries(Object.entries(encoded).map(([k, t]) => [k, decodeTensor(t)])));
      }
      return results;
    } finally {
      await page.close();
    }
  }
}

type EncodedTensor = { type: string; dims: number[]; b64: string };
type EncodedSample = Record<string, EncodedTensor>;

function encodeSample(s: Sample): EncodedSample {
  return Object.fromEntries(Object.entries(s).map(([k, t]) => {
    if (Array.isArray(t.data)) throw new OnnxpressError('UNSUPPORTED', `input '${k}': string tensors cannot be sent to the browser`);
    const v = t.data as ArrayBufferView;
    return [k, { type: t.type, dims: t.dims, b64: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') }];
  }));
}

const HOST_ARRAYS: Record<string, new (b: ArrayBuffer) => ArrayBufferView> = { float32: Float32Array, int64: BigInt64Array, int32: Int32Array, uint8: Uint8Array, int8: Int8Array, bool: Uint8Array, float16: Uint16Array };

function decodeTensor(t: EncodedTensor): HostTensor {
  const bytes = Buffer.from(t.b64, 'base64');
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  const Ctor = HOST_ARRAYS[t.type] ?? Uint8Array;
  return { type: t.type, dims: t.dims, data: new Ctor(copy.buffer) };
}
