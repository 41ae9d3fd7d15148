/**
 * Waits for `work` at most `ms`: 'done' when it settled in time (its rejection passes through),
 * 'timeout' otherwise. For bounding waits on Redis, which by design retries for ever.
 */
export async function within(work: Promise<unknown>, ms: number): Promise<'done' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(resolve, ms, 'timeout');
    timer.unref();
  });
  try {
    return await Promise.race([work.then(() => 'done' as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** `work`'s result, or the error `timedOut()` makes when it takes longer than `ms` (its late outcome is dropped). */
export async function beforeTimeout<T>(work: Promise<T>, ms: number, timedOut: () => Error): Promise<T> {
  if ((await within(work, ms)) === 'timeout') {
    work.catch(() => undefined);
    throw timedOut();
  }
  return work;
}
