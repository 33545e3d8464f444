// Opset conversion of the default ONNX domain: the public face of src/convert/opset.
export { convertOpset, tryConvertOpset, refusalMessage, describeRefusals, MAX_OPSET, type OpsetConversion, type Refusal } from './driver.js';
export type { Adapter } from './adapter.js';
export { ADAPTERS } from './adapters/index.js';
