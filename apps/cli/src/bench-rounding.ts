/** Rounds a measured number for the bench report (1 decimal for rates, more for ratios). */
export function round(value: number, digits = 1): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
