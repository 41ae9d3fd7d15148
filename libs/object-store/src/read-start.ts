/** The validated `start` of a read: a byte offset, 0 by default. */
export function readStart(options: { start?: number } | undefined): number {
  const start = options?.start ?? 0;
  if (!Number.isSafeInteger(start) || start < 0) {
    throw new RangeError(`read option "start" must be a non-negative integer, got ${String(start)}`);
  }
  return start;
}
