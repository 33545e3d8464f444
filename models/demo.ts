// `npm run demo`: builds the example MNIST model and a folder of real digits (if missing),
// then runs the main job on them exactly as a user would type it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { exportMnistDigits } from './export-mnist-digits.js';
import { DEFAULT_MODEL_PATH, TRAIN_COUNT, ensureMnistModel } from './train-mnist.js';

const DIGITS = 'models/build/mnist-digits';

ensureMnistModel(DEFAULT_MODEL_PATH, (s) => console.log(s));
// Digits the model never saw in training: compress calibrates on the first part, scores on the rest.
if (!existsSync(`${DIGITS}/labels.json`)) exportMnistDigits(DIGITS, { offset: TRAIN_COUNT, count: 2000 });
const args = ['compress', DEFAULT_MODEL_PATH, '-o', 'models/build/mnist-mlp.cpu-x86.onnx', '--target', 'cpu-x86', '--data', DIGITS, '--samples', '2000', '--max-accuracy-drop', '0.5', '--max-size-ratio', '0.2857', '--report', 'models/build/report'];
console.log(`\n$ npx onnxpress ${args.join(' ')}\n`);
const r = spawnSync(process.execPath, ['bin/onnxpress.js', ...args], { stdio: 'inherit' });
process.exit(r.status ?? 1);
