import { describe, expect, it } from 'vitest';
import { lineQueueNameForModel, queueNameForModel, webhookQueueNameForModel } from '../src/index.js';

/** A Redis Cluster hashes only the part of a key between the first '{' and the next '}'. */
function hashTag(key: string): string {
  const open = key.indexOf('{');
  const close = key.indexOf('}', open + 1);
  return open >= 0 && close > open + 1 ? key.slice(open + 1, close) : key;
}

describe('when naming a queue for a model id', () => {
  it('should produce a name without ":" and keep distinct models apart', () => {
    const names = ['cross-encoder/ms-marco-MiniLM-L-6-v2', 'cross-encoder_ms-marco-MiniLM-L-6-v2', 'a:b', 'a}b', '{x}', 'minilm-l6'].map(queueNameForModel);
    for (const name of names) expect(name).not.toContain(':');
    expect(new Set(names).size).toBe(names.length);
    expect(queueNameForModel('cross-encoder/ms-marco-MiniLM-L-6-v2')).toBe('rerank-{cross-encoder%2Fms-marco-MiniLM-L-6-v2}');
  });

  it('should give a model its own hash tag, shared by its rerank, batch line and webhook queues, even for ids with braces', () => {
    for (const model of ['org/m', 'a}b', '{x}', 'm{1}']) {
      const tag = hashTag(`rerank-pool:${queueNameForModel(model)}:wait`);
      expect(tag).toBe(encodeURIComponent(model));
      expect(hashTag(`rerank-pool:${webhookQueueNameForModel(model)}:wait`)).toBe(tag);
      expect(hashTag(`rerank-pool:${lineQueueNameForModel(model)}:wait`)).toBe(tag);
      expect(lineQueueNameForModel(model)).not.toBe(queueNameForModel(model));
    }
    expect(hashTag(`p:${queueNameForModel('a')}:x`)).not.toBe(hashTag(`p:${queueNameForModel('b')}:x`));
  });
});
