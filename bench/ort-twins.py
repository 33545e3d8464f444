# onnxruntime's own static quantizer on a float model, to compare ours against it (this is the
# Python stack onnxpress replaces; nothing in the package or the tests needs it). Run the way
# onnxruntime's docs recommend: quant_pre_process (shape inference + graph optimization), then
# quantize_static in QDQ format with MinMax calibration.
#
#   python3 bench/ort-twins.py float.onnx CALIBRATION_DIR out.onnx [pc-s8|pc-u8|pt-s8|pt-u8]
#
# CALIBRATION_DIR: the .npy inputs ours calibrated on (twins.bench.ts --dump-calibration=DIR):
# NNN.npy for a one-input model, <input name>/NNN.npy for several.
# Variant: pc = per-channel weights, pt = per-tensor; s8/u8 = int8/uint8 activations (weights int8).
# Per-channel needs opset >= 13 (onnxruntime writes an invalid model below it), so older models are
# first converted with onnx's version converter, as a user would have to.
import atexit
import glob
import os
import shutil
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import version_converter
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

src, calibration_dir, out = (os.path.abspath(p) for p in sys.argv[1:4])
variant = sys.argv[4] if len(sys.argv) > 4 else 'pc-s8'
per_channel = variant.startswith('pc')
# quant_pre_process leaves scratch files in the working directory: give it one of its own.
# Removed on every exit, a failed run's included.
work = tempfile.mkdtemp()
atexit.register(shutil.rmtree, work, True)
os.chdir(work)
tmp = os.path.join(work, 'model')

model = onnx.load(src)
opset = next(o.version for o in model.opset_import if o.domain in ('', 'ai.onnx'))
if per_channel and opset < 13:
    onnx.save(version_converter.convert_version(model, 13), tmp + '.op13.onnx')
    src = tmp + '.op13.onnx'

# DIR/NNN.npy for a one-input model, DIR/<input name>/NNN.npy for several.
input_names = [i.name for i in ort.InferenceSession(src, providers=['CPUExecutionProvider']).get_inputs()]
folders = {name: os.path.join(calibration_dir, name) for name in input_names} if len(input_names) > 1 else {input_names[0]: calibration_dir}
files = {name: sorted(glob.glob(os.path.join(d, '*.npy'))) for name, d in folders.items()}
if not all(files.values()):
    sys.exit(f'{calibration_dir}: no .npy calibration inputs for {[n for n, f in files.items() if not f]}')


class Reader(CalibrationDataReader):
    def __init__(self):
        self.at = 0

    def get_next(self):
        if self.at >= min(len(f) for f in files.values()):
            return None
        self.at += 1
        return {name: np.load(f[self.at - 1]) for name, f in files.items()}


try:
    quant_pre_process(src, tmp + '.pre.onnx')
except Exception as err:  # symbolic shape inference gives up on some exports
    print(f'quant_pre_process without symbolic shapes ({(str(err).splitlines() or [type(err).__name__])[0]})')
    quant_pre_process(src, tmp + '.pre.onnx', skip_symbolic_shape=True)
activations = QuantType.QUInt8 if variant.endswith('u8') else QuantType.QInt8
quantize_static(tmp + '.pre.onnx', out, Reader(), quant_format=QuantFormat.QDQ, per_channel=per_channel,
                activation_type=activations, weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax)
print(out)
