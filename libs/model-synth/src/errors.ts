/** Stable codes so callers can branch on the failure without parsing messages. */
export type SynthErrorCode = 'SYNTH_UNKNOWN_PRESET' | 'SYNTH_INVALID_OPTION' | 'SYNTH_INVALID_SHAPE' | 'SYNTH_VOCAB_TOO_SMALL';

export class SynthError extends Error {
  readonly code: SynthErrorCode;

  constructor(code: SynthErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SynthError';
    this.code = code;
  }
}
