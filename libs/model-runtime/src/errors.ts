/**
 * Error catalogue of the model runtime. Every error carries a stable `code` so callers
 * (the worker, the CLI, the API's error handler) can branch on it without parsing text.
 */
export type ModelRuntimeErrorCode =
  | 'MODEL_DIR_MISSING'
  | 'MODEL_FILE_MISSING'
  | 'MODEL_FILE_MALFORMED'
  | 'MODEL_ONNX_INVALID'
  | 'MODEL_INPUTS_UNSUPPORTED'
  | 'MODEL_OUTPUT_UNSUPPORTED'
  | 'INPUT_TOO_LONG'
  | 'INVALID_OPTION'
  | 'POOL_CLOSED';

export class ModelRuntimeError extends Error {
  readonly code: ModelRuntimeErrorCode;

  constructor(code: ModelRuntimeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelRuntimeError';
    this.code = code;
  }
}

/** Errors cross the thread boundary as plain data; this is their wire form. */
export interface SerializedRuntimeError {
  code: ModelRuntimeErrorCode;
  message: string;
}

export function serializeRuntimeError(error: unknown): SerializedRuntimeError {
  if (error instanceof ModelRuntimeError) return { code: error.code, message: error.message };
  throw error;
}

export function isSerializedRuntimeError(value: unknown): value is SerializedRuntimeError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as SerializedRuntimeError).code === 'string' &&
    typeof (value as SerializedRuntimeError).message === 'string'
  );
}

export function reviveRuntimeError(error: SerializedRuntimeError): ModelRuntimeError {
  return new ModelRuntimeError(error.code, error.message);
}
