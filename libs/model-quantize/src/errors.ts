/** Stable codes so callers can branch on the failure without parsing messages. */
export type QuantizeErrorCode =
  | 'QUANTIZE_MODEL_DIR_MISSING'
  | 'QUANTIZE_ONNX_MISSING'
  | 'QUANTIZE_ONNX_MALFORMED'
  | 'QUANTIZE_ONNX_UNSUPPORTED'
  | 'QUANTIZE_NOTHING_TO_QUANTIZE'
  | 'QUANTIZE_INVALID_OPTION';

export class QuantizeError extends Error {
  readonly code: QuantizeErrorCode;

  constructor(code: QuantizeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'QuantizeError';
    this.code = code;
  }
}
