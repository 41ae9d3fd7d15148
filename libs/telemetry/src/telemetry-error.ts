export type TelemetryErrorCode = 'TELEMETRY_INVALID_OPTION' | 'TELEMETRY_ALREADY_STARTED';

/** The one error class of this library; `code` is stable, the message names the field at fault. */
export class TelemetryError extends Error {
  readonly code: TelemetryErrorCode;

  constructor(code: TelemetryErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TelemetryError';
    this.code = code;
  }
}
