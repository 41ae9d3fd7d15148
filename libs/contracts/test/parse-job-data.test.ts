import { describe, expect, it } from 'vitest';
import { RerankPoolError, parseRerankJobData, parseRerankJobResult } from '../src/index.js';
import type { RerankJobData } from '../src/index.js';

const valid: RerankJobData = {
  v: 1,
  model: 'tiny',
  query: 'q',
  documents: ['a', 'b'],
  options: { truncate: false },
  priority: 'batch',
  tenant: 'default',
  createdAt: 1,
  deadline: 2,
  trace: { traceparent: '00-abc-def-01' },
};

function fieldOf(input: unknown): string | undefined {
  try {
    parseRerankJobData(input);
  } catch (error) {
    expect(error).toBeInstanceOf(RerankPoolError);
    expect((error as RerankPoolError).code).toBe('invalid_request');
    return (error as RerankPoolError).field;
  }
  return undefined;
}

describe('when a job payload is valid', () => {
  it('should return it', () => {
    expect(parseRerankJobData(JSON.parse(JSON.stringify(valid)))).toMatchObject(valid);
  });

  it('should keep reportProgress only when it is true', () => {
    expect(parseRerankJobData({ ...valid, reportProgress: true }).reportProgress).toBe(true);
    expect(parseRerankJobData({ ...valid, reportProgress: 'yes' }).reportProgress).toBeUndefined();
    expect(parseRerankJobData(valid).reportProgress).toBeUndefined();
  });
});

describe('when a job payload is invalid', () => {
  it('should throw an invalid_request error naming the bad field', () => {
    expect(fieldOf(null)).toBe('data');
    expect(fieldOf({ ...valid, v: 2 })).toBe('v');
    expect(fieldOf({ ...valid, query: '' })).toBe('query');
    expect(fieldOf({ ...valid, documents: ['a', 3] })).toBe('documents[1]');
    expect(fieldOf({ ...valid, documents: [] })).toBe('documents');
    expect(fieldOf({ ...valid, priority: 'urgent' })).toBe('priority');
    expect(fieldOf({ ...valid, options: { maxTokensPerDoc: 1.5 } })).toBe('options.maxTokensPerDoc');
    expect(fieldOf({ ...valid, deadline: 'soon' })).toBe('deadline');
    expect(fieldOf({ ...valid, trace: { traceparent: 1 } })).toBe('trace.traceparent');
  });
});

describe('when a job result has the wrong number of scores', () => {
  it('should name the scores field', () => {
    const result = { v: 1, model: 'tiny', scores: [1], logits: [1, 2], inputTokens: 3, timings: { queueMs: 0, inferenceMs: 1 } };
    expect(() => parseRerankJobResult(result, 2)).toThrow('scores must be an array of 2 numbers');
  });
});
