// What an integer kernel costs next to its float twin, from the op's attributes and the
// concrete sizes it runs at. onnxruntime's QLinearConv for depthwise layers walks an
// indirection buffer that points padded taps at a zero row, so it multiplies every tap of
// the kernel; its float NCHWc depthwise kernel skips the taps that fall outside the map.
// On maps short next to the kernel (a 5x5 on a 2- or 3-row map, as in text classifiers)
// most taps are padding, and the integer layer measured 2-5x slower than float (PP-OCR
// classifier, one thread, x86); on maps many kernels tall the two cost the same. And
// quantizing a float input costs per element, which a conv with few MACs per element
// (a first conv on an image) cannot win back.
import type { Graph, Node } from '../ir/graph.js';
import type { ShapeMap } from '../ir/shapes.js';
import { DataType } from '../ir/dtype.js';
import { tensorType } from '../ir/graph.js';
import { inferShapes, nodeMacs } from '../ir/shapes.js';
import type { Sample } from '../runtime/samples.js';

/**
 * Below this share of kernel taps inside the map an int8 depthwise conv is slower than
 * float plus the conversions around it. Measured: at 0.4-0.6 (5x5 on 2-3 rows) int8 ran
 * 2.3-5x slower; at 0.9 and above (3x3 on maps of 6 rows or more) it ran as fast.
 */
export const MIN_VALID_TAP_SHARE = 0.75;

/**
 * An int8 conv gains per multiply-accumulate; quantizing a graph input costs per element (a
 * QuantizeLinear pass over the raw input, and onnxruntime's transpose of it to NHWC for its
 * integer kernels). A first conv reading an image has few channels in, so few MACs per
 * element: below this many the conversion costs more than int8 saves. Measured (one thread,
 * interleaved, two runs): with their first conv in float the PP-OCR classifier went 0.96x ->
 * 1.01x and 0.97x -> 1.01x of float speed (18 MACs per input element), the recognizer
 * 1.56x -> 1.61x and 1.62x -> 1.68x, the detector 1.45x -> 1.47x and 1.37x -> 1.39x (both 36
 * MACs per element). Not for every float tensor: one op left float leaves the next op's
 * input float too, and that cascade at this threshold measured no faster while keeping float
 * weights (detector 3.56x -> 3.21x smaller); the stem threshold below is lower.
 */
export const MIN_MACS_PER_QUANTIZED_ELEMENT = 48;

/**
 * The same inside a float stem (tensors computed from graph inputs by ops all left in float):
 * the layers right after a float first conv are the widest maps with the fewest channels.
 * Lower than for the input itself, so that the stem ends at the first layer with real work
 * per element. Measured with it (one thread, interleaved): the PP-OCR classifier's 8-channel
 * 1x1 and 3x3 depthwise after its first conv (8 and 4.5 MACs per element) went to float,
 * 1.01x -> 1.06x of float speed, and 0.99x -> 1.03x in another run; the detector 1.50x ->
 * 1.53x, the recognizer 1.65x -> 1.64x (noise), both files no larger.
 */
export const MIN_MACS_PER_QUANTIZED_STEM_ELEMENT = 16;

/**
 * The same for a MatMul or Gemm with a constant weight. At batch 1 it reads each weight once,
 * so it is bound by the bytes it reads, not by its multiplies: int8 reads a quarter of the
 * float weights' bytes, and quantizing the input costs a float read and a byte write per
 * element. MACs per input element are then the output width N: at N = 1 int8 loses (4 bytes
 * float against 1 + 5), from a few it wins. Measured (one thread, interleaved): the PyTorch
 * MNIST CNN's Gemm (N = 10) behind a float conv, held back by the stem threshold, in int8
 * went 0.93x -> 1.23x of float speed (onnxruntime's own quantizer, which does the same: 1.08x).
 */
export const MIN_MACS_PER_QUANTIZED_GEMM_ELEMENT = 4;

/**
 * A conv reading a graph input or the float stem whose reduction per output (input channels
 * per group x kernel taps) is shallower than this stays float even when it has many output
 * channels: int8 pays a requantization and onnxruntime's NHWC transposes per output element,
 * which a reduction this short cannot win back, while the float kernel has neither.
 * Measured (one thread, interleaved): the PyTorch MNIST CNN's 1-channel 3x3 first conv
 * (depth 9, 32 outputs, 288 MACs per input element) in float: 0.93x -> 1.23x of float speed.
 */
export const MIN_REDUCTION_DEPTH = 16;

