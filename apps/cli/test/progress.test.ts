import { describe, expect, it } from 'vitest';
import { Progress } from '../src/progress.js';

/** A stderr stand-in that keeps what is written; `isTTY` picks the bar or plain lines. */
function stream(isTTY: boolean): NodeJS.WriteStream & { text: string } {
  const target = {
    isTTY,
    text: '',
    write(chunk: string) {
      target.text += chunk;
      return true;
    },
  };
  return target as unknown as NodeJS.WriteStream & { text: string };
}

describe('when the total of a progress is still being counted', () => {
  it('should show the count so far with a "+" and no percentage, bar or ETA, in plain lines', () => {
    const out = stream(false);
    const progress = new Progress({ label: 'lines reranked', total: 0, stream: out, lineIntervalMs: 0 });
    progress.update(0, 0, 'queued', { totalFinal: false });
    progress.update(0, 1200, 'queued', { totalFinal: false });
    progress.update(300, 1200, '50.0 pairs/s');
    expect(out.text.split('\n')).toEqual([
      'lines reranked: 0/0+ queued',
      'lines reranked: 0/1200+ queued',
      expect.stringMatching(/^lines reranked: 300\/1200 25% 50\.0 pairs\/s( eta \d+s)?$/),
      '',
    ]);
    progress.finish();
    expect(out.text).toMatch(/\nlines reranked: 1200\/1200 100% 50\.0 pairs\/s\n$/);
  });

  it('should draw an empty bar on a terminal until the total is final', () => {
    const out = stream(true);
    const progress = new Progress({ label: 'lines reranked', total: 0, stream: out });
    progress.update(0, 40, 'queued', { totalFinal: false });
    expect(out.text).toBe(`\rlines reranked [${'.'.repeat(24)}] 0/40+ queued\x1b[K`);
    progress.finish();
    expect(out.text).toContain(`\rlines reranked [${'#'.repeat(24)}] 40/40 100% queued\n`);
  });
});
