import { afterEach, describe, expect, it } from 'vitest';
import { batchFixture, requestLine, scoreOf } from './support/batch-fixture.js';
import type { BatchFixture } from './support/batch-fixture.js';

let fixture: BatchFixture;

afterEach(async () => {
  await fixture.close();
});

function expectExact(results: any[], count: number, failing: (n: number) => boolean = () => false) {
  expect(results).toHaveLength(count);
  results.forEach((line, n) => {
    expect(line.index).toBe(n);
    expect(line.id).toBe(`line-${n}`);
    if (failing(n)) expect(line.error.code).toBe('input_too_long');
    else expect(line.results).toEqual([{ index: 1, relevance_score: scoreOf(`q${n}`, 1) }, { index: 0, relevance_score: scoreOf(`q${n}`, 0) }]);
  });
}

describe('when a batch larger than its window runs', () => {
  it('should settle every line exactly once and serve the results in input order', async () => {
    fixture = await batchFixture();
    const service = fixture.service({ windowLines: 200, feedChunkLines: 50, resultsPartLines: 80 });
    service.startDriving();
    fixture.worker();
    const lines = Array.from({ length: 3000 }, (_, n) => (n % 97 === 5 ? requestLine(n, { query: 'fail' }) : requestLine(n)));
    const batchId = await fixture.upload(service, lines);
    const state = await fixture.waitFinished(service, batchId);
    const failing = (n: number) => n % 97 === 5;
    const failed = lines.filter((_, n) => failing(n)).length;
    expect(state).toMatchObject({ status: 'completed', total: 3000, completed: 3000 - failed, failed, cancelled: 0 });
    expectExact(await fixture.results(service, batchId), 3000, failing);
  });
});
