import { mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/onnx/load.js';
import { compressModel } from '../../src/compress.js';
import { gateModels } from '../../src/gate.js';
import { writeReports } from '../../src/report/write.js';
import { renderJunit } from '../../src/report/junit.js';
import { ensureMnistModel } from '../../models/train-mnist.js';
import { digitSamples } from '../helpers/mnist.js';
import { requireSystemFile } from '../helpers/corpus.js';

// Debian's chromium; CHROMIUM_PATH names another build (or a missing one, to see the skip).
const CHROMIUM = requireSystemFile(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', 'chromium')!;
const BROWSER_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe('the HTML report in a real browser', () => {
  it.skipIf(!CHROMIUM)('renders its charts with no console errors; a screenshot is kept in test-artifacts/', async () => {
    const { samples, labels } = digitSamples('image', { from: 8000, count: 400 });
    const { report } = await compressModel(loadModel(ensureMnistModel()), 'mnist-mlp.onnx', { target: 'cpu-x86', tolerances: { maxAccuracyDrop: 0.5 }, data: { samples, labels, generated: false }, benchRuns: 10 });
    const dir = mkdtempSync(join(tmpdir(), 'onnxpress-html-'));
    writeReports(dir, report);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: BROWSER_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1000, height: 1400 } });
      const errors: string[] = [];
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      page.on('pageerror', (e) => errors.push(e.message));
      const requests: string[] = [];
      page.on('request', (r) => { if (!r.url().startsWith('file:')) requests.push(r.url()); });
      await page.goto(pathToFileURL(join(dir, 'report.html')).href);
      expect(await page.title()).toContain('mnist-mlp.onnx');
      expect(await page.locator('svg').count()).toBeGreaterThanOrEqual(5); // size, latency, accuracy, per-class recall, Pareto
      expect(await page.locator('svg[aria-label="recall change per class"] rect').count()).toBe(10); // one bar per digit
      expect(await page.locator('.verdict').innerText()).toBe(report.verdict.pass ? 'PASS' : 'FAIL');
      const box = await page.locator('svg').first().boundingBox();
      expect(box!.width).toBeGreaterThan(300);
      mkdirSync('test-artifacts', { recursive: true });
      await page.screenshot({ path: 'test-artifacts/report.png', fullPage: true });
      expect(errors).toEqual([]);
      expect(requests).toEqual([]); // self-contained: nothing fetched
    } finally {
      await browser.close();
    }
    expect(statSync('test-artifacts/report.png').size).toBeGreaterThan(10_000);
  });

  it.skipIf(!CHROMIUM)('a gate report (one candidate, no Pareto chart) renders too, FAIL shown as such', async () => {
    const { samples, labels } = digitSamples('image', { from: 8000, count: 200 });
    const original = loadModel(ensureMnistModel());
    const { model } = await compressModel(original, 'm', { target: 'cpu-x86', tolerances: {}, data: { samples, labels, generated: false }, benchRuns: 5, fallback: false });
    const report = await gateModels(original, 'mnist-mlp.onnx', model!, 'mnist-mlp.int8.onnx', { tolerances: { maxSizeRatio: 0.01 }, data: { samples, labels, generated: false }, benchRuns: 5 });
    const dir = mkdtempSync(join(tmpdir(), 'onnxpress-gate-html-'));
    writeReports(dir, report);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: BROWSER_ARGS });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(pathToFileURL(join(dir, 'report.html')).href);
      expect(await page.locator('.verdict').innerText()).toBe('FAIL');
      expect(await page.locator('svg').count()).toBe(4); // size, latency, error per output, recall per class (labels given)
      expect(await page.locator('li.bad').innerText()).toMatch(/maxSizeRatio/);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('JUnit output has one test case per tolerance', () => {
    const xml = renderJunit('s', { pass: false, checks: [{ metric: 'minCosine', limit: 0.99, value: 0.5, pass: false }, { metric: 'maxSizeRatio', limit: 0.3, value: 0.25, pass: true }], failed: [{ metric: 'minCosine', limit: 0.99, value: 0.5, pass: false }] });
    expect(xml).toMatch(/tests="2" failures="1"/);
    expect(xml).toMatch(/<failure message="minCosine &gt;= 0\.990000: 0\.500000"\/>/);
  });
});