/**
 * A conv reading fewer input channels than this (a first conv on a grey or RGB image) stays
 * float unless it has MIN_NARROW_INPUT_OUTPUTS output channels or more. onnxruntime's float
 * kernel reads such an NCHW input directly, while its
 * int8 one unrolls every pixel's few taps into a short GEMM and requantizes each output, so
 * depth alone does not decide it. Measured (one thread, built Conv -> Relu -> Conv 3x3 chains,
 * whole-chain medians with the first conv in int8 over the same chain with it in float):
 * 1 channel 5x5 into 8 or 32 outputs 1.25-1.44x slower, 1 channel 7x7 into 16 1.48x, 2 or 3
 * channels 3x3 into 16 1.19-1.25x, 3 channels 3x3 into 32 1.07x, 3 channels 5x5 into 24 1.00x;
 * with 64 outputs int8 won (3x3: 0.89x, 7x7 stride 2: 0.92x), as it did with 4 channels in
 * (3x3 into 16: 0.95x). The ONNX MNIST CNN (1 channel 5x5 into 8) and CIFAR ResNet-20 (3x3
 * into 16) ran their int8 first conv 3x slower than float (per-node profile).
 */
export const MIN_NARROW_INPUT_CHANNELS = 4;
export const MIN_NARROW_INPUT_OUTPUTS = 64;

/**
 * onnxruntime-web's WebAssembly kernels (placement 'wasm'): its int8 GEMM has no fast 8-bit
 * dot product to lean on, so int8 pays only where a conv reduces deep. Measured per layer in
 * onnxruntime-web 1.30 (one thread; PP-OCR recognizer and classifier): every depthwise
 * QLinearConv ran 4.5-7.5x slower than the float depthwise conv (3x3 and 5x5 alike), a 1x1
 * conv with 8-32 input channels 1.1-2.8x slower, with 64-480 0.40-0.80x of float.
 */
export const WASM_MIN_REDUCTION_DEPTH = 64;

/** Why a Conv stays float under the wasm placement, or undefined when int8 pays there. */
export function slowInWasm(graph: Graph, node: Node): string | undefined {
  if (node.opType !== 'Conv') return undefined;
  if (isDepthwise(graph, node)) return "depthwise: onnxruntime-web's WebAssembly int8 depthwise kernel is slower than its float one (measured 4.5-7.5x): kept in float";
  const depth = reductionDepth(graph, node);
  return depth !== undefined && depth < WASM_MIN_REDUCTION_DEPTH ? `reduction of ${depth} multiplies per output is too short for onnxruntime-web's WebAssembly int8 kernel to beat float (measured 1.1-2.8x slower below ${WASM_MIN_REDUCTION_DEPTH}): kept in float` : undefined;
}

/**
 * The reduction depth (input channels per group x kernel taps) of a non-depthwise Conv with
 * a constant weight when it is below MIN_REDUCTION_DEPTH on an output of more than `small`
 * elements (the costs are per output element; a squeeze-excite conv on a 1x1 map pays
 * little); otherwise undefined.
 */
export function shallowReduction(graph: Graph, node: Node, shapes: ShapeMap, small: number): number | undefined {
  if (node.opType !== 'Conv' || isDepthwise(graph, node)) return undefined;
  const depth = reductionDepth(graph, node);
  const elements = elementCount(node.outputs.slice(0, 1), shapes);
  return depth !== undefined && depth < MIN_REDUCTION_DEPTH && elements !== undefined && elements > small ? depth : undefined;
}

/**
 * A non-depthwise 2-D Conv with a constant weight reading fewer than MIN_NARROW_INPUT_CHANNELS
 * channels per group into fewer than MIN_NARROW_INPUT_OUTPUTS: its [input channels, output
 * channels]; otherwise undefined. No size exemption: the Keras MNIST CNN's 1-channel 3x3 into 4
 * (3,136 outputs) ran 3x slower in int8 (31 us against 10), and the squeeze-excite convs that
 * other rules exempt for their 1x1 maps read more channels than this. 2-D only: a 1-D conv on
 * 3 channels of audio (k 7 into 32) measured faster in int8, 1.02-1.26x slower left float.
 * The CPU's kernels only: onnxruntime-web's have their own threshold (slowInWasm), and a 3x7x7
 * stem into 32 kept float there ran 1.13-1.18x slower.
 */
export function narrowInput(graph: Graph, node: Node): [number, number] | undefined {
  if (node.opType !== 'Conv' || isDepthwise(graph, node)) return undefined;
  const w = graph.findInitializer(node.inputs[1] ?? '');
  if (!w || w.dims.length !== 4) return undefined;
  const [outputs, inputs] = [w.dims[0]!, w.dims[1]!];
  return inputs < MIN_NARROW_INPUT_CHANNELS && outputs < MIN_NARROW_INPUT_OUTPUTS ? [inputs, outputs] : undefined;
}

