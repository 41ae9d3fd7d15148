import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, resolveModelAliases } from '../src/index.js';

const SERVED = ['cross-encoder/ms-marco-MiniLM-L-6-v2', 'BAAI/bge-reranker-base'];

function problemsOf(action: () => unknown): readonly string[] {
  try {
    action();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('when RERANK_MODEL_ALIASES is read', () => {
  it('should default to no aliases', () => {
    expect(loadConfig({}).rerankModelAliases).toBeUndefined();
    expect(resolveModelAliases(undefined, SERVED)).toEqual(new Map());
  });

  it('should parse alias=model entries, trimmed, in order', () => {
    const config = loadConfig({ RERANK_MODEL_ALIASES: ' rerank-english-v2.0 = cross-encoder/ms-marco-MiniLM-L-6-v2 ,rerank-v3.5=BAAI/bge-reranker-base' });
    expect(config.rerankModelAliases).toEqual([
      { alias: 'rerank-english-v2.0', model: 'cross-encoder/ms-marco-MiniLM-L-6-v2' },
      { alias: 'rerank-v3.5', model: 'BAAI/bge-reranker-base' },
    ]);
  });

  it('should name the variable and the entry that is not alias=model', () => {
    for (const raw of ['rerank-v3.5', '=model', 'alias=', 'a=b=c']) {
      const entry = raw.split(',').at(-1)!;
      expect(problemsOf(() => loadConfig({ RERANK_MODEL_ALIASES: raw }))).toEqual([
        `RERANK_MODEL_ALIASES must be a comma list of alias=model entries; entry ${JSON.stringify(entry)} is not`,
      ]);
    }
    expect(problemsOf(() => loadConfig({ RERANK_MODEL_ALIASES: 'a=m,,b=m' }))[0]).toMatch(/^RERANK_MODEL_ALIASES must be a comma-separated list without empty entries/);
  });

  it('should refuse an alias given twice, naming the second entry', () => {
    expect(problemsOf(() => loadConfig({ RERANK_MODEL_ALIASES: 'rerank-v3.5=m1,rerank-v3.5=m2' }))).toEqual([
      'RERANK_MODEL_ALIASES must name each alias once; entry "rerank-v3.5=m2" names "rerank-v3.5" again',
    ]);
  });

  it('should refuse a model aliased to itself', () => {
    expect(problemsOf(() => loadConfig({ RERANK_MODEL_ALIASES: 'm=m' }))).toEqual(['RERANK_MODEL_ALIASES must not alias a model to itself; entry "m=m" does']);
  });
});

describe('when aliases are checked against the served models', () => {
  it('should map each alias to its served target', () => {
    const aliases = loadConfig({ RERANK_MODEL_ALIASES: 'rerank-english-v2.0=BAAI/bge-reranker-base' }).rerankModelAliases;
    expect(resolveModelAliases(aliases, SERVED)).toEqual(new Map([['rerank-english-v2.0', 'BAAI/bge-reranker-base']]));
  });

  it('should name every entry whose target is not served or whose alias hides a served id', () => {
    const aliases = loadConfig({
      RERANK_MODEL_ALIASES: 'rerank-v3.5=cross-encoder/missing,BAAI/bge-reranker-base=cross-encoder/ms-marco-MiniLM-L-6-v2,ok=BAAI/bge-reranker-base',
    }).rerankModelAliases;
    const served = 'served: cross-encoder/ms-marco-MiniLM-L-6-v2, BAAI/bge-reranker-base';
    expect(problemsOf(() => resolveModelAliases(aliases, SERVED))).toEqual([
      `RERANK_MODEL_ALIASES entry "rerank-v3.5=cross-encoder/missing": "cross-encoder/missing" is not a served model id (${served})`,
      `RERANK_MODEL_ALIASES entry "BAAI/bge-reranker-base=cross-encoder/ms-marco-MiniLM-L-6-v2": the alias is a served model id and would hide it (${served})`,
    ]);
  });
});
