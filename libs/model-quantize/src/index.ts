export { QuantizeError, type QuantizeErrorCode } from './errors.js';
export { quantizeModel, type QuantizeOptions, type QuantizeProgress, type QuantizeResult } from './quantize-model.js';
export { DEFAULT_WEIGHT_FORMAT, defaultVariant, type WeightFormat } from './weight-format.js';
