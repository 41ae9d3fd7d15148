export { SynthError, type SynthErrorCode } from './errors.js';
export { SYNTH_PRESETS, countBertParameters, type BertShape, type SynthPresetName } from './presets.js';
export { createRng } from './random.js';
export { synthesizeModel, type SynthesizeOptions, type SynthesizedModel } from './synthesize.js';
export { syntheticText } from './synthetic-text.js';
export { encodeNode, encodeTensor, type AttributeSpec, type DataTypeName, type NodeSpec, type TensorSpec } from './onnx-proto.js';
export { ProtoWriter } from './protobuf-writer.js';