/** Input channels per group x kernel taps of a Conv with a constant weight; undefined otherwise. */
function reductionDepth(graph: Graph, node: Node): number | undefined {
  const w = graph.findInitializer(node.inputs[1] ?? '');
  return w && w.dims.length >= 3 ? w.dims.slice(1).reduce((a, b) => a * b, 1) : undefined;
}

function elementCount(names: string[], shapes: ShapeMap): number | undefined {
  let elements = 0;
  for (const name of names) {
    const dims = shapes.get(name)?.dims;
    if (!dims || !dims.every((d) => typeof d === 'number')) return undefined;
    elements += (dims as number[]).reduce((a, b) => a * b, 1);
  }
  return elements;
}

/**
 * Whether quantizing `converted` (float inputs of a weighted op, not quantized yet) costs
 * more than the op's int8 kernel saves: fewer than `least` MACs per converted element.
 * Conversions of `small` elements or fewer count as free; unknown sizes give false.
 */
export function tooFewMacsToQuantize(node: Node, converted: string[], shapes: ShapeMap, small: number, least: number): boolean {
  const elements = elementCount(converted, shapes);
  if (elements === undefined || elements <= small) return false;
  const macs = nodeMacs(node, shapes);
  return macs !== undefined && macs / elements < least;
}

/** A grouped Conv with one input channel per group and a constant weight. */
export function isDepthwise(graph: Graph, node: Node): boolean {
  if (node.opType !== 'Conv') return false;
  const w = graph.findInitializer(node.inputs[1] ?? '');
  return !!w && w.dims.length >= 3 && node.getInt('group', 1) > 1 && w.dims[1] === 1;
}

/**
 * The share of a conv's kernel taps that land inside its input map (1 without padding),
 * from the input and output spatial sizes; undefined when a size is not known.
 */
export function validTapShare(node: Node, kernel: number[], inDims: readonly unknown[] | undefined, outDims: readonly unknown[] | undefined): number | undefined {
  const spatial = kernel.length;
  if (!inDims || !outDims || inDims.length !== spatial + 2 || outDims.length !== spatial + 2) return undefined;
  const strides = node.getInts('strides') ?? [];
  const dilations = node.getInts('dilations') ?? [];
  const pads = node.getInts('pads') ?? [];
  const autoPad = node.getString('auto_pad', 'NOTSET');
  let share = 1;
  for (let a = 0; a < spatial; a++) {
    const size = inDims[a + 2], out = outDims[a + 2];
    if (typeof size !== 'number' || typeof out !== 'number') return undefined;
    const k = kernel[a]!, s = strides[a] ?? 1, d = dilations[a] ?? 1;
    let begin = pads[a] ?? 0;
    if (autoPad === 'VALID') begin = 0;
    else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const total = Math.max(0, (out - 1) * s + (k - 1) * d + 1 - size);
      begin = autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2);
    }
    let valid = 0;
    for (let o = 0; o < out; o++) {
      for (let t = 0; t < k; t++) {
        const at = o * s - begin + t * d;
        if (at >= 0 && at < size) valid++;
      }
    }
    share *= valid / (out * k);
  }
  return share;
}

/** Whether a depthwise conv's integer kernel would spend most of its work on padding. */
export function depthwiseMostlyPadding(graph: Graph, node: Node, shapes: ShapeMap): boolean {
  if (!isDepthwise(graph, node)) return false;
  const kernel = graph.findInitializer(node.inputs[1]!)!.dims.slice(2);
  const share = validTapShare(node, kernel, shapes.get(node.inputs[0]!)?.dims, shapes.get(node.outputs[0] ?? '')?.dims);
  return share !== undefined && share < MIN_VALID_TAP_SHARE;
}

/**
 * Shapes at the size of one sample: a model with symbolic spatial dims (text models take
 * any width) only tells its kernels' real sizes at the inputs it will run on.
 */
export function shapesAtSample(graph: Graph, sample: Sample | undefined): ShapeMap {
  if (!sample) return inferShapes(graph);
  const declared = graph.inputs;
  graph.inputs = declared.map((v) => {
    const t = sample[v.name];
    const elem = v.type?.tensor_type?.elem_type ?? DataType.FLOAT;
    return t ? { ...v, type: tensorType(elem, t.dims) } : v;
  });
  try {
    return inferShapes(graph);
  } finally {
    graph.inputs = declared;
  }
}
