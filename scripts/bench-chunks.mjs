#!/usr/bin/env node
// What max_chunks_per_doc costs: one workload of long documents scored through the worker's own
// path (pool threads tokenize, the shared DynamicBatcher batches, onnxruntime runs), as
// truncation (1 chunk) and with 2, 4 and 8 chunks per document, side by side in one run.
// No HTTP or Redis: their cost per request does not change with chunks.
//
//   node scripts/bench-chunks.mjs [--preset tinybert-l2|minilm-l6] [--requests N] [--docs N] [--words N]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamicBatcher } from '@rerank-pool/batcher';
import { documentScores, InferencePool } from '@rerank-pool/model-runtime';
import { createRng, synthesizeModel, syntheticText } from '@rerank-pool/model-synth';

const { values } = parseArgs({
  options: {
    preset: { type: 'string', default: 'tinybert-l2' },
    requests: { type: 'string', default: '12' },
    docs: { type: 'string', default: '20' },
    words: { type: 'string', default: '1500' },
    threads: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
  },
});
const requests = Number(values.requests);
const docs = Number(values.docs);
const rng = createRng(11);
const workload = Array.from({ length: requests }, (_, r) => ({
  query: `query ${r} ${syntheticText(rng, 8)}`,
  // Mostly long documents (about words × 1.3 tokens), a few that fit.
  documents: Array.from({ length: docs }, (_, d) => syntheticText(rng, d % 5 === 0 ? 60 : Number(values.words))),
}));

const root = await mkdtemp(join(tmpdir(), 'rp-bench-chunks-'));
const modelDir = join(root, values.preset);
await synthesizeModel({ preset: values.preset, outDir: modelDir, seed: 1 });
const pool = await InferencePool.open({ modelDir, threads: Number(values.threads) });
const batcher = new DynamicBatcher((rows) => pool.infer(rows), { maxBatchTokens: 2048, maxWaitMs: 5, maxInflight: Number(values.threads) });

async function run(maxChunksPerDoc) {
  let rows = 0;
  let tokens = 0;
  const latencies = [];
  const started = performance.now();
  // Requests all in flight at once, as a worker holds several jobs.
  await Promise.all(
    workload.map(async ({ query, documents }) => {
      const t0 = performance.now();
      const encoded = await pool.encode(query, documents, { maxChunksPerDoc });
      const logits = await batcher.submit(encoded);
      documentScores(encoded, logits, pool.model.numLabels);
      latencies.push(performance.now() - t0);
      rows += encoded.count;
      tokens += encoded.offsets[encoded.count] - encoded.offsets[0];
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    max_chunks_per_doc: maxChunksPerDoc,
    pairs: rows,
    tokens,
    seconds: +seconds.toFixed(2),
    pairs_per_s: +(rows / seconds).toFixed(1),
    documents_per_s: +((requests * docs) / seconds).toFixed(1),
    request_p50_ms: Math.round(latencies[Math.floor(latencies.length / 2)]),
  };
}

try {
  await run(1); // warm-up
  // Settings alternate round by round and each reports its median round: a shared machine's
  // speed drifts by tens of percent over a minute.
  const settings = [1, 2, 4, 8];
  const rounds = settings.map(() => []);
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const [i, chunks] of settings.entries()) rounds[i].push(await run(chunks));
  }
  const results = rounds.map((list) => list.sort((a, b) => a.seconds - b.seconds)[Math.floor(list.length / 2)]);
  const base = results[0];
  console.log(`preset ${values.preset}, ${requests} requests x ${docs} documents (4 in 5 of ~${values.words} words), ${values.threads} threads, median of ${values.rounds} rounds`);
  for (const r of results) {
    console.log(
      `max_chunks_per_doc ${r.max_chunks_per_doc}: ${r.pairs} pairs (${(r.pairs / base.pairs).toFixed(2)}x), ${r.pairs_per_s} pairs/s, ` +
        `${r.documents_per_s} documents/s (${(base.documents_per_s / r.documents_per_s).toFixed(2)}x the time), request p50 ${r.request_p50_ms} ms`,
    );
  }
} finally {
  await batcher.close();
  await pool.close();
  await rm(root, { recursive: true, force: true });
}
