import { describe, expect, it } from 'vitest';
import { queueNameForModel } from '../src/index.js';

describe('when naming a queue for a model id', () => {
  it('should produce a name without ":" and keep distinct models apart', () => {
    const names = ['cross-encoder/ms-marco-MiniLM-L-6-v2', 'cross-encoder_ms-marco-MiniLM-L-6-v2', 'a:b', 'minilm-l6'].map(queueNameForModel);
    for (const name of names) expect(name).not.toContain(':');
    expect(new Set(names).size).toBe(names.length);
    expect(queueNameForModel('cross-encoder/ms-marco-MiniLM-L-6-v2')).toBe('rerank-cross-encoder%2Fms-marco-MiniLM-L-6-v2');
  });
});
