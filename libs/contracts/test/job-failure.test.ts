import { describe, expect, it } from 'vitest';
import { Errors, decodeJobFailure, encodeJobFailure } from '../src/index.js';

describe('when a worker error crosses Redis as a failedReason', () => {
  it('should come back with its code, status, message and field', () => {
    const reason = encodeJobFailure(Errors.inputTooLong('documents[2] has 700 tokens, the model takes 512', 'documents[2]'));
    const error = decodeJobFailure(reason, 'job-1');
    expect(error.code).toBe('input_too_long');
    expect(error.statusCode).toBe(413);
    expect(error.field).toBe('documents[2]');
    expect(error.message).toBe('documents[2] has 700 tokens, the model takes 512');
    expect(error.jobId).toBe('job-1');
  });

  it('should turn an unrecognised reason into an internal error that keeps it', () => {
    const error = decodeJobFailure('Segmentation fault in session.run', 'job-2');
    expect(error.code).toBe('internal');
    expect(error.statusCode).toBe(500);
    expect(error.message).toContain('Segmentation fault in session.run');
  });
});
