/**
 * How weights are stored. The default is chosen by measurement (README, "int8 models"); the
 * others stay selectable so the measurement can be repeated on other CPUs.
 */
export interface WeightFormat {
  /** int8 (s8) or uint8 (u8) weight elements. */
  type: 'int8' | 'uint8';
  /** Zero point in the middle of the range (0 for int8, 128 for uint8) instead of fitted to min/max. */
  symmetric: boolean;
  /** Use 7 bits of the range, which keeps AVX2's u8 x s8 pairwise sums from saturating int16. */
  reduceRange: boolean;
  /** One scale and zero point per output column instead of one for the whole matrix. */
  perChannel: boolean;
}

export const DEFAULT_WEIGHT_FORMAT: Readonly<WeightFormat> = Object.freeze({
  type: 'int8',
  symmetric: true,
  reduceRange: false,
  perChannel: true,
});

/** The Hub's file naming: `onnx/model_<variant>.onnx`. */
export function defaultVariant(format: WeightFormat): string {
  return format.type === 'uint8' ? 'quint8_avx2' : 'quantized';
}
