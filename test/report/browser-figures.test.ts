// The browser's figures in a report, without a browser: cold and steady ratios per build, the
// build the verdict read, and both shown in the terminal and Markdown views.
import { describe, expect, it } from 'vitest';
import { buildReport } from '../../src/report/build.js';
import { renderText } from '../../src/report/text.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { renderHtml } from '../../src/report/html.js';
import { findTarget } from '../../src/targets/index.js';
import { sampleSummary } from '../../src/measure/stats.js';
import type { BrowserFigures } from '../../src/measure/browser-bench.js';

const figures = (build: BrowserFigures['build'], coldMs: number, steadyP50Ms: number): BrowserFigures => ({ build, createMs: coldMs - 3, firstRunsMs: [1, 1, 1], coldMs, steadyP50Ms });
const timing = (ms: number) => { const samplesMs = Array.from({ length: 20 }, (_, i) => ms + (i % 5) * 0.01); return { samplesMs, latencyMs: sampleSummary(samplesMs) }; };

describe('browser figures in the report', () => {
  const { report } = buildReport({
    profile: findTarget('wasm'), model: 'm', tolerances: {},
    data: { calibrationSamples: 10, evalSamples: 20, generated: true, labelled: false },
    bench: { backend: 'wasm', threads: 1, runs: 20 },
    original: { bytes: 1000, gzipBytes: 900, brotliBytes: 800, ...timing(2), browser: [figures('default', 4000, 2.2), figures('wasm-only', 1000, 2)] },
    candidates: [{
      recipe: 'int8-static', size: { bytes: 300, gzipBytes: 250, brotliBytes: 200 }, timing: timing(1),
      browser: [figures('default', 6000, 1.1), figures('wasm-only', 2000, 1)],
      eval: { samples: 20, outputs: { y: { maxAbs: 0, meanAbs: 0, rel: 0, cosine: 1, snrDb: Infinity } } }, violations: [],
    }],
    judgedBuild: 'wasm-only',
  });

  it('gives each build\'s cold and steady ratio and names the build judged', () => {
    expect(report.bench.browserBuild).toBe('wasm-only');
    const c = report.candidates[0]!;
    expect(c.browser!.map((f) => [f.build, f.coldRatio, f.steadyRatio])).toEqual([['default', 1.5, 0.5], ['wasm-only', 2, 0.5]]);
    expect(report.chosen).toBe('int8-static');
  });

  it('shows them in the terminal, Markdown and HTML', () => {
    expect(renderHtml(report)).toContain('<tr><td>int8-static</td><td>wasm-only</td><td>2000.0</td><td>2.00</td><td>1.000</td><td>0.50</td></tr>');
    const text = renderText(report);
    expect(text).toContain('the verdict reads wasm-only steady');
    expect(text).toMatch(/^int8-static\s+wasm-only\s+2000\.0\s+2\.00\s+1\.000\s+0\.50$/m);
    expect(renderMarkdown(report)).toContain('| int8-static | default | 6000.0 | 1.50 | 1.100 | 0.50 |');
  });
});
